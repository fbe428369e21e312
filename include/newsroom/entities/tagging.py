"""From mentions to tags: how much an article is *about* each entity.

:func:`tag_document` runs the matcher over an article's title and text and
gives one :class:`EntityTag` per entity with a salience score in [0, 1]:

    salience = 0.40 · in_title
             + 0.25 · earliness   (1 at the start of the text, 0 at its end; 1 if title-only)
             + 0.35 · frequency   (mentions / mentions of the most-mentioned entity)

The weights say that a headline mention is the strongest signal an article is
about something, that ledes name their subject early, and that frequency counts
relative to the article's own main subject (so long articles don't inflate it).

Parents are credited at lower salience: a mention of "Claude Opus 4.6" also
tags ``claude`` and ``anthropic`` (unless they are mentioned directly) with
``mentions = 0``, ``implied_by = 'claude-opus-4-6'`` and salience halved per
level, so a topic note on Anthropic finds the article while digests can list
only direct mentions (``implied_by IS NULL``).
"""

from __future__ import annotations

from pydantic import BaseModel

from newsroom.config.entities import EntitiesFile

from .matcher import Matcher, Mention

W_TITLE, W_EARLY, W_FREQ = 0.40, 0.25, 0.35
PARENT_DECAY = 0.5


class EntityTag(BaseModel):
    """One entity in one document (a row of ``article_entities``)."""

    entity_id: str
    mentions: int
    in_title: bool
    first_position: int | None = None  # offset in the text of the first mention; None if only in the title
    salience: float
    implied_by: str | None = None


def tag_document(
    matcher: Matcher,
    title: str | None,
    text: str | None,
    *,
    credit_parents: bool = True,
) -> list[EntityTag]:
    """Tags of one document, most salient first."""
    title_m = matcher.find(title or "")
    text_m = matcher.find(text or "")
    if not title_m and not text_m:
        return []
    length = max(len(text or ""), 1)
    stats: dict[str, dict] = {}
    for m in title_m:
        s = stats.setdefault(m.entity_id, {"mentions": 0, "in_title": False, "first": None})
        s["mentions"] += 1
        s["in_title"] = True
    for m in text_m:
        s = stats.setdefault(m.entity_id, {"mentions": 0, "in_title": False, "first": None})
        s["mentions"] += 1
        if s["first"] is None or m.start < s["first"]:
            s["first"] = m.start
    top = max(s["mentions"] for s in stats.values())
    tags: dict[str, EntityTag] = {}
    for eid, s in stats.items():
        earliness = 1.0 if s["first"] is None else 1.0 - min(1.0, s["first"] / length)
        sal = W_TITLE * s["in_title"] + W_EARLY * earliness + W_FREQ * (s["mentions"] / top)
        tags[eid] = EntityTag(
            entity_id=eid,
            mentions=s["mentions"],
            in_title=s["in_title"],
            first_position=s["first"],
            salience=round(min(1.0, sal), 4),
        )
    if credit_parents:
        _credit_parents(matcher.entities, tags)
    return sorted(tags.values(), key=lambda t: (-t.salience, t.entity_id))


def _credit_parents(entities: EntitiesFile, tags: dict[str, EntityTag]) -> None:
    direct = [t for t in tags.values() if t.implied_by is None]
    for t in direct:
        sal = t.salience
        for ancestor in entities.ancestors(t.entity_id):
            sal *= PARENT_DECAY
            cur = tags.get(ancestor)
            if cur is not None and cur.implied_by is None:
                break  # mentioned directly: it (and its own ancestors) stand on their own
            if cur is None or cur.salience < sal:
                tags[ancestor] = EntityTag(
                    entity_id=ancestor,
                    mentions=0,
                    in_title=False,
                    first_position=None,
                    salience=round(sal, 4),
                    implied_by=t.entity_id,
                )


def mentions_by_entity(mentions: list[Mention]) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in mentions:
        out[m.entity_id] = out.get(m.entity_id, 0) + 1
    return out
