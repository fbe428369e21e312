"""The typed records the digest passes between its steps.

    read (warehouse.digest_reads) → StoryBundle
    compose (digest.compose)      → DigestItem, DigestBuild
    render (digest.notes)         → Markdown
    write (digest.write)          → rows + files

Plain dataclasses with no behaviour beyond small derived properties, so each step
can be tested on its own and none of them needs to know how the others work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


from newsroom.warehouse.digest_rows import (  # noqa: E402  (re-exported: the rows the read step returns)
    ArticleRow, ArticleTag, RedditThread, RelatedStory, StoryBundle, StoryEntity)

__all__ = ["ArticleRow", "ArticleTag", "RedditThread", "RelatedStory", "StoryBundle", "StoryEntity"]


@dataclass
class Source:
    """A numbered source of a digest item."""

    n: int
    outlet: str
    title: str
    url: str
    article_id: int
    new: bool  # published on the digest's day
    also_carried_by: list[str] = field(default_factory=list)  # outlets of syndicated copies
    member_ids: list[int] = field(default_factory=list)  # the original and its copies (article ids)

    def as_row(self) -> dict:
        return {"n": self.n, "outlet": self.outlet, "title": self.title, "url": self.url,
                "article_id": self.article_id, "new": self.new, "also_carried_by": self.also_carried_by}


@dataclass
class Relevance:
    """How much a story is about the beat (digest.relevance)."""

    score: float
    entity_part: float
    term_part: float
    term_hits: int
    on_beat: bool


@dataclass
class DigestItem:
    """One story as a day's digest says it."""

    key: str
    story_id: int | None
    rank: int
    featured: bool
    score: float
    headline: str
    category: str
    relevance: Relevance
    sources: list[Source]
    entities: list[StoryEntity]
    reddit: list[RedditThread]
    independent_outlets: int
    new_outlets: list[str]  # outlets first seen on the day (all of them for a new story)
    first_reported: date | None  # set for a story that began on an earlier day
    summary: str | None = None  # TL;DR with inline [n] references (featured items only)
    summary_method: str | None = None
    tldr: list[dict] = field(default_factory=list)  # [{text, refs}]: rendered escaped, references kept
    key_figures: list[dict] = field(default_factory=list)  # KeyFigure.as_dict() + "refs" + "new"
    related: list[RelatedStory] = field(default_factory=list)
    line: str = ""  # the entity-timeline line: what this day added

    @property
    def continuing(self) -> bool:
        return self.first_reported is not None

    @property
    def primary_entities(self) -> list[StoryEntity]:
        return [e for e in self.entities if e.primary]


@dataclass
class ElsewhereItem:
    """An off-beat story: listed briefly (or not at all), never ranked."""

    headline: str
    outlets: list[str]
    url: str | None


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
    items: list[DigestItem] = field(default_factory=list)
    elsewhere: list[ElsewhereItem] = field(default_factory=list)
