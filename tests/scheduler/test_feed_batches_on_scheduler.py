"""Batches of feeds under a real scheduler (LocalExecutor, what ``make run`` starts), the
run triggered and watched through the REST API: each batch task's map index names its
sources and its XCom lists each one's result; one broken feed fails its own batch task
without retries while the others of that batch are stored; every page goes through the
extraction pool of a real task process (threads of a batch sharing it) with its text."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from sqlalchemy import create_engine, select

from tests.batch_site import site

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DAG_ID = "newsroom_ingest"
FEEDS, PER_FEED, PER_TASK = 8, 6, 3  # 6 pages per feed: more than the pool's in-process shortcut
RUN_TIMEOUT_S = 420


def _serialized(af):
    try:
        return af.api("GET", f"/api/v2/dags/{DAG_ID}")
    except RuntimeError as exc:
        if "→ 404" in str(exc):
            return None
        raise


def test_batched_feeds_on_the_scheduler(tmp_path):
    from tests.backfill.cluster import AirflowCluster
    from tests.conftest import create_pg_database, pg_available
    from tests.replay_server import ReplayServer

    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    from newsroom.warehouse import dispose_all, migrate_warehouse
    from newsroom.warehouse.schema import Article, PipelineRun, Source, SourceRun

    wh_url, drop = create_pg_database()
    try:
        migrate_warehouse(wh_url)
        dispose_all()
        with ReplayServer() as srv:
            feeds = site(srv, n_feeds=FEEDS, per_feed=PER_FEED, shared=False)
            names = list(feeds)
            names.insert(1, "broken")
            feeds["broken"] = srv.add("/broken.xml", "gone", status=404)
            sources = tmp_path / "sources.yaml"
            sources.write_text(yaml.safe_dump({"feeds": [{"name": n, "url": feeds[n]} for n in names]}))
            env = {"NEWSROOM_SOURCES": str(sources), "NEWSROOM_WAREHOUSE_URL": wh_url,
                   "NEWSROOM_DATA_DIR": str(tmp_path / "data"), "NEWSROOM_OUTPUT_DIR": str(tmp_path / "vault"),
                   "NEWSROOM_ALLOW_PRIVATE_NETWORKS": "true", "NEWSROOM_ALLOWED_HOSTS": "127.0.0.1",
                   "NEWSROOM_EXTRACT_WORKERS": "2", "NEWSROOM_INGEST_SCHEDULE": "none",
                   "NEWSROOM_FEEDS_PER_TASK": str(PER_TASK)}
            with AirflowCluster(tmp_path / "airflow", env=env, rest=True) as af:
                af.wait(lambda: _serialized(af), 180, f"{DAG_ID} parsed by the dag-processor", poll=2)
                af.trigger(DAG_ID, "batched")
                run = af.wait_run(DAG_ID, "batched", RUN_TIMEOUT_S)
                tis = [t for t in af.task_instances(DAG_ID, "batched") if t["task_id"] == "ingest_feed"]
                states = {t["rendered_map_index"]: (t["state"], t["try_number"]) for t in tis}
                assert run["state"] == "success", (states, af.logs())
                xcoms = {t["rendered_map_index"]: af.api(
                    "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/batched/taskInstances/ingest_feed/xcomEntries/"
                           f"return_value", params={"map_index": t["map_index"]})["value"]
                    for t in tis if t["state"] == "success"}
                failed_batch = {t["rendered_map_index"]: af.api(
                    "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/batched/taskInstances/ingest_feed/xcomEntries/"
                           f"sources", params={"map_index": t["map_index"]})["value"]
                    for t in tis if t["state"] == "failed"}
    finally:
        engine = create_engine(wh_url)
        try:
            with engine.connect() as c:
                runs = {n: st for n, st in c.execute(select(Source.name, SourceRun.status)
                                                      .join(SourceRun, SourceRun.source_id == Source.id))}
                articles = c.execute(select(Article)).all()
                summary = c.execute(select(PipelineRun).where(PipelineRun.run_id == "batched")).one_or_none()
        finally:
            engine.dispose()
        drop()

    # 9 feeds, 3 per task, at least 4 tasks: 3 + 2 + 2 + 2, each named by its sources
    assert len(states) == 4
    assert sorted(n for label in states for n in label.split(", ")) == sorted(names)
    broken = next(label for label in states if "broken" in label.split(", "))
    assert states[broken] == ("failed", 1), states  # HTTP 404: recorded, not retried
    assert all(s == ("success", 1) for label, s in states.items() if label != broken), states
    for label, value in xcoms.items():
        value = value if isinstance(value, dict) else json.loads(value)
        assert [r["source"] for r in value["sources"]] == label.split(", ")
        assert all(r["status"] == "ok" and r["new_articles"] == PER_FEED for r in value["sources"])
    # the failed batch's results are in XCom "sources": the broken feed and its stored batch-mates
    [(label, results)] = failed_batch.items()
    results = results if isinstance(results, list) else json.loads(results)
    assert {r["source"]: r["status"] for r in results} == {n: ("failed" if n == "broken" else "ok")
                                                           for n in label.split(", ")}
    assert runs == {**{n: "ok" for n in names if n != "broken"}, "broken": "failed"}
    assert len(articles) == FEEDS * PER_FEED
    assert all(a.extraction_status == "ok" and a.text and "worker_crashed" not in (a.extraction_reason or "")
               for a in articles)
    assert summary is not None and (summary.sources_ok, summary.sources_failed) == (FEEDS, 1)
