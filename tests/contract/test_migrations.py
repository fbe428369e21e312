"""Schema changes upgrade a warehouse that has data in it: 0005 → head (0006_views) keeps every
row and the consumer views return it; downgrading removes only the views. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone

from alembic import command
from sqlalchemy import func, inspect, select

from newsroom.warehouse import connect, migrate
from newsroom.warehouse.db import alembic_config
from newsroom.warehouse.views import CONSUMER_VIEWS, day_rows
from tests.unit.test_export import seed_day

UTC = timezone.utc


def _counts(engine) -> dict[str, int]:
    from newsroom.warehouse.schema import Base

    names = sorted(set(inspect(engine).get_table_names()) - {"alembic_version"})
    with engine.connect() as c:
        return {n: c.execute(select(func.count()).select_from(Base.metadata.tables[n])).scalar_one() for n in names}


def _alembic(engine, fn, revision):
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, revision)


def test_upgrade_from_0005_with_data_keeps_rows_and_views_return_them(warehouse_url):
    engine = connect(warehouse_url)
    migrate(engine, "0005_digest")
    assert inspect(engine).get_view_names() == []
    ids = seed_day(engine)  # articles, stories, tags, a Reddit thread with two snapshots, a digest
    before = _counts(engine)
    assert before["articles"] == 3 and before["reddit_snapshots"] == 2

    _alembic(engine, command.upgrade, "head")
    assert sorted(inspect(engine).get_view_names()) == sorted(CONSUMER_VIEWS)
    # later migrations add (empty) tables of their own; every table that had rows keeps them
    assert {k: v for k, v in _counts(engine).items() if k in before} == before
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(CONSUMER_VIEWS["v_articles"])).scalar_one() == 3
        story = c.execute(select(CONSUMER_VIEWS["v_articles"].c.story_id)
                          .where(CONSUMER_VIEWS["v_articles"].c.article_id == ids["a2"])).scalar_one()
    assert story == ids["a1"]
    day = date(2026, 4, 9)
    assert [r["article_id"] for r in day_rows(engine, "v_articles", day, "Europe/London")] == [ids["a1"], ids["a2"]]
    thread = day_rows(engine, "v_reddit_threads", day, "Europe/London")
    assert [(t["score"], t["engagement_at"]) for t in thread] == [(99, datetime(2026, 4, 9, 18, tzinfo=UTC))]
    mentions = day_rows(engine, "v_entity_mentions", day, "Europe/London")
    assert [(m["article_id"], m["entity_name"], m["story_id"]) for m in mentions] == [(ids["a1"], "Alpha", ids["a1"])]
    items = day_rows(engine, "v_digest_items", day, "Europe/London")
    assert [(i["rank"], i["digest_title"], i["sources"][0]["article_id"]) for i in items] == \
        [(1, "2026-04-09-AI-Digest", ids["a1"])]
    assert [s["story_id"] for s in day_rows(engine, "v_stories", day, "Europe/London")] == [ids["a1"]]

    # Down again: the views go, the data stays; and up once more is clean.
    _alembic(engine, command.downgrade, "0005_digest")
    assert inspect(engine).get_view_names() == [] and _counts(engine) == before
    _alembic(engine, command.upgrade, "head")
    assert len(inspect(engine).get_view_names()) == len(CONSUMER_VIEWS)
