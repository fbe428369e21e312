"""A day's consumer views exported as Parquet and CSV, through the function and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from newsroom.export import export_day
from newsroom.warehouse import upsert
from newsroom.warehouse.schema import Base
from tests.unit.digest import rows as R

UTC = timezone.utc
PROJECT = Path(__file__).resolve().parents[2]
DAY = date(2026, 4, 9)


def seed_day(engine) -> dict:
    """Two articles of 9 April (London), one of 10 April, a story, a tag, a thread, a digest."""
    with engine.begin() as c:
        a1 = R.add_article(c, "https://a.example/1", outlet="A", title="Alpha launches", text="Alpha text " * 20,
                           published_at=datetime(2026, 4, 8, 23, 30, tzinfo=UTC))  # 00:30 BST on the 9th
        a2 = R.add_article(c, "https://b.example/2", outlet="B", title="Alpha again", text="More alpha " * 20,
                           published_at=None, first_seen_at=datetime(2026, 4, 9, 15, tzinfo=UTC))
        a3 = R.add_article(c, "https://c.example/3", outlet="C", title="Next day", text="Later " * 20,
                           published_at=datetime(2026, 4, 9, 23, 30, tzinfo=UTC))  # 00:30 BST on the 10th
        R.add_story(c, a1, [a1, a2], title="Alpha launches", first=datetime(2026, 4, 8, 23, 30, tzinfo=UTC),
                    last=datetime(2026, 4, 9, 15, tzinfo=UTC))
        R.add_story(c, a3, [a3], title="Next day", first=datetime(2026, 4, 9, 23, 30, tzinfo=UTC),
                    last=datetime(2026, 4, 9, 23, 30, tzinfo=UTC))
        R.add_entity(c, "alpha", "Alpha", "company")
        R.tag(c, a1, "alpha", mentions=3, in_title=True, salience=0.8)
        R.tag(c, a3, "alpha", mentions=1)
        R.add_reddit(c, "abc1", article_id=a1, url="https://a.example/1", subreddit="AI", score=10, comments=2,
                     taken_at=datetime(2026, 4, 9, 9, tzinfo=UTC))
        upsert(c, Base.metadata.tables["reddit_snapshots"], [{
            "post_id": "abc1", "run_key": "later", "taken_at": datetime(2026, 4, 9, 18, tzinfo=UTC), "score": 99,
            "num_comments": 7, "upvote_ratio": 0.95}], keys=["post_id", "run_key"])
        upsert(c, Base.metadata.tables["digests"], [{
            "day": DAY, "beat": "AI", "title": "2026-04-09-AI-Digest", "markdown": "# d", "feeds_checked": 3,
            "subreddits_checked": 1, "articles_count": 2, "stories_count": 1, "path": "digests/x.md",
            "content_hash": "0" * 64, "generated_at": datetime(2026, 4, 10, 6, tzinfo=UTC)}], keys=["day", "beat"])
        upsert(c, Base.metadata.tables["digest_items"], [{
            "day": DAY, "beat": "AI", "rank": 1, "featured": True, "story_id": a1, "headline": "Alpha launches",
            "category": "Launch", "summary": "Alpha launched.", "summary_method": "extractive", "score": 1.5,
            "key_figures": ["$5 million"], "sources": [{"n": 1, "outlet": "A", "url": "https://a.example/1",
                                                        "article_id": a1}],
            "entities": [{"id": "alpha", "name": "Alpha"}], "reddit": []}], keys=["day", "beat", "rank"])
    return {"a1": a1, "a2": a2, "a3": a3}


def test_parquet_export_has_the_day_typed(warehouse, tmp_path):
    ids = seed_day(warehouse)
    res = export_day(warehouse, DAY, tmp_path, fmt="parquet", tz="Europe/London")
    assert res.counts == {"articles": 2, "stories": 1, "digest_items": 1, "entity_mentions": 1, "reddit_threads": 1,
                          "entity_metrics": 0}
    arts = pq.read_table(tmp_path / "2026-04-09" / "articles.parquet").to_pylist()
    assert [a["article_id"] for a in arts] == [ids["a1"], ids["a2"]]
    assert arts[0]["dated_at"] == datetime(2026, 4, 8, 23, 30, tzinfo=UTC)
    assert arts[0]["story_id"] == ids["a1"] == arts[1]["story_id"]
    items = pq.read_table(tmp_path / "2026-04-09" / "digest_items.parquet")
    assert str(items.schema.field("day").type) == "date32[day]"
    item = items.to_pylist()[0]
    assert item["day"] == DAY and item["featured"] is True and item["digest_title"] == "2026-04-09-AI-Digest"
    assert json.loads(item["sources"])[0]["article_id"] == ids["a1"]
    thread = pq.read_table(tmp_path / "2026-04-09" / "reddit_threads.parquet").to_pylist()[0]
    assert (thread["score"], thread["num_comments"]) == (99, 7)  # the latest snapshot, not the first
    mention = pq.read_table(tmp_path / "2026-04-09" / "entity_mentions.parquet").to_pylist()[0]
    assert (mention["entity_name"], mention["mentions"], mention["in_title"]) == ("Alpha", 3, True)
    manifest = json.loads((tmp_path / "2026-04-09" / "manifest.json").read_text())
    from alembic.script import ScriptDirectory

    from newsroom.warehouse.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(warehouse)).get_current_head()
    assert manifest["schema_revision"] == head and manifest["files"]["articles"]["rows"] == 2


def test_csv_export_and_an_empty_day_keeps_the_header(warehouse, tmp_path):
    seed_day(warehouse)
    res = export_day(warehouse, DAY, tmp_path, fmt="csv", tz="Europe/London")
    stories = pacsv.read_csv(tmp_path / "2026-04-09" / "stories.csv").to_pylist()
    assert [s["title"] for s in stories] == ["Alpha launches"] and res.counts["stories"] == 1
    empty = export_day(warehouse, date(2026, 1, 1), tmp_path, fmt="csv", tz="Europe/London")
    assert set(empty.counts.values()) == {0}
    header = (tmp_path / "2026-01-01" / "articles.csv").read_text().splitlines()[0]
    assert header.startswith('"article_id","canonical_url"')
    export_day(warehouse, date(2026, 1, 1), tmp_path, fmt="parquet", tz="Europe/London")  # typed when empty too
    schema = pq.read_schema(tmp_path / "2026-01-01" / "articles.parquet")
    assert str(schema.field("dated_at").type) == "timestamp[us, tz=UTC]"
    with pytest.raises(ValueError):
        export_day(warehouse, DAY, tmp_path, fmt="xlsx")


def test_cli_export(warehouse, warehouse_url, tmp_path):
    seed_day(warehouse)
    env = {**os.environ, "NEWSROOM_WAREHOUSE_URL": warehouse_url,
           "PYTHONPATH": os.pathsep.join([str(PROJECT / "include"), str(PROJECT)])}
    out = subprocess.run([sys.executable, "-m", "newsroom", "export", "--day", "2026-04-09", "--format", "csv",
                          "--out", str(tmp_path / "x"), "--timezone", "Europe/London"],
                         capture_output=True, text=True, env=env, check=True)
    assert "articles.csv" in out.stdout
    rows = pacsv.read_csv(tmp_path / "x" / "2026-04-09" / "articles.csv").to_pylist()
    assert len(rows) == 2
