"""One day's digest, from the warehouse to rows and notes.

:func:`compute_digest` reads the day (articles in the window, their stories,
entities and Reddit threads), ranks and summarises, and renders the digest
note; it writes nothing but the LLM cache. :func:`store_digest` then, in one
transaction, upserts the day's ``digests``/``digest_items``/``entity_timeline``
rows (dropping the day's rows that no longer apply), regenerates the notes of
every entity the day touches (before or after) and their maps of content, and
writes the files; the transaction commits only once every file is written.

Entity notes and MOCs are *projections* of ``entities`` and
``entity_timeline``: they are rendered from the whole table for that entity,
never appended to, so backfilling days in any order gives the same files.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, select, tuple_
from sqlalchemy.engine import Connection, Engine

from newsroom.metrics.render import entity_note_with_figures, story_figure_phrases  # issue 16
from newsroom.warehouse import upsert
from newsroom.warehouse.schema.base import utcnow
from newsroom.warehouse.schema.digest import Digest, DigestItem, EntityTimeline

from . import tables as T
from .figures import EntityForms, key_figures
from .llm import LLMSummariser
from .ranking import RankingWeights, StorySignals, rank_stories
from .render import front_matter, inline, link, plain, render, tag, wikilink
from .summarize import SourceText, extractive_summary, one_line, story_category
from .text import tokens
from .vault import Vault, safe_name
from .window import day_window

DIGESTS_FOLDER = "digests"
ENTITIES_FOLDER = "entities"
MAX_SOURCES = 20
PRIMARY_SALIENCE = 0.25  # mean salience (newsroom.entities.tagging, 0..1) for "the story is about it"
MAX_PRIMARY = 8
REDDIT_CUTOFF = timedelta(hours=12)  # engagement as it stood half a day after the day ended
GENERATOR = "newsroom"


# ----------------------------------------------------------------------------- records
@dataclass
class ArticleRow:
    id: int
    url: str
    canonical_url: str
    outlet: str | None
    title: str | None
    text: str | None
    description: str | None
    published_at: datetime | None
    first_seen_at: datetime

    @property
    def at(self) -> datetime:
        return self.published_at or self.first_seen_at

    @property
    def outlet_name(self) -> str:
        if self.outlet:
            return self.outlet
        host = urlsplit(self.url).hostname or "unknown"
        return host.removeprefix("www.")


@dataclass
class StoryEntity:
    id: str
    name: str
    type: str | None
    article_count: int
    mentions: int
    in_title: bool
    salience: float
    primary: bool
    forms: list[str]


@dataclass
class StoryBundle:
    """A story as the digest sees it on one day."""

    key: str
    story_id: int | None
    title: str | None
    articles: list[ArticleRow]  # cited sources, oldest first
    day_article_ids: set[int]
    entities: list[StoryEntity] = field(default_factory=list)
    reddit: list[dict] = field(default_factory=list)

    @property
    def outlets(self) -> list[str]:
        seen: dict[str, None] = {}
        for a in self.articles:
            seen.setdefault(a.outlet_name, None)
        return list(seen)


@dataclass
class DigestBuild:
    """Everything a day's digest is, before it is stored."""

    day: date
    beat: str
    name: str  # note name, e.g. 2026-04-09-AI-Digest
    title: str
    window: tuple[datetime, datetime]
    markdown: str
    digest_row: dict
    item_rows: list[dict]
    timeline_rows: list[dict]
    counts: dict[str, Any]


# ----------------------------------------------------------------------------- naming
def beat_slug(beat: str) -> str:
    return safe_name(beat).replace(" ", "-")


def digest_name(day: date, beat: str) -> str:
    """``YYYY-MM-DD-{Beat}-Digest``: the digest note's name and wikilink target.

    Passed through :func:`safe_name` as a whole, so the name links point at is the very
    name the vault writes the file under (a beat like ``"a | b"`` would otherwise give
    ``…-a---b-…`` in links and ``…-a-b-…`` on disk)."""
    return safe_name(f"{day.isoformat()}-{beat_slug(beat)}-Digest")


