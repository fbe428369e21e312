"""The consumer views (created by migration ``0006_views``), typed for reading.

    from newsroom.warehouse.views import CONSUMER_VIEWS, day_rows
    rows = day_rows(engine, "v_articles", date(2026, 4, 9), tz="Europe/London")

Other teams read these views, not the tables (``docs/warehouse.md`` is the
contract). They are declared here as SQLAlchemy ``Table`` objects on their own
``MetaData`` — never ``Base.metadata``, so ``create_all`` and autogenerate do not
mistake them for tables — with the same column types as the tables under them.
Selecting through these objects makes both backends return the same Python
values (timezone-aware UTC datetimes, dates, parsed JSON), which SQLite would
not do for a raw ``SELECT * FROM v_articles``.

``day_rows`` is "what belongs to local day D" for each view, the same rule the
digest uses: articles and mentions by ``dated_at`` (published, else first seen)
in ``[D 00:00, D+1 00:00)`` local; stories that have an article of that day;
digest items of day D; Reddit threads created (else first seen) that day; entity figures
observed on day D.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    select,
)

from newsroom.warehouse.schema.base import UTCDateTime

metadata = MetaData()

v_articles = Table(
    "v_articles", metadata,
    Column("article_id", Integer), Column("canonical_url", Text), Column("url", Text),
    Column("origin", String(20)), Column("outlet", String(200)), Column("sitename", Text), Column("title", Text),
    Column("author", Text), Column("language", String(20)), Column("published_at", UTCDateTime),
    Column("first_seen_at", UTCDateTime), Column("dated_at", UTCDateTime), Column("description", Text),
    Column("text", Text), Column("word_count", Integer), Column("extraction_status", String(20)),
    Column("extraction_reason", Text), Column("duplicate_of", Integer), Column("duplicate_kind", String(20)),
    Column("story_id", Integer), Column("source_name", String(200)), Column("updated_at", UTCDateTime),
)

v_stories = Table(
    "v_stories", metadata,
    Column("story_id", Integer), Column("title", Text), Column("representative_article_id", Integer),
    Column("representative_url", Text), Column("first_seen_at", UTCDateTime), Column("last_seen_at", UTCDateTime),
    Column("article_count", Integer), Column("outlet_count", Integer), Column("merged_into", Integer),
    Column("updated_at", UTCDateTime),
)

v_digest_items = Table(
    "v_digest_items", metadata,
    Column("day", Date), Column("beat", String(60)), Column("rank", Integer), Column("featured", Boolean),
    Column("story_id", Integer), Column("headline", Text), Column("category", String(60)), Column("summary", Text),
    Column("summary_method", String(20)), Column("score", Float), Column("key_figures", JSON),
    Column("sources", JSON), Column("entities", JSON), Column("reddit", JSON), Column("digest_title", Text),
    Column("digest_path", Text), Column("generated_at", UTCDateTime),
)

v_entity_mentions = Table(
    "v_entity_mentions", metadata,
    Column("article_id", Integer), Column("entity_id", String(120)), Column("entity_name", String(200)),
    Column("entity_type", String(40)), Column("mentions", Integer), Column("in_title", Boolean),
    Column("first_position", Integer), Column("salience", Float), Column("implied_by", String(120)),
    Column("outlet", String(200)), Column("article_title", Text), Column("canonical_url", Text),
    Column("dated_at", UTCDateTime), Column("duplicate_of", Integer), Column("story_id", Integer),
)

v_reddit_threads = Table(
    "v_reddit_threads", metadata,
    Column("post_id", String(20)), Column("subreddit", String(100)), Column("title", Text),
    Column("author", String(100)), Column("created_at", UTCDateTime), Column("permalink", Text), Column("url", Text),
    Column("domain", String(255)), Column("is_self", Boolean), Column("over_18", Boolean), Column("flair", Text),
    Column("link_kind", String(20)), Column("article_id", Integer), Column("first_seen_at", UTCDateTime),
    Column("last_seen_at", UTCDateTime), Column("dated_at", UTCDateTime), Column("score", Integer),
    Column("num_comments", Integer), Column("upvote_ratio", Float), Column("engagement_at", UTCDateTime),
)

# Entity figures over time (migration 0007_i16_entity_metrics): good observations only, with the
# change over 1/7/30 days and whether the row is the subject's latest figure.
v_entity_metrics = Table(
    "v_entity_metrics", metadata,
    Column("entity_id", String(120)), Column("entity_name", String(200)), Column("service", String(20)),
    Column("subject", String(300)), Column("metric", String(40)), Column("day", Date), Column("value", BigInteger),
    Column("value_text", Text), Column("status", String(20)), Column("link", Text), Column("source_url", Text),
    Column("observed_at", UTCDateTime), Column("is_latest", Boolean), Column("change_1d", BigInteger),
    Column("change_7d", BigInteger), Column("change_30d", BigInteger),
)

CONSUMER_VIEWS: dict[str, Table] = {t.name: t for t in
                                    (v_articles, v_stories, v_digest_items, v_entity_mentions, v_reddit_threads,
                                     v_entity_metrics)}
# The order a day's export writes them in, and the order a column's key sorts by.
_ORDER = {
    "v_articles": ("dated_at", "article_id"),
    "v_stories": ("first_seen_at", "story_id"),
    "v_digest_items": ("beat", "rank"),
    "v_entity_mentions": ("article_id", "entity_id"),
    "v_reddit_threads": ("dated_at", "post_id"),
    "v_entity_metrics": ("entity_id", "subject", "metric"),
}


def day_query(name: str, day: date, tz: ZoneInfo | str, beat: str | None = None):
    """The SELECT of view ``name`` restricted to local day ``day`` (see the module doc)."""
    from newsroom.days import day_window

    t = CONSUMER_VIEWS[name]
    start, end = day_window(day, tz)
    if name in ("v_digest_items", "v_entity_metrics"):
        cond = t.c.day == day
        if beat is not None and "beat" in t.c:
            cond = and_(cond, t.c.beat == beat)
    elif name == "v_stories":
        cond = t.c.story_id.in_(select(v_articles.c.story_id).where(
            v_articles.c.dated_at >= start, v_articles.c.dated_at < end, v_articles.c.story_id.isnot(None)))
    else:
        cond = and_(t.c.dated_at >= start, t.c.dated_at < end)
    return select(t).where(cond).order_by(*(t.c[c] for c in _ORDER[name]))


def day_rows(engine: Engine, name: str, day: date, tz: ZoneInfo | str, beat: str | None = None) -> list[dict[str, Any]]:
    """Rows of view ``name`` for local day ``day``, as dicts with typed values."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(day_query(name, day, tz, beat))]
