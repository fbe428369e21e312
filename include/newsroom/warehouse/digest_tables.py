"""Lightweight handles on the tables the digest reads but other stages own.

``sqlalchemy.table()`` rather than the other stages' models, so the digest
depends only on the column names agreed in ``docs/warehouse.md`` (the warehouse contract); typed
columns where values need converting (UTC timestamps, JSON on SQLite).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text, column, table

from newsroom.warehouse.schema.base import UTCDateTime
from newsroom.warehouse.schema.core import Article

articles = Article.__table__

stories = table(
    "stories",
    column("id", Integer),
    column("title", Text),
    column("representative_article_id", Integer),
    column("first_seen_at", UTCDateTime()),
    column("last_seen_at", UTCDateTime()),
    column("article_count", Integer),
    column("outlet_count", Integer),
    column("merged_into", Integer),
)
story_articles = table("story_articles", column("story_id", Integer), column("article_id", Integer))
entities = table(
    "entities",
    column("id", String),
    column("name", Text),
    column("type", String),
    column("parent_id", String),
    column("categories", JSON),
    column("aliases", JSON),
    column("description", Text),
    column("links", JSON),
    column("related", JSON),
    column("active", Boolean),
)
article_entities = table(
    "article_entities",
    column("article_id", Integer),
    column("entity_id", String),
    column("mentions", Integer),
    column("in_title", Boolean),
    column("first_position", Integer),
    column("salience", Float),
)
reddit_posts = table(
    "reddit_posts",
    column("id", String),
    column("subreddit", String),
    column("title", Text),
    column("permalink", Text),
    column("url", Text),
    column("article_id", Integer),
)
reddit_snapshots = table(
    "reddit_snapshots",
    column("post_id", String),
    column("taken_at", UTCDateTime()),
    column("score", Integer),
    column("num_comments", Integer),
)
reddit_comments = table(
    "reddit_comments",
    column("id", String),
    column("post_id", String),
    column("depth", Integer),
    column("author", String),
    column("body", Text),
    column("score", Integer),
    column("rank", Integer),
)