def moc_name(category: str) -> str:
    c = plain(category, 200)
    c = c[len("MOC - "):] if c.lower().startswith("moc - ") else c
    return safe_name(f"MOC - {c.strip()}")


def _aliases(value: Any) -> list[str]:
    out = []
    for a in value or []:
        if isinstance(a, str):
            out.append(a)
        elif isinstance(a, dict):
            t = a.get("text") or a.get("alias") or a.get("name")
            if isinstance(t, str):
                out.append(t)
    return out


def _json_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def entity_note_names(conn: Connection) -> dict[str, str]:
    """Entity id → note name, unique case-insensitively (by id order, so stable)."""
    if "entities" not in T.existing_tables(conn):
        return {}
    rows = conn.execute(select(T.entities.c.id, T.entities.c.name).order_by(T.entities.c.id)).all()
    names: dict[str, str] = {}
    taken: set[str] = set()
    for eid, name in rows:
        base = safe_name(name or eid)
        cand = base
        if cand.casefold() in taken:
            cand = safe_name(f"{base} ({eid})")
        n = 2
        while cand.casefold() in taken:
            cand = safe_name(f"{base} ({eid}) {n}")
            n += 1
        taken.add(cand.casefold())
        names[eid] = cand
    return names


# ----------------------------------------------------------------------------- reading
def _chunks(seq: Sequence, n: int = 500) -> Iterable[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _article_rows(conn: Connection, where) -> list[ArticleRow]:
    a = T.articles
    rows = conn.execute(
        select(a.c.id, a.c.url, a.c.canonical_url, a.c.outlet, a.c.title, a.c.text, a.c.description,
               a.c.published_at, a.c.first_seen_at).where(where)
    ).all()
    return [ArticleRow(*r) for r in rows]


def day_articles(conn: Connection, window: tuple[datetime, datetime]) -> list[ArticleRow]:
    """Originals (not duplicates) published — or, undated, first seen — in the window."""
    a = T.articles
    start, end = window
    where = and_(
        a.c.duplicate_of.is_(None),
        or_(
            and_(a.c.published_at >= start, a.c.published_at < end),
            and_(a.c.published_at.is_(None), a.c.first_seen_at >= start, a.c.first_seen_at < end),
        ),
    )
    return sorted(_article_rows(conn, where), key=lambda r: (r.at, r.id))


def _resolve_merges(conn: Connection, ids: set[int]) -> dict[int, tuple[int, str | None, datetime | None]]:
    """story id → (final story id, final title, final last_seen_at), following ``merged_into``."""
    s = T.stories
    info: dict[int, tuple] = {}
    todo = set(ids)
    for _ in range(50):  # merge chains are short; the cap guards against a cycle
        if not todo:
            break
        for chunk in _chunks(sorted(todo)):
            for sid, title, merged, last in conn.execute(
                select(s.c.id, s.c.title, s.c.merged_into, s.c.last_seen_at).where(s.c.id.in_(chunk))
            ):
                info[sid] = (merged, title, last)
        todo = {m for (m, _, _) in info.values() if m is not None and m not in info}
    out = {}
    for sid in ids:
        cur, seen = sid, set()
        while cur in info and info[cur][0] is not None and cur not in seen:
            seen.add(cur)
            cur = info[cur][0]
        title, last = (info[cur][1], info[cur][2]) if cur in info else (None, None)
        out[sid] = (cur, title, last)
    return out


def load_bundles(conn: Connection, window: tuple[datetime, datetime]) -> tuple[list[StoryBundle], int]:
    """The day's stories (and loose articles), with their cited sources. Returns (bundles, article count)."""
    present = T.existing_tables(conn)
    todays = day_articles(conn, window)
    ids = [a.id for a in todays]
    story_of: dict[int, int] = {}
    if {"stories", "story_articles"} <= present and ids:
        for chunk in _chunks(ids):
            for sid, aid in conn.execute(
                select(T.story_articles.c.story_id, T.story_articles.c.article_id).where(
                    T.story_articles.c.article_id.in_(chunk)
                )
            ):
                story_of[aid] = sid
    final = _resolve_merges(conn, set(story_of.values())) if story_of else {}
    groups: dict[int, set[int]] = defaultdict(set)  # final story → member story ids seen today
    day_ids_by_story: dict[int, set[int]] = defaultdict(set)
    for aid, sid in story_of.items():
        fid = final[sid][0]
        groups[fid].add(sid)
        day_ids_by_story[fid].add(aid)
    bundles: list[StoryBundle] = []
    a = T.articles
    for fid in sorted(groups):
        member_ids = sorted(groups[fid] | {fid})
        art_ids = [
            r[0]
            for r in conn.execute(
                select(T.story_articles.c.article_id).where(T.story_articles.c.story_id.in_(member_ids))
            )
        ]
        rows = []
        for chunk in _chunks(sorted(set(art_ids))):
            rows.extend(
                _article_rows(
                    conn,
                    and_(a.c.id.in_(chunk), a.c.duplicate_of.is_(None),
                         func.coalesce(a.c.published_at, a.c.first_seen_at) < window[1]),
                )
            )
        rows.sort(key=lambda r: (r.at, r.id))
        title = next((t for (f, t, _) in final.values() if f == fid and t), None)
        bundles.append(StoryBundle(str(fid), fid, title, rows[:MAX_SOURCES], day_ids_by_story[fid]))
    for art in todays:
        if art.id not in story_of:
            bundles.append(StoryBundle(f"a{art.id}", None, art.title, [art], {art.id}))
    if "article_entities" in present and "entities" in present:
        _attach_entities(conn, bundles)
    if {"reddit_posts", "reddit_snapshots"} <= present:
        _attach_reddit(conn, bundles, window, with_comments="reddit_comments" in present)
    return bundles, len(todays)


def _attach_entities(conn: Connection, bundles: list[StoryBundle]) -> None:
    all_ids = sorted({a.id for b in bundles for a in b.articles})
    ae, e = T.article_entities, T.entities
    per_article: dict[int, list] = defaultdict(list)
    for chunk in _chunks(all_ids):
        for row in conn.execute(
            select(ae.c.article_id, ae.c.entity_id, ae.c.mentions, ae.c.in_title, ae.c.salience,
                   e.c.name, e.c.type, e.c.aliases)
            .join(e, e.c.id == ae.c.entity_id)
            # an entity dropped from the entities file stays in old notes, but makes no new lines
            .where(ae.c.article_id.in_(chunk), e.c.active.isnot(False))
        ):
            per_article[row.article_id].append(row)
    for b in bundles:
        agg: dict[str, dict] = {}
        n = max(1, len(b.articles))
        for art in b.articles:
            for row in per_article.get(art.id, []):
                if not row.mentions:
                    continue  # implied by a child ("Muse" from "Muse Spark"): not named by the article
                d = agg.setdefault(row.entity_id, {"name": row.name, "type": row.type, "aliases": row.aliases,
                                                   "articles": 0, "mentions": 0, "in_title": False, "sal": 0.0})
                d["articles"] += 1
                d["mentions"] += int(row.mentions or 0)
                d["in_title"] = d["in_title"] or bool(row.in_title)
                d["sal"] += float(row.salience or 0.0)
        ents = []
        for eid, d in agg.items():
            # What the story is *about*: named by most of its sources, prominently (salience
            # weighs title, lede and frequency); for a single article, its title or a salient mention.
            mean_sal = d["sal"] / n
            if n == 1:
                primary = d["in_title"] or mean_sal >= PRIMARY_SALIENCE
            else:
                primary = 2 * d["articles"] > n and mean_sal >= PRIMARY_SALIENCE
            ents.append(StoryEntity(
                id=eid, name=d["name"] or eid, type=d["type"], article_count=d["articles"], mentions=d["mentions"],
                in_title=d["in_title"], salience=round(d["sal"] / n, 6), primary=primary,
                forms=[d["name"] or eid, *_aliases(d["aliases"])],
            ))
        ents.sort(key=lambda x: (not x.primary, -x.salience, -x.article_count, -x.mentions, x.name.casefold(), x.id))
        for extra in ents[MAX_PRIMARY:]:
            extra.primary = False
        b.entities = ents


def _attach_reddit(conn: Connection, bundles: list[StoryBundle], window, with_comments: bool) -> None:
    p, s, c = T.reddit_posts, T.reddit_snapshots, T.reddit_comments
    by_article: dict[int, StoryBundle] = {}
    by_url: dict[str, StoryBundle] = {}
    for b in bundles:
        for a in b.articles:
            by_article[a.id] = b
            by_url[a.url] = b
            by_url[a.canonical_url] = b
    posts: dict[str, tuple] = {}
    for chunk in _chunks(sorted(by_article)):
        for row in conn.execute(select(p).where(p.c.article_id.in_(chunk))):
            posts[row.id] = (row, by_article[row.article_id])
    for chunk in _chunks(sorted(by_url)):
        for row in conn.execute(select(p).where(p.c.url.in_(chunk))):
            posts.setdefault(row.id, (row, by_url[row.url]))
    if not posts:
        return
    cutoff = window[1] + REDDIT_CUTOFF
    snaps: dict[str, list] = defaultdict(list)
    comments: dict[str, list] = defaultdict(list)
    ids = sorted(posts)
    for chunk in _chunks(ids):
        for row in conn.execute(select(s.c.post_id, s.c.taken_at, s.c.score, s.c.num_comments)
                                .where(s.c.post_id.in_(chunk))):
            snaps[row.post_id].append(row)
        if with_comments:
            for row in conn.execute(select(c).where(c.c.post_id.in_(chunk), c.c.depth == 0)
                                    .order_by(c.c.post_id, c.c.rank, c.c.id)):
                if len(comments[row.post_id]) < 3:
                    comments[row.post_id].append(
                        {"author": row.author or "[deleted]", "body": row.body or "", "score": int(row.score or 0)})
    for pid in ids:
        row, bundle = posts[pid]
        history = sorted(snaps.get(pid, []), key=lambda r: (r.taken_at, r.score))
        if not history:
            continue
        before = [h for h in history if h.taken_at <= cutoff]
        snap = before[-1] if before else history[0]  # reproducible whenever the day is (re)built
        bundle.reddit.append({
            "post_id": pid, "subreddit": row.subreddit, "title": row.title, "permalink": row.permalink,
            "score": int(snap.score or 0), "num_comments": int(snap.num_comments or 0),
            "comments": comments.get(pid, []),
        })
    for b in bundles:
        b.reddit.sort(key=lambda r: (-r["score"], r["post_id"]))


def related_links(conn: Connection, bundle: StoryBundle, window, tz: ZoneInfo, beat: str, days: int) -> list[str]:
    """Earlier stories (last seen in the ``days`` before the window) sharing the story's main entities."""
    present = T.existing_tables(conn)
    ents = [e.id for e in bundle.entities if e.primary]
    if days <= 0 or not ents or not {"stories", "story_articles", "article_entities"} <= present:
        return []
    s, sa, ae = T.stories, T.story_articles, T.article_entities
    q = (
        select(s.c.id, s.c.title, s.c.last_seen_at, func.count(func.distinct(ae.c.entity_id)).label("shared"))
        .select_from(s.join(sa, sa.c.story_id == s.c.id).join(ae, ae.c.article_id == sa.c.article_id))
        .where(ae.c.entity_id.in_(ents), s.c.merged_into.is_(None),
               s.c.last_seen_at >= window[0] - timedelta(days=days), s.c.last_seen_at < window[0])
        .group_by(s.c.id, s.c.title, s.c.last_seen_at)
    )
    if bundle.story_id is not None:
        q = q.where(s.c.id != bundle.story_id)
    rows = sorted(conn.execute(q).all(), key=lambda r: (-r.shared, -r.last_seen_at.timestamp(), r.id))[:3]
    out = []
    for r in rows:
        d = r.last_seen_at.astimezone(tz).date()
        out.append(f"{wikilink(digest_name(d, beat))} — {_md(r.title or 'story')}")
    return out


def _md(text: Any, limit: int = 300) -> str:
    return inline(text, limit)


# ----------------------------------------------------------------------------- computing
def _signals(b: StoryBundle) -> StorySignals:
    return StorySignals(
        key=b.key,
        outlet_count=len(b.outlets),
        reddit_score=sum(r["score"] for r in b.reddit),
        reddit_comments=sum(r["num_comments"] for r in b.reddit),
        entity_salience=sum(e.salience for e in b.entities if e.primary),
        latest_at=max((a.at for a in b.articles if a.id in b.day_article_ids), default=None),
    )


def _short_title(title: str, limit: int = 160) -> str:
    """A source's title for the numbered list; some feeds put a whole paragraph there."""
    t = plain(title, 2000)
    if len(t) <= limit:
        return t
    cut = t.rfind(" ", 0, limit - 1)
    return t[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def _headline(b: StoryBundle) -> str:
    """The most headline-like title: 4–25 words, naming the story's main entities, sharing words
    with the other sources' titles. A story's stored title is only a candidate: feeds and pages
    sometimes give a kicker ("model release") or a whole paragraph as the title."""
    primary = [e.name.casefold() for e in b.entities if e.primary]
    cands = [t for t in dict.fromkeys([b.title, *(a.title for a in b.articles)]) if t]
    words = {t: set(tokens(t)) for t in cands}
    best, best_key = None, None
    for i, t in enumerate(cands):
        n = len(t.split())
        if not 4 <= n <= 25:
            continue
        overlap = sum(len(words[t] & words[o]) for o in cands if o != t)
        key = (-sum(1 for p in primary if p in t.casefold()), -overlap, i)
        if best_key is None or key < best_key:
            best, best_key = t, key
    if best is None:
        best = cands[0] if cands else "Untitled story"
    return plain(best, 200) or "Untitled story"


def compute_digest(
    engine: Engine,
    day: date,
    *,
    beat: str,
    tz: ZoneInfo,
    top_n: int,
    feeds_checked: int = 0,
    subreddits_checked: int = 0,
    related_days: int = 30,
    llm: LLMSummariser | None = None,
    weights: RankingWeights = RankingWeights(),
) -> DigestBuild:
    """Read, rank, summarise and render day ``day`` (local to ``tz``) without storing anything."""
    window = day_window(day, tz)
    name = digest_name(day, beat)
    with engine.connect() as conn:
        bundles, n_articles = load_bundles(conn, window)
        by_key = {b.key: b for b in bundles}
        ranked = rank_stories([_signals(b) for b in bundles], window, top_n, weights)
        items, item_rows, timeline_rows, also = [], [], [], []
        methods: dict[str, int] = defaultdict(int)
        llm_errors: dict[str, int] = defaultdict(int)
        for r in ranked:
            b = by_key[r.key]
            headline = _headline(b)
            sources = [
                {"n": i, "outlet": a.outlet_name, "title": _short_title(a.title or a.url), "url": a.url,
                 "article_id": a.id}
                for i, a in enumerate(b.articles, 1)
            ]
            entity_json = [
                {"id": e.id, "name": e.name, "type": e.type, "primary": e.primary, "articles": e.article_count,
                 "salience": e.salience}
                for e in b.entities
            ]
            row = {
                "day": day, "beat": beat, "rank": r.rank, "featured": r.featured, "story_id": b.story_id,
                "headline": headline, "score": r.score, "sources": sources, "entities": entity_json,
                "reddit": [{k: v for k, v in p.items() if k != "comments"} for p in b.reddit],
                "category": None, "summary": None, "summary_method": None, "key_figures": [],
            }
            if not r.featured:
                also.append({"headline": headline, "outlets": b.outlets, "url": b.articles[0].url if b.articles else None})
                row["category"] = story_category(headline)
                item_rows.append(row)
                continue
            texts = [SourceText(a.id, a.title, a.text, a.description) for a in b.articles]
            primary_names = [e.name for e in b.entities if e.primary]
            summary = extractive_summary(texts, primary_names)
            summary_text, method = summary.text, "extractive"
            if llm is not None:
                res = llm.summarise(engine, headline, texts)
                if res.summary:
                    summary_text, method = res.summary, "llm"
                elif res.error:
                    llm_errors[res.error] += 1
            methods[method] += 1
            if not summary_text:
                summary_text = headline
            # figures next to what the story is about, not next to every rival it names
            forms = [EntityForms(e.id, e.name, e.forms) for e in b.entities if e.primary] or [
                EntityForms(e.id, e.name, e.forms) for e in b.entities]
            figs = key_figures([(a.id, a.text or a.description or "") for a in b.articles], forms)
            n_of = {s["article_id"]: s["n"] for s in sources}
            fig_view = [
                {**f.as_dict(), "refs": "".join(f"[{n_of[x]}]" for x in f.article_ids if x in n_of)} for f in figs
            ]
            category = story_category(headline, summary_text)
            row.update(category=category, summary=summary_text, summary_method=method,
                       key_figures=[f.as_dict() for f in figs])
            item_rows.append(row)
            line = one_line(headline, summary_text)
            for e in b.entities:
                if e.primary:
                    timeline_rows.append({
                        "entity_id": e.id, "day": day, "beat": beat, "story_id": b.story_id, "story_key": b.key,
                        "rank": r.rank, "line": line, "digest_title": name,
                    })
            items.append({
                "rank": r.rank, "headline": headline, "category": category, "summary": summary_text,
                "outlet_count": len(b.outlets), "sources": sources, "key_figures": fig_view,
                "entity_links": [],  # filled with note names at store time
                "entity_ids": [e.id for e in b.entities if e.primary],
                "also_mentions": [e.name for e in b.entities if not e.primary][:12],
                "also_ids": [e.id for e in b.entities if not e.primary][:12],  # issue 16: figures
                "reddit": b.reddit[:3],
                "related": related_links(conn, b, window, tz, beat, related_days),
            })
        names = entity_note_names(conn)
        # issue 16: an entity's headline figure once per story, seed-style (newsroom.metrics.render)
        phrases = story_figure_phrases(conn, {i for it in items for i in (*it["entity_ids"], *it["also_ids"])}, day)
    for it in items:
        it["entity_links"] = [wikilink(names[eid], None) + phrases.get(eid, "") for eid in it.pop("entity_ids")
                              if eid in names]
        it["also_mentions"] = [n + phrases.get(i, "") for n, i in zip(it["also_mentions"], it.pop("also_ids"))]
    title = f"{beat} Digest — {day.strftime('%A %-d %B %Y')}"
    local = [w.astimezone(tz) for w in window]
    window_label = f"{local[0]:%Y-%m-%d %H:%M} to {local[1]:%Y-%m-%d %H:%M} {tz.key}"
    featured_entities = sorted({t["entity_id"] for t in timeline_rows})
    fm = front_matter({
        "title": name, "date": day.isoformat(), "beat": plain(beat, 60), "type": "digest",
        "tags": ["digest", tag(beat)], "stories": len(ranked), "articles": n_articles,
        "feeds_checked": feeds_checked, "subreddits_checked": subreddits_checked,
        "entities": [plain(names.get(e, e), 200) for e in featured_entities], "generator": GENERATOR,
    })
    markdown = render(
        "digest.md.j2", front_matter=fm, heading=title, feeds_checked=feeds_checked,
        subreddits_checked=subreddits_checked, articles_count=n_articles, stories_count=len(ranked),
        window_label=window_label, items=items, also=also,
    )
    digest_row = {
        "day": day, "beat": beat, "title": name, "markdown": markdown, "feeds_checked": feeds_checked,
        "subreddits_checked": subreddits_checked, "articles_count": n_articles, "stories_count": len(ranked),
        "window_start": window[0], "window_end": window[1], "path": f"{DIGESTS_FOLDER}/{safe_name(name)}.md",
        "content_hash": hashlib.sha256(markdown.encode()).hexdigest(),
    }
    counts = {
        "articles": n_articles, "stories": len(ranked), "featured": len(items), "also": len(also),
        "summaries": dict(methods), "llm_errors": dict(llm_errors),
    }
    return DigestBuild(day, beat, name, title, window, markdown, digest_row, item_rows, timeline_rows, counts)


# ----------------------------------------------------------------------------- projections
def render_entity_note(conn: Connection, entity_id: str, beat: str, names: dict[str, str]) -> str | None:
    """The entity's topic note from ``entities`` and ``entity_timeline``; None if it never made a digest."""
    e = conn.execute(select(T.entities).where(T.entities.c.id == entity_id)).first()
    tl = EntityTimeline.__table__
    rows = conn.execute(
        select(tl.c.day, tl.c.rank, tl.c.line, tl.c.digest_title, tl.c.story_key)
        .where(tl.c.entity_id == entity_id, tl.c.beat == beat)
        .order_by(tl.c.day, tl.c.rank, tl.c.story_key)
    ).all()
    if e is None or not rows:
        return None
    timeline, seen_days = [], set()
    for r in rows:  # one line per day: the entity's best-ranked story that day
        if r.day in seen_days:
            continue
        seen_days.add(r.day)
        timeline.append({"day": r.day.isoformat(), "digest": safe_name(r.digest_title), "line": r.line})
    # Co-occurrence from the timeline itself (same day, same story), so the note depends only on
    # digest rows that mention this entity — the property that makes backfills order-independent.
    keys = [(r.day, r.story_key) for r in rows]
    co: dict[str, int] = defaultdict(int)
    for chunk in _chunks(keys, 200):
        for other, n in conn.execute(
            select(tl.c.entity_id, func.count())
            .where(tl.c.beat == beat, tl.c.entity_id != entity_id, tuple_(tl.c.day, tl.c.story_key).in_(chunk))
            .group_by(tl.c.entity_id)
        ):
            co[other] += n
    cooccurring = sorted(co, key=lambda k: (-co[k], names.get(k, k).casefold()))[:8]
    categories = [c for c in _json_list(e.categories) if isinstance(c, str)]
    related = [r for r in _json_list(e.related) if isinstance(r, str)]
    see_ids = [x for x in dict.fromkeys([*cooccurring, *([e.parent_id] if e.parent_id else []), *related])
               if x != entity_id and x in names]
    see_also = [wikilink(names[x]) for x in see_ids] + [wikilink(moc_name(c)) for c in categories]
    facts: list[tuple[str, str]] = []
    if e.type:
        facts.append(("Type", _md(e.type, 60)))
    if e.parent_id:
        facts.append(("Parent", wikilink(names[e.parent_id]) if e.parent_id in names else _md(e.parent_id, 100)))
    aliases = [a for a in _aliases(e.aliases) if a != e.name]
    if aliases:
        facts.append(("Also known as", ", ".join(_md(a, 100) for a in aliases[:12])))
    links = e.links if isinstance(e.links, dict) else {}
    for k in sorted(links):
        if isinstance(links[k], str):
            facts.append((str(k).capitalize(), link(links[k], links[k])))
    if categories:
        facts.append(("Maps of content", ", ".join(wikilink(moc_name(c)) for c in categories)))
    facts.append(("Days in the digest", str(len(timeline))))
    tags = [tag(e.type or "entity"), "topic-note"]
    if e.parent_id and e.parent_id in names:
        tags.append(tag(names[e.parent_id]))
    fm = front_matter({
        "title": plain(e.name or entity_id, 200), "id": plain(entity_id, 200), "type": plain(e.type or "entity", 60),
        "tags": list(dict.fromkeys(tags)), "aliases": [plain(a, 200) for a in aliases[:12]],
        "first_digest": timeline[0]["day"], "last_digest": timeline[-1]["day"], "generator": GENERATOR,
    })
    note = render(
        "entity.md.j2", front_matter=fm, name=e.name or entity_id, type=e.type or "entity",
        parent_link=wikilink(names[e.parent_id]) if e.parent_id in names else None,
        description=e.description, latest=timeline[-1], timeline=timeline, facts=facts, see_also=see_also,
    )
    # issue 16: the "Figures" section, as of the note's latest digest day (newsroom.metrics.render)
    return entity_note_with_figures(conn, entity_id, note, rows[-1].day)


def render_moc_note(conn: Connection, category: str, beat: str, names: dict[str, str]) -> str:
    """``MOC - {Category}``: every entity filed under it, by type, with its digest days."""
    want = moc_name(category)
    members = [
        r for r in conn.execute(select(T.entities.c.id, T.entities.c.name, T.entities.c.type, T.entities.c.categories))
        if any(isinstance(c, str) and moc_name(c) == want for c in _json_list(r.categories))
    ]
    tl = EntityTimeline.__table__
    stats: dict[str, tuple[int, date]] = {}
    ids = [m.id for m in members]
    for chunk in _chunks(ids):
        for eid, n, last in conn.execute(
            select(tl.c.entity_id, func.count(func.distinct(tl.c.day)), func.max(tl.c.day))
            .where(tl.c.beat == beat, tl.c.entity_id.in_(chunk)).group_by(tl.c.entity_id)
        ):
            stats[eid] = (n, last)
    groups: dict[str, list] = defaultdict(list)
    for m in members:
        n, last = stats.get(m.id, (0, None))
        groups[m.type or "entity"].append({
            "name": m.name or m.id,
            "link": wikilink(names.get(m.id, safe_name(m.name or m.id))),
            "days": n,
            "latest": digest_name(last, beat) if last else None,
        })
    view = [
        {"type": t, "entities": sorted(v, key=lambda x: (x["name"].casefold(), x["link"]))}
        for t, v in sorted(groups.items())
    ]
    fm = front_matter({"title": want, "type": "moc", "tags": ["moc"], "generator": GENERATOR})
    return render("moc.md.j2", front_matter=fm, title=want, groups=view)


# ----------------------------------------------------------------------------- storing
def store_digest(engine: Engine, build: DigestBuild, vault: Vault) -> dict:
    """Replace the day's rows and write the digest, entity and MOC notes, all or nothing in the DB."""
    vault.ensure_writable()
    tl, di = EntityTimeline.__table__, DigestItem.__table__
    key = (build.day, build.beat)
    notes = 0
    removed = 0
    with engine.begin() as conn:
        before = {
            r[0] for r in conn.execute(select(tl.c.entity_id).where(tl.c.day == key[0], tl.c.beat == key[1]))
        }
        upsert(conn, Digest, [{**build.digest_row, "generated_at": utcnow()}], keys=["day", "beat"])
        upsert(conn, DigestItem, build.item_rows, keys=["day", "beat", "rank"])
        conn.execute(delete(di).where(di.c.day == key[0], di.c.beat == key[1], di.c.rank > len(build.item_rows)))
        upsert(conn, EntityTimeline, build.timeline_rows, keys=["entity_id", "day", "beat", "story_key"])
        keep = {(r["entity_id"], r["story_key"]) for r in build.timeline_rows}
        stale = [
            r.id for r in conn.execute(select(tl.c.id, tl.c.entity_id, tl.c.story_key)
                                       .where(tl.c.day == key[0], tl.c.beat == key[1]))
            if (r.entity_id, r.story_key) not in keep
        ]
        for chunk in _chunks(stale):
            conn.execute(delete(tl).where(tl.c.id.in_(chunk)))
        path = vault.write_note(DIGESTS_FOLDER, build.name, build.markdown)
        touched = sorted(before | {r["entity_id"] for r in build.timeline_rows})
        if touched and "entities" in T.existing_tables(conn):
            names = entity_note_names(conn)
            categories: set[str] = set()
            for eid in touched:
                if eid not in names:
                    continue
                text = render_entity_note(conn, eid, build.beat, names)
                if text is None:
                    removed += _remove_generated(vault, ENTITIES_FOLDER, names[eid])
                else:
                    vault.write_note(ENTITIES_FOLDER, names[eid], text)
                    notes += 1
                cats = conn.execute(select(T.entities.c.categories).where(T.entities.c.id == eid)).scalar()
                categories.update(c for c in _json_list(cats) if isinstance(c, str))
            for cat in sorted(categories, key=moc_name):
                vault.write_note(None, moc_name(cat), render_moc_note(conn, cat, build.beat, names))
                notes += 1
    return {"path": str(path), "entity_notes": notes, "notes_removed": removed, "entities_touched": len(touched)}


def _remove_generated(vault: Vault, folder: str, name: str) -> int:
    """Delete a note we generated whose entity no longer has any timeline line (never a user's note)."""
    p = vault.path_for(folder, name)
    try:
        head = p.read_text(encoding="utf-8")[:2000]
    except OSError:
        return 0
    if f"generator: {GENERATOR}" in head:
        p.unlink()
        return 1
    return 0
