"""Dedup and stories tables: what one article looks like to the comparisons,
the index that finds its neighbours, and the stories built from them.

- ``article_signatures``: one row per processed article (its presence is the
  dedup stage's own "processed" marker; ``articles.processed_at`` belongs to the
  pipeline). Holds the normalised-text hash, the MinHash signature, the story
  term vectors and the time used for the window, so a new batch is compared
  with the archive without recomputing anything for the archive.
- ``lsh_bands``: the MinHash LSH index kept in the database, one row per
  (band, bucket, article). A new article looks up its own BANDS keys: the cost
  does not grow with the archive (only with the bucket's population).
- ``article_terms``: an inverted index of each article's strongest terms with
  its time, so story candidates are found by (term, time-in-window) lookups.
- ``stories`` / ``story_articles`` / ``story_merges``: the clustering result.
  A merged story keeps its row with ``merged_into`` set, and the merge is
  logged, so consumers holding an old id can follow it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class ArticleSignature(Base):
    """What the dedup and story comparisons need to know about one article."""

    __tablename__ = "article_signatures"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # sha256 of the normalised text
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)  # NUM_PERM little-endian uint32
    shingle_count: Mapped[int] = mapped_column(Integer, default=0)
    vector: Mapped[dict | None] = mapped_column(JSON)  # top terms of title+text, L2-normalised
    title_vector: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # published_at or first_seen_at
    outlet: Mapped[str | None] = mapped_column(String(200))
    # Root of this article's duplicate group (the original), NULL when it has no copies.
    dup_root: Mapped[int | None] = mapped_column(Integer, index=True)
    params_version: Mapped[int] = mapped_column(SmallInteger, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LshBand(Base):
    """One MinHash LSH band bucket of one article."""

    __tablename__ = "lsh_bands"

    # bucket first: lookups are ``bucket IN (…)`` on the primary key's leading column.
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class ArticleTerm(Base):
    """One of an article's index terms, with the article's time (for window lookups)."""

    __tablename__ = "article_terms"
    __table_args__ = (Index("ix_article_terms_term_at", "term", "at"),)

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Story(Base):
    """One event, as covered by one or more articles.

    ``id`` is the id of the article that founded the story (deterministic for a
    given warehouse, and unique because an article founds at most one story).
    """

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str | None] = mapped_column(Text)
    representative_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    outlet_count: Mapped[int] = mapped_column(Integer, default=0)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StoryArticle(Base):
    """Membership: an article is in exactly one (live) story."""

    __tablename__ = "story_articles"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    similarity: Mapped[float | None] = mapped_column(Float)  # best link to another member when it joined
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StoryMerge(Base):
    """``from_story_id`` was merged into ``into_story_id`` because ``bridge_article_id`` linked them.
    A story is merged at most once (it is dead afterwards), hence unique on ``from_story_id``."""

    __tablename__ = "story_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_story_id: Mapped[int] = mapped_column(Integer, unique=True)
    into_story_id: Mapped[int] = mapped_column(Integer, index=True)
    bridge_article_id: Mapped[int | None] = mapped_column(Integer)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["ArticleSignature", "ArticleTerm", "LshBand", "Story", "StoryArticle", "StoryMerge"]
