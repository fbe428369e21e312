from datetime import datetime, timezone

from sqlalchemy import func, inspect, select

from newsroom.warehouse import upsert
from newsroom.warehouse.schema import Article, Source


def test_migrate_creates_core_tables(warehouse):
    names = set(inspect(warehouse).get_table_names())
    assert {"sources", "captures", "feed_entries", "articles", "fetch_log", "pipeline_runs"} <= names


def test_upsert_is_idempotent_and_updates(warehouse):
    row = {"name": "a", "kind": "feed", "url": "http://x/feed", "outlet": "X", "enabled": True,
           "consecutive_failures": 0, "gone_count": 0}
    with warehouse.begin() as conn:
        upsert(conn, Source, [row], keys=["name"])
        upsert(conn, Source, [row], keys=["name"])
        upsert(conn, Source, [{**row, "outlet": "Y"}], keys=["name"], update=["outlet"])
    with warehouse.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Source)).scalar() == 1
        assert conn.execute(select(Source.outlet)).scalar() == "Y"


def test_timestamps_round_trip_as_utc(warehouse):
    ts = datetime(2026, 4, 8, 17, 30, tzinfo=timezone.utc)
    with warehouse.begin() as conn:
        upsert(conn, Article, [{"canonical_url": "https://e.com/a", "url": "https://e.com/a",
                                "extraction_status": "ok", "published_at": ts, "first_seen_at": ts,
                                "word_count": 0, "origin": "feed", "updated_at": ts}], keys=["canonical_url"])
    with warehouse.connect() as conn:
        got = conn.execute(select(Article.published_at)).scalar()
    assert got == ts and got.tzinfo is not None
