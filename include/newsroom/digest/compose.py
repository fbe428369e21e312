"""A day's stories → the typed :class:`DigestItem` records an editor would publish.

For each story read from the warehouse: who it cites (``attribution``), what it is about and
whether it is on the beat (``relevance``), its headline, what the day added (new outlets, new
figures, a TL;DR drawn from the day's articles first, "first reported 8 April"), its rank
(``ranking``), and the line its entities' timelines show. No SQL, no Markdown: the caller reads
(``newsroom.warehouse.digest_reads``) and renders (``newsroom.digest.notes``).

Same input, same output: every choice ends in a tie-break on ids, and nothing depends on the
order stories or articles were read in.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .attribution import citable, independent_outlets, outlet_name, story_sources
from .figures import EntityForms, key_figures
from .ranking import RankingWeights, StorySignals, rank_stories
from .records import DigestItem, ElsewhereItem, RelatedStory, Source, StoryBundle
from .relevance import story_entities, story_relevance
from .render import plain
from .summarize import SourceText, extractive_summary, one_line, story_category
from .text import normalise, prose, split_sentences, tokens

Summariser = Callable[[str, list[SourceText]], tuple[str | None, str | None]]  # → (summary, error)
RelatedLookup = Callable[[int | None, list[str]], list[RelatedStory]]


@dataclass(frozen=True)
class ComposeOptions:
    top_n: int = 10
    beat_terms: tuple[str, ...] = ()
    beat_source_tags: tuple[str, ...] = ()
    elsewhere: int = 5
    weights: RankingWeights = RankingWeights()


@dataclass
class _Story:
    bundle: StoryBundle
    sources: list[Source]
    item: DigestItem | None = None


def day_label(d: date) -> str:
    return f"{d.day} {d:%B}"


def headline(bundle: StoryBundle, sources: Sequence[Source]) -> str:
    """The most representative original headline: of the cited articles' titles (a Reddit
    post's title only when no article has one), the one sharing most words with the others,
    naming the story's main entities, 4–25 words. The stored story title is the first one
    seen, so it is only a fallback; kickers ("model release") and paragraphs are not headlines."""
    cited = {s.article_id for s in sources}
    arts = sorted((a for a in bundle.articles if a.id in cited and a.title), key=lambda a: (a.at, a.id))
    originals = [a for a in arts if a.origin != "reddit"]
    titles = [prose(a.title).strip() for a in (originals or arts)]
    cands = [t for t in dict.fromkeys(titles) if t]
    if not cands and bundle.title:
        cands = [prose(bundle.title).strip()]
    primary = [e.name.casefold() for e in bundle.entities if e.primary]
    words = {t: set(tokens(t)) for t in cands}
    best, best_key = None, None
    for t in cands:
        if not 4 <= len(t.split()) <= 25:
            continue
        overlap = sum(len(words[t] & words[o]) / max(1, len(words[t] | words[o])) for o in cands if o != t)
        key = (-sum(1 for p in primary if p in t.casefold()), -round(overlap, 9), t)
        if best_key is None or key < best_key:
            best, best_key = t, key
    if best is None:
        best = cands[0] if cands else "Untitled story"
    return plain(best, 200) or "Untitled story"


def _refs(ids: Sequence[int], n_of: dict[int, int]) -> str:
    ns = sorted({n_of[i] for i in ids if i in n_of})
    return "".join(f"[{n}]" for n in ns)


def _article(b: StoryBundle, article_id: int):
    for a in b.articles:
        if a.id == article_id:
            return a
    for copies in b.copies.values():
        for c in copies:
            if c.id == article_id:
                return c
    raise KeyError(article_id)


def _texts(bundle: StoryBundle, sources: Sequence[Source], today_first: bool) -> list[SourceText]:
    """The cited pages' texts in citation order (the day's first, for a continuing story)."""
    order = sorted(sources, key=lambda s: (today_first and not s.new, s.n))
    return [SourceText(a.id, a.title, a.text, a.description) for a in (_article(bundle, s.article_id) for s in order)]


def _tldr(bundle: StoryBundle, sources: Sequence[Source], primary_names: list[str], continuing: bool):
    """(TL;DR with inline [n] references, plain TL;DR, article ids of its sentences). A continuing
    story's TL;DR is drawn from the day's articles when they say anything usable."""
    n_of = {s.article_id: s.n for s in sources}
    texts = _texts(bundle, sources, continuing)
    summary = None
    if continuing:
        new_ids = {s.article_id for s in sources if s.new}
        summary = extractive_summary([t for t in texts if t.article_id in new_ids], primary_names)
    if summary is None or not summary.sentences:
        summary = extractive_summary(texts, primary_names)
    parts = []
    for sentence, ids in zip(summary.sentences, summary.support or [[i] for i in summary.article_ids]):
        refs = _refs(ids, n_of)
        m = re.search(r"[.!?…]+[\"'”’)]*$", sentence)
        body, end = (sentence[: m.start()], sentence[m.start():]) if m and refs else (sentence, "")
        parts.append({"text": body, "refs": refs, "end": end})  # "… Labs [3]." as in a bylined piece
    return parts, summary.text


def compose_day(
    bundles: Sequence[StoryBundle],
    window: tuple[datetime, datetime],
    tz: ZoneInfo,
    options: ComposeOptions,
    *,
    summarise: Summariser | None = None,
    related: RelatedLookup | None = None,
) -> tuple[list[DigestItem], list[ElsewhereItem], dict]:
    """Rank, summarise and attribute the day's stories. Returns (ranked on-beat items,
    off-beat "Elsewhere" items, counts)."""
    stories: list[_Story] = []
    counts: dict = {"uncitable": 0, "off_beat": 0, "summaries": defaultdict(int), "llm_errors": defaultdict(int)}
    for b in bundles:
        sources = story_sources(b, window)
        if not sources:
            counts["uncitable"] += 1  # every page of it was empty: nothing to cite, nothing to say
            continue
        cited = {i for s in sources for i in s.member_ids}
        b.entities = story_entities([a for a in b.articles if a.id in cited and citable(a)] or b.articles, b.tags)
        stories.append(_Story(b, sources))
    signals, meta = [], {}
    for st in stories:
        b, sources = st.bundle, st.sources
        cited_arts = [a for a in b.articles if a.id in {i for s in sources for i in s.member_ids}]
        rel = story_relevance(cited_arts, b.entities, beat_terms=options.beat_terms,
                              beat_source_tags=options.beat_source_tags)
        first_at = min(s_at for s_at in (a.at for a in cited_arts))
        first_day = first_at.astimezone(tz).date()
        continuing = first_at < window[0]
        earlier = {s.outlet for s in sources if not s.new}
        new_outlets = [o for o in dict.fromkeys(s.outlet for s in sources if s.new) if o not in earlier]
        outlets = independent_outlets(sources)
        meta[b.key] = (rel, first_day if continuing else None, new_outlets, outlets)
        signals.append(StorySignals(
            key=b.key, outlet_count=len(outlets), reddit_score=sum(r.score for r in b.reddit),
            reddit_comments=sum(r.num_comments for r in b.reddit),
            entity_salience=sum(e.salience for e in b.entities if e.primary),
            latest_at=max((a.at for a in cited_arts if a.id in b.day_article_ids), default=None),
            relevance=rel.score, stale=continuing and not new_outlets,
        ))
    on_beat = [s for s in signals if meta[s.key][0].on_beat]
    off_beat = [s for s in signals if not meta[s.key][0].on_beat]
    counts["off_beat"] = len(off_beat)
    ranked = rank_stories(on_beat, window, options.top_n, options.weights)
    by_key = {st.bundle.key: st for st in stories}
    items: list[DigestItem] = []
    for r in ranked:
        st = by_key[r.key]
        b, sources = st.bundle, st.sources
        rel, first_reported, new_outlets, outlets = meta[r.key]
        item = DigestItem(
            key=b.key, story_id=b.story_id, rank=r.rank, featured=r.featured, score=r.score,
            headline=headline(b, sources), category="news", relevance=rel, sources=sources,
            entities=b.entities, reddit=b.reddit, independent_outlets=len(outlets), new_outlets=new_outlets,
            first_reported=first_reported,
        )
        item.category = story_category(item.headline)
        if r.featured:
            _feature(item, b, counts, summarise, window)
            if related is not None:
                item.related = related(b.story_id, [e.id for e in item.primary_entities])
        items.append(item)
    elsewhere = []
    if options.elsewhere:
        for r in rank_stories(off_beat, window, 0, options.weights)[: options.elsewhere]:
            st = by_key[r.key]
            elsewhere.append(ElsewhereItem(headline(st.bundle, st.sources),
                                           independent_outlets(st.sources), st.sources[0].url))
    counts["summaries"] = dict(counts["summaries"])
    counts["llm_errors"] = dict(counts["llm_errors"])
    return items, elsewhere, counts


def _feature(item: DigestItem, b: StoryBundle, counts: dict, summarise: Summariser | None, window) -> None:
    """TL;DR, key figures, category and timeline line of a featured item."""
    sources = item.sources
    primary_names = [e.name for e in item.primary_entities]
    parts, plain_summary = _tldr(b, sources, primary_names, item.continuing)
    method = "extractive"
    if summarise is not None:
        answer, error = summarise(item.headline, _texts(b, sources, item.continuing))
        if answer:
            parts, plain_summary, method = [{"text": answer, "refs": "", "end": ""}], answer, "llm"
        elif error:
            counts["llm_errors"][error] += 1
    counts["summaries"][method] += 1
    if not parts:
        parts, plain_summary = [{"text": item.headline, "refs": "", "end": ""}], item.headline
    item.summary = " ".join(f"{p['text']} {p['refs']}{p['end']}".strip() if p["refs"] else p["text"] for p in parts)
    item.summary_method = method
    item.tldr = parts
    # figures next to what the story is about, not next to every rival it names
    ents = item.primary_entities or item.entities
    forms = [EntityForms(e.id, e.name, e.forms) for e in ents]
    n_of = {i: s.n for s in sources for i in s.member_ids}
    docs = [(s.article_id, _article(b, s.article_id).text or "") for s in sources]
    new_ids = {i for s in sources if s.new for i in s.member_ids}
    figs = []
    for f in key_figures(docs, forms, limit=12):
        new = all(x in new_ids for x in f.article_ids)
        if item.continuing and not new:
            continue  # already reported on an earlier day
        figs.append({**f.as_dict(), "refs": _refs(f.article_ids, n_of), "new": new})
        if len(figs) >= 5:
            break
    item.key_figures = figs
    item.category = story_category(item.headline, plain_summary)
    item.line = timeline_line(item, plain_summary)


def timeline_line(item: DigestItem, plain_summary: str) -> str:
    """What the day added to the story, in one line: a new story's headline and first sentence;
    a continuing story's new outlets and the first sentence of the day's TL;DR."""
    if not item.continuing:
        return one_line(item.headline, plain_summary)
    first = split_sentences(plain_summary)[0] if plain_summary else ""
    new = (f" New coverage: {', '.join(item.new_outlets[:4])}." if item.new_outlets else "")
    head = normalise(item.headline).strip().rstrip(".")
    line = f"{head} (first reported {day_label(item.first_reported)}).{new} {first}".strip()
    return one_line(line, "", limit=320) if len(line) > 320 else line
