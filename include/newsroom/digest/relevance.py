"""How much a story is about the beat, and which of its entity tags it is *about*.

A digest of the AI beat that ranks a pop-star feud second because one article said
"Instagram" is not one an editor would publish. Three signals, each bounded:

- **tracked entities** the story's own articles name prominently (mean salience, which
  weighs title, lede and count), counting only *strong* tags: an entity named once in
  passing, or implied by a child entity (``mentions = 0``), is not what a story is about;
- **beat terms** from the sources file (``digest.beat_terms``): their density in the
  articles' text, and whether a title carries one;
- **source tags** (``digest.beat_source_tags``): feeds that only publish on the beat.

A story is on the beat when a strong entity appears *together with* the beat's
vocabulary, or when the vocabulary alone is dense; without configured terms, a strong
entity is enough. Ambiguous names ("Amazon" the rainforest, "Gemini" the sign) rarely
come with the beat's words, so they stay off the ranked list without special cases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .records import ArticleRow, ArticleTag, Relevance, StoryEntity
from .text import prose

PRIMARY_SALIENCE = 0.25  # mean salience (newsroom.entities.tagging, 0..1) for "the story is about it"
TERM_DENSITY_FULL = 5.0  # beat-term hits per 1,000 words that count as fully on the beat
TEXT_WORDS = 3000  # words of each article read for beat terms


def strong_tag(mentions: int, in_title: bool) -> bool:
    """More than one weak mention: named at least twice, or named in a title."""
    return mentions >= 2 or (in_title and mentions >= 1)


@lru_cache(maxsize=64)
def _term_pattern(terms: tuple[str, ...]) -> tuple[re.Pattern | None, re.Pattern | None]:
    """(case-insensitive pattern, case-sensitive pattern for short capitalised terms like 'AI')."""
    exact = [t for t in terms if t.isupper() and len(t) <= 4]
    loose = [t for t in terms if t not in exact]

    def build(ts, flags):
        if not ts:
            return None
        alts = "|".join(re.escape(t).replace(r"\ ", r"[\s-]+") for t in sorted(ts, key=len, reverse=True))
        return re.compile(rf"(?<![\w-])(?:{alts})(?![\w-])", flags)

    return build(loose, re.I), build(exact, 0)


def term_hits(text: str, terms: Sequence[str]) -> int:
    loose, exact = _term_pattern(tuple(terms))
    return sum(len(p.findall(text)) for p in (loose, exact) if p is not None)


def story_relevance(
    articles: Sequence[ArticleRow],
    entities: Sequence[StoryEntity],
    *,
    beat_terms: Sequence[str] = (),
    beat_source_tags: Sequence[str] = (),
) -> Relevance:
    """The story's relevance to the beat from its cited articles and aggregated entities."""
    entity_part = min(1.0, sum(e.salience for e in entities if e.primary and e.strong))
    hits, words, title_hit = 0, 0, False
    if beat_terms:
        for a in articles:
            body = " ".join(prose(a.text or a.description or "").split()[:TEXT_WORDS])
            words += len(body.split())
            hits += term_hits(body, beat_terms)
            if a.title and term_hits(prose(a.title), beat_terms):
                title_hit = True
                hits += 1
    density = 1000.0 * hits / max(words, 200)
    term_part = min(1.0, density / TERM_DENSITY_FULL) + (0.5 if title_hit else 0.0)
    tag_part = 0.5 if beat_source_tags and any(set(a.source_tags) & set(beat_source_tags) for a in articles) else 0.0
    entity_ok = entity_part >= PRIMARY_SALIENCE
    if beat_terms:
        on_beat = (entity_ok and hits > 0) or term_part >= 1.0 or (tag_part > 0 and (entity_ok or hits > 0))
    else:
        on_beat = entity_ok or tag_part > 0
    return Relevance(score=round(entity_part + term_part + tag_part, 6), entity_part=round(entity_part, 6),
                     term_part=round(term_part, 6), term_hits=hits, on_beat=on_beat)


def _aliases(value) -> list[str]:
    out = []
    for a in value or []:
        if isinstance(a, str):
            out.append(a)
        elif isinstance(a, dict):
            t = a.get("text") or a.get("alias") or a.get("name")
            if isinstance(t, str):
                out.append(t)
    return out


def story_entities(articles: Sequence[ArticleRow], tags: dict[int, list[ArticleTag]],
                   max_primary: int = 8) -> list[StoryEntity]:
    """Tags aggregated over the cited articles; *primary* = what the story is about.

    Primary: named by most of its sources, prominently (mean salience ≥ 0.25), and strongly
    (see :func:`strong_tag`) in at least one; for a single article, strongly and in its title or
    prominently. At most ``max_primary``."""
    agg: dict[str, dict] = {}
    n = max(1, len(articles))
    for art in articles:
        for t in tags.get(art.id, []):
            if not t.mentions:
                continue  # implied by a child ("Muse" from "Muse Spark"): not named by the article
            d = agg.setdefault(t.entity_id, {"name": t.name, "type": t.type, "aliases": t.aliases, "articles": 0,
                                             "mentions": 0, "in_title": False, "sal": 0.0, "strong": False})
            d["articles"] += 1
            d["mentions"] += t.mentions
            d["in_title"] = d["in_title"] or t.in_title
            d["sal"] += t.salience
            d["strong"] = d["strong"] or strong_tag(t.mentions, t.in_title)
    ents = []
    for eid, d in agg.items():
        mean_sal = d["sal"] / n
        if n == 1:
            primary = d["in_title"] or mean_sal >= PRIMARY_SALIENCE
        else:
            primary = 2 * d["articles"] > n and mean_sal >= PRIMARY_SALIENCE
        ents.append(StoryEntity(
            id=eid, name=d["name"] or eid, type=d["type"], article_count=d["articles"], mentions=d["mentions"],
            in_title=d["in_title"], salience=round(mean_sal, 6), primary=primary and d["strong"],
            forms=[d["name"] or eid, *_aliases(d["aliases"])], strong=d["strong"],
        ))
    ents.sort(key=lambda x: (not x.primary, -x.salience, -x.article_count, -x.mentions, x.name.casefold(), x.id))
    for extra in ents[max_primary:]:
        extra.primary = False
    return ents
