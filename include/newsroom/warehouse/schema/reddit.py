"""Reddit tables: posts, their engagement over time, and their top comments.

A post is stored once (natural key: Reddit's base36 id) and refreshed on every
run; its score and comment count change, so they live in ``reddit_snapshots``,
one row per (post, run) — a rerun of the same run overwrites its own snapshot,
a new run adds one, so a thread's rise is visible over time. Comments are keyed
by their own Reddit id, so re-fetching a thread updates scores in place.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class RedditPost(Base):
    """One submission (``t3``). ``link_kind`` says what the post points at:
    ``self`` (text post), ``article`` (an outside page, extracted into
    ``articles``), ``reddit`` (another thread/gallery), ``image``, ``video`` or
    ``other``. ``article_id`` links the thread to its article (the linked page,
    or the self post's own text)."""

    __tablename__ = "reddit_posts"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # base36, without "t3_"
    subreddit: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    permalink: Mapped[str] = mapped_column(Text)  # absolute https://www.reddit.com/r/…/comments/…
    url: Mapped[str | None] = mapped_column(Text)
    domain: Mapped[str | None] = mapped_column(String(255))
    is_self: Mapped[bool] = mapped_column(Boolean, default=False)
    selftext: Mapped[str | None] = mapped_column(Text)
    flair: Mapped[str | None] = mapped_column(Text)
    over_18: Mapped[bool] = mapped_column(Boolean, default=False)
    link_kind: Mapped[str] = mapped_column(String(20))  # self|article|reddit|image|video|other
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(10), default="json")  # json | rss: how it was last read
    # The comment count when the thread was last read: a thread is re-read only
    # when its count moved, which keeps reruns cheap in requests.
    thread_num_comments: Mapped[int | None] = mapped_column(Integer)
    thread_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RedditSnapshot(Base):
    """Engagement of one post as seen in one run. Unique per (post_id, run_key)."""

    __tablename__ = "reddit_snapshots"
    __table_args__ = (UniqueConstraint("post_id", "run_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("reddit_posts.id", ondelete="CASCADE"), index=True)
    run_key: Mapped[str] = mapped_column(String(250))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    score: Mapped[int] = mapped_column(Integer, default=0)
    num_comments: Mapped[int] = mapped_column(Integer, default=0)
    upvote_ratio: Mapped[float | None] = mapped_column(Float)


class RedditComment(Base):
    """One of the top-N comments of a thread (``t1``), the tree flattened:
    ``parent_id`` is the full Reddit name of the parent (``t3_…`` for a
    top-level comment, ``t1_…`` for a reply) and ``depth`` is 0 at top level.
    ``rank`` is the position in the thread's top N as of its latest read (1 = best);
    0 once the comment has dropped out of it (the row stays, with its last score).
    Ranks above 0 are unique per thread (partial unique index)."""

    __tablename__ = "reddit_comments"
    __table_args__ = (Index("uq_reddit_comments_post_rank", "post_id", "rank", unique=True,
                            sqlite_where=text("rank > 0"), postgresql_where=text("rank > 0")),)

    id: Mapped[str] = mapped_column(String(20), primary_key=True)  # base36, without "t1_"
    post_id: Mapped[str] = mapped_column(ForeignKey("reddit_posts.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(30))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    author: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    score: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
