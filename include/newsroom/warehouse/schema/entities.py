"""Tracked entities and their tags on articles and stories (owned by the entities stage).

* ``entities`` mirrors the entities file (synced by upsert; entities dropped from
  the file are kept with ``active = false`` so old tags and timelines still resolve).
* ``article_entities`` holds one row per (article, entity): direct mentions, or a
  parent credited through a more specific mention (``implied_by`` set, ``mentions = 0``).
* ``story_entities`` aggregates those per story.
* ``article_tagging`` remembers under which entities-file hash each article was
  tagged, so a changed file is detected and stale articles re-tagged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class EntityRow(Base):
    """One tracked entity, as in the entities file."""

    __tablename__ = "entities"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(120))
    categories: Mapped[list | None] = mapped_column(JSON)
    aliases: Mapped[list | None] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    links: Mapped[dict | None] = mapped_column(JSON)
    related: Mapped[list | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    entities_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ArticleEntity(Base):
    """An entity found in an article. PK (article_id, entity_id)."""

    __tablename__ = "article_entities"
    __table_args__ = (Index("ix_article_entities_entity_id_article_id", "entity_id", "article_id"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    mentions: Mapped[int] = mapped_column(Integer, default=0)
    in_title: Mapped[bool] = mapped_column(Boolean, default=False)
    first_position: Mapped[int | None] = mapped_column(Integer)
    salience: Mapped[float] = mapped_column(Float, default=0.0)
    implied_by: Mapped[str | None] = mapped_column(String(120))


class StoryEntity(Base):
    """An entity aggregated over a story's articles. PK (story_id, entity_id)."""

    __tablename__ = "story_entities"
    __table_args__ = (Index("ix_story_entities_entity_id", "entity_id"),)

    story_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    mentions: Mapped[int] = mapped_column(Integer, default=0)
    salience: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ArticleTagging(Base):
    """Which entities-file hash an article was last tagged under."""

    __tablename__ = "article_tagging"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    entities_hash: Mapped[str] = mapped_column(String(64), index=True)
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
