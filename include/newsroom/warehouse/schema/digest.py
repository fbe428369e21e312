"""Digest tables (owned by the digest stage): what each daily digest said.

``digests`` holds one row per (day, beat) with the rendered Markdown, so the
vault can be rebuilt from the warehouse alone; ``digest_items`` one row per
ranked story; ``entity_timeline`` one row per (entity, day, story) — the
source of every entity note's Timeline. A day's items and timeline rows are
replaced in one transaction, so readers never see half a digest.

``story_id`` is a loose reference (no foreign key): stories merge, and a
digest must keep saying what it said on the day even if its story was later
merged into another.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class Digest(Base):
    """One daily digest note. Unique per (day, beat)."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("day", "beat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    beat: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(Text)
    markdown: Mapped[str] = mapped_column(Text)
    feeds_checked: Mapped[int] = mapped_column(Integer, default=0)
    subreddits_checked: Mapped[int] = mapped_column(Integer, default=0)
    articles_count: Mapped[int] = mapped_column(Integer, default=0)
    stories_count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestItem(Base):
    """One story of a digest, in rank order. Unique per (day, beat, rank)."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("day", "beat", "rank"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    beat: Mapped[str] = mapped_column(String(60))
    rank: Mapped[int] = mapped_column(Integer)
    featured: Mapped[bool] = mapped_column(Boolean, default=True)  # top N, else "also today"
    story_id: Mapped[int | None] = mapped_column(Integer, index=True)
    headline: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(60))
    summary: Mapped[str | None] = mapped_column(Text)
    summary_method: Mapped[str | None] = mapped_column(String(20))  # extractive | llm
    score: Mapped[float] = mapped_column(Float, default=0.0)
    key_figures: Mapped[list | None] = mapped_column(JSON)
    sources: Mapped[list | None] = mapped_column(JSON)  # [{n, outlet, title, url, article_id}]
    entities: Mapped[list | None] = mapped_column(JSON)  # [{id, name, salience}]
    reddit: Mapped[list | None] = mapped_column(JSON)  # [{post_id, subreddit, score, comments, permalink}]


class EntityTimeline(Base):
    """A dated line of an entity's Timeline. Unique per (entity, day, beat, story)."""

    __tablename__ = "entity_timeline"
    __table_args__ = (UniqueConstraint("entity_id", "day", "beat", "story_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(String(200), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    beat: Mapped[str] = mapped_column(String(60))
    story_id: Mapped[int | None] = mapped_column(Integer)
    # story id, or "a<article id>" for an article no story holds: NULLs are never equal in a
    # unique constraint, so the natural key needs a non-null column.
    story_key: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int] = mapped_column(Integer)
    line: Mapped[str] = mapped_column(Text)
    digest_title: Mapped[str] = mapped_column(Text)


class SummaryCache(Base):
    """LLM summaries by content hash (model + prompt + input), so reruns cost nothing."""

    __tablename__ = "digest_summary_cache"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
