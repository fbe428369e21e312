"""The rows the digest reads from the warehouse, as typed records.

:mod:`newsroom.warehouse.digest_reads` returns them and :mod:`newsroom.digest`
composes them into ``DigestItem``s (``digest/records.py`` re-exports them, so
the digest's steps import every record from one place). They live here, beside
their reader, because the warehouse sits below the digest and never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class ArticleRow:
    """One article as the digest reads it from ``articles``."""

    id: int
    url: str
    canonical_url: str
    outlet: str | None
    title: str | None
    text: str | None
    description: str | None
    published_at: datetime | None
    first_seen_at: datetime
    origin: str = "feed"
    source_id: int | None = None
    source_tags: tuple[str, ...] = ()
    duplicate_of: int | None = None
    sitename: str | None = None  # the page's own name for its site (og:site_name), from extraction

    @property
    def at(self) -> datetime:
        return self.published_at or self.first_seen_at


@dataclass
class ArticleTag:
    """One ``article_entities`` row with the entity's catalogue fields."""

    article_id: int
    entity_id: str
    mentions: int
    in_title: bool
    salience: float
    name: str
    type: str | None
    aliases: Any


@dataclass
class StoryEntity:
    """A tracked entity aggregated over a story's cited articles."""

    id: str
    name: str
    type: str | None
    article_count: int
    mentions: int
    in_title: bool
    salience: float  # mean over the story's cited articles (0..1)
    primary: bool
    forms: list[str]
    strong: bool = True  # more than one weak mention somewhere (see digest.relevance)


@dataclass
class RedditThread:
    post_id: str
    subreddit: str
    title: str | None
    permalink: str | None
    score: int
    num_comments: int
    comments: list[dict] = field(default_factory=list)

    def as_row(self) -> dict:
        return {"post_id": self.post_id, "subreddit": self.subreddit, "title": self.title,
                "permalink": self.permalink, "score": self.score, "num_comments": self.num_comments}


@dataclass
class StoryBundle:
    """A story as the digest reads it on one day: its cited originals and their copies."""

    key: str  # story id, or "a<article id>" for an article in no story
    story_id: int | None
    title: str | None
    articles: list[ArticleRow]  # originals dated before the window's end, oldest first
    day_article_ids: set[int]  # those published (or first seen) inside the day's window
    copies: dict[int, list[ArticleRow]] = field(default_factory=dict)  # original id → syndicated copies
    tags: dict[int, list[ArticleTag]] = field(default_factory=dict)  # article id → its tags
    entities: list[StoryEntity] = field(default_factory=list)  # filled by composition
    reddit: list[RedditThread] = field(default_factory=list)


@dataclass
class RelatedStory:
    story_id: int
    title: str | None
    day: date  # local day it was last seen
