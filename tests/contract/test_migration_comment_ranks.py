"""0008_comment_ranks on a warehouse holding the old defect (two comments at rank 5
in one thread): the stale rank becomes 0, the latest read's ranks stay, and the partial
unique index then refuses a repeat. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from newsroom.warehouse import connect, migrate
from newsroom.warehouse.db import alembic_config
from newsroom.warehouse.schema.reddit import RedditComment, RedditPost

UTC = timezone.utc
OLD, NEW = datetime(2026, 4, 1, 9, tzinfo=UTC), datetime(2026, 4, 1, 10, tzinfo=UTC)


def test_upgrade_clears_stale_ranks_and_then_enforces_unique_ones(warehouse_url):
    engine = connect(warehouse_url)
    migrate(engine, "0007_i16_entity_metrics")
    with engine.begin() as conn:
        conn.execute(insert(RedditPost.__table__).values(
            id="p1", subreddit="x", title="t", permalink="https://www.reddit.com/r/x/comments/p1/", is_self=True,
            over_18=False, link_kind="self", via="json", first_seen_at=OLD, last_seen_at=NEW))
        rows = [("stale", 5, OLD), ("now5", 5, NEW), ("now1", 1, NEW), ("never", 0, OLD)]
        conn.execute(insert(RedditComment.__table__), [
            {"id": cid, "post_id": "p1", "depth": 0, "body": cid, "score": 1, "rank": rank,
             "first_seen_at": OLD, "last_seen_at": seen} for cid, rank, seen in rows])
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008_comment_ranks")
    with engine.connect() as conn:
        ranks = dict(conn.execute(select(RedditComment.id, RedditComment.rank)).all())
    assert ranks == {"stale": 0, "now5": 5, "now1": 1, "never": 0}
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(RedditComment.__table__.update().where(RedditComment.id == "stale").values(rank=1))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007_i16_entity_metrics")
    with engine.begin() as conn:  # without the index, repeats are storable again
        conn.execute(RedditComment.__table__.update().where(RedditComment.id == "stale").values(rank=1))
