"""newsroom_maintenance on a real scheduler, triggered through the REST API like a user.

A real ingest (replay server → PostgreSQL warehouse) leaves fetch_log, source_runs and
captures; the rows are then aged 100 days. One REST-triggered run must delete the
aged log rows and the unreferenced feed captures and keep the source's latest run and
every capture an article points at.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select, update

from tests.backfill.cluster import AirflowCluster
from tests.conftest import create_pg_database, pg_available

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DAG_ID = "newsroom_maintenance"


def test_maintenance_dag_applies_retention_on_a_real_scheduler(tmp_path, replay_server, monkeypatch):
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    from datetime import timedelta

    from newsroom.pipeline.ingest import ingest_feed, sync_sources
    from newsroom.settings import Settings, get_settings
    from newsroom.warehouse import dispose_all, migrate_warehouse
    from newsroom.warehouse.schema import Article, Capture, FetchLog, SourceRun
    from tests.unit.test_ingest import ITEM, RSS, _page, _sources

    wh_url, drop = create_pg_database()
    env = {"NEWSROOM_WAREHOUSE_URL": wh_url, "NEWSROOM_DATA_DIR": str(tmp_path / "data"),
           "NEWSROOM_OUTPUT_DIR": str(tmp_path / "vault"), "NEWSROOM_ALLOW_PRIVATE_NETWORKS": "true"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        settings = Settings()
        base = replay_server.base_url
        for i in range(2):
            replay_server.add(f"/a/{i}", _page(f"Story {i}"), content_type="text/html")
        engine = migrate_warehouse(wh_url)  # setup's job: tasks never migrate
        src = _sources(replay_server.url("/feed.xml"))
        sync_sources(engine, src)
        for run, n in (("r1", 1), ("r2", 2)):  # the feed changes once: two feed captures, two articles
            items = "".join(ITEM.format(t=f"Story {i}", i=i, base=base) for i in range(n))
            replay_server.add("/feed.xml", RSS.format(base=base, items=items), content_type="application/rss+xml")
            ingest_feed("local", settings=settings, sources=src, run_id=run, engine=engine)
        old = timedelta(days=100)
        with engine.begin() as c:  # a hundred days pass
            for model, col in ((FetchLog, "fetched_at"), (SourceRun, "finished_at"), (Capture, "fetched_at")):
                for rid, at in c.execute(select(model.id, getattr(model, col))).all():
                    c.execute(update(model).where(model.id == rid).values({col: at - old}))
            article_caps = set(c.execute(select(Article.capture_id)).scalars())
            assert len(article_caps) == 2 and None not in article_caps
            assert c.execute(select(func.count()).select_from(Capture).where(Capture.kind == "feed")).scalar() == 2
        dispose_all()

        with AirflowCluster(tmp_path / "af", env=env, rest=True) as af:
            af.api("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
            af.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns",
                   json={"dag_run_id": "rest_trigger", "logical_date": None, "conf": {}})

            def finished():
                dr = af.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/rest_trigger")
                return dr if dr["state"] in ("success", "failed") else None

            dr = af.wait(finished, 240, "the maintenance run", poll=2)
            assert dr["state"] == "success", af.logs()
            # Unpausing a daily DAG (catchup off) also starts the latest scheduled run; whichever
            # ran first did the work and the other found nothing left (idempotent).
            runs = af.wait(lambda: [r for r in af.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns")["dag_runs"]
                                    if r["state"] in ("success", "failed")] or None, 120, "finished runs")
            assert {r["state"] for r in runs} == {"success"}
            counts = [af.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{r['dag_run_id']}/taskInstances/"
                                    "apply_retention/xcomEntries/return_value")["value"] for r in runs]

        engine = migrate_warehouse(wh_url)
        with engine.connect() as c:
            assert c.execute(select(func.count()).select_from(FetchLog)).scalar() == 0
            assert c.execute(select(SourceRun.run_id)).scalars().all() == ["r2"]
            assert set(c.execute(select(Capture.id)).scalars()) == article_caps
        assert sum(c["captures"] for c in counts) == 2 and sum(c["source_runs"] for c in counts) == 1
        assert sum(c["fetch_log"] for c in counts) > 0
        if len(counts) > 1:
            assert sorted(sum(c.values()) for c in counts)[0] == 0  # the later run deleted nothing
    finally:
        get_settings.cache_clear()
        from newsroom.warehouse import dispose_all as _dispose

        _dispose()
        drop()
