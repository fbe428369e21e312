"""The 0002_reddit migration creates the reddit tables with their natural keys, on both backends."""

from datetime import datetime

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from newsroom.warehouse.schema.reddit import RedditPost, RedditSnapshot


def test_reddit_tables_and_keys(warehouse):
    insp = inspect(warehouse)
    assert {"reddit_posts", "reddit_snapshots", "reddit_comments"} <= set(insp.get_table_names())
    cols = {c["name"] for c in insp.get_columns("reddit_posts")}
    assert {"id", "subreddit", "title", "author", "created_at", "permalink", "url", "domain", "is_self", "selftext",
            "flair", "over_18", "link_kind", "article_id", "first_seen_at", "last_seen_at"} <= cols
    assert {"post_id", "run_key", "taken_at", "score", "num_comments", "upvote_ratio"} <= {
        c["name"] for c in insp.get_columns("reddit_snapshots")}
    assert {"id", "post_id", "parent_id", "depth", "author", "body", "score", "created_at", "rank"} <= {
        c["name"] for c in insp.get_columns("reddit_comments")}
    uniques = [set(u["column_names"]) for u in insp.get_unique_constraints("reddit_snapshots")]
    assert {"post_id", "run_key"} in uniques


def test_a_second_snapshot_for_the_same_run_is_refused_by_the_database(warehouse):
    with warehouse.begin() as conn:
        conn.execute(RedditPost.__table__.insert(), [{
            "id": "abc", "subreddit": "x", "title": "t", "permalink": "https://www.reddit.com/r/x/comments/abc/",
            "is_self": True, "over_18": False, "link_kind": "self", "via": "json",
            "first_seen_at": datetime(2026, 1, 1), "last_seen_at": datetime(2026, 1, 1)}])
    row = {"post_id": "abc", "run_key": "r1", "taken_at": datetime(2026, 1, 1),
           "score": 1, "num_comments": 0}
    with warehouse.begin() as conn:
        conn.execute(RedditSnapshot.__table__.insert(), [row])
    with pytest.raises(IntegrityError), warehouse.begin() as conn:
        conn.execute(RedditSnapshot.__table__.insert(), [row])
