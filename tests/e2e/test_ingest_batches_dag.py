"""newsroom_ingest maps over batches of feeds (``dag.test()``, real HTTP server, SQLite and
PostgreSQL): each batch task names its sources, returns each one's result, and one broken
feed fails its own batch task (without retries) while the rest of its batch is stored."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml
from sqlalchemy import select

from tests.batch_site import site

pytestmark = [pytest.mark.airflow]

FEEDS, PER_FEED, PER_TASK = 11, 2, 3


def test_batches_store_every_source_and_a_broken_one_fails_only_its_batch(replay_server, settings, tmp_path,
                                                                          monkeypatch, airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    from newsroom.settings import get_settings
    from newsroom.warehouse import open_warehouse
    from newsroom.warehouse.schema import Article, PipelineRun, Source, SourceRun
    from tests.airflow_env import PROJECT

    feeds = site(replay_server, n_feeds=FEEDS, per_feed=PER_FEED, shared=False)
    names = list(feeds)
    names.insert(4, "broken")
    feeds["broken"] = replay_server.add("/broken.xml", "<html>not a feed</html>", content_type="text/html")
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"feeds": [{"name": n, "url": feeds[n]} for n in names]}))
    monkeypatch.setenv("NEWSROOM_SOURCES", str(path))
    monkeypatch.setenv("NEWSROOM_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("NEWSROOM_FEEDS_PER_TASK", str(PER_TASK))
    get_settings.cache_clear()

    dag = DagBag(dag_folder=str(PROJECT / "dags")).dags["newsroom_ingest"]
    dr = dag.test(logical_date=datetime(2026, 4, 8, 10, tzinfo=timezone.utc))

    tis = {ti.map_index: ti for ti in dr.get_task_instances() if ti.task_id == "ingest_feed"}
    assert len(tis) == 4  # 12 feeds, 3 per task
    labels = {i: ti.rendered_map_index for i, ti in tis.items()}
    assert sorted(n for label in labels.values() for n in label.split(", ")) == sorted(names), labels
    broken_batch = next(i for i, label in labels.items() if "broken" in label.split(", "))
    states = {i: (str(ti.state), ti.try_number) for i, ti in tis.items()}
    assert states[broken_batch] == ("failed", 1), states  # not_a_feed: no retry can fix it
    assert all(s == ("success", 1) for i, s in states.items() if i != broken_batch), states
    assert str(dr.state) == "success"  # health.max_failed_share defaults to 1.0

    returned = {i: ti.xcom_pull(task_ids="ingest_feed", map_indexes=i) for i, ti in tis.items()
                if i != broken_batch}
    for i, value in returned.items():
        assert [r["source"] for r in value["sources"]] == labels[i].split(", ")
        assert all(r["status"] == "ok" and r["new_articles"] == PER_FEED for r in value["sources"])

    mates = tis[broken_batch].xcom_pull(task_ids="ingest_feed", map_indexes=broken_batch, key="sources")
    assert {r["source"]: r["status"] for r in mates} == {n: ("failed" if n == "broken" else "ok")
                                                         for n in labels[broken_batch].split(", ")}

    with open_warehouse(get_settings().resolved_warehouse_url).connect() as c:
        runs = {n: st for n, st in c.execute(select(Source.name, SourceRun.status)
                                              .join(SourceRun, SourceRun.source_id == Source.id))}
        broken = c.execute(select(Source).where(Source.name == "broken")).one()
        articles = c.execute(select(Article.url)).scalars().all()
        summary = c.execute(select(PipelineRun)).one()
    assert runs == {**{n: "ok" for n in names if n != "broken"}, "broken": "failed"}
    assert broken.last_error.startswith("not_a_feed")
    assert len(articles) == FEEDS * PER_FEED
    assert (summary.sources_ok, summary.sources_failed, summary.new_articles) == (FEEDS, 1, FEEDS * PER_FEED)
