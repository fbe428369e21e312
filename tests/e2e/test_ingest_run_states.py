"""The ingest run's state tells the truth (in-process ``dag.test()``, real HTTP server):
a run in which every source failed is red, and a configuration error fails at once,
without the retries that used to keep a doomed run going for twenty minutes."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
import yaml

pytestmark = [pytest.mark.airflow]


def _run(logical_date):
    from airflow.dag_processing.dagbag import DagBag

    from tests.airflow_env import PROJECT

    dag = DagBag(dag_folder=str(PROJECT / "dags")).dags["newsroom_ingest"]
    return dag.test(logical_date=logical_date)


def _states(dr) -> dict[str, tuple[str, int]]:
    return {(ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else "")): (str(ti.state), ti.try_number)
            for ti in dr.get_task_instances()}


def _use(tmp_path, monkeypatch, data: dict) -> None:
    """Point the DAG at ``data`` as its sources file, on a warehouse set up as `make setup` does."""
    from newsroom.settings import get_settings
    from newsroom.warehouse import migrate_warehouse

    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("NEWSROOM_SOURCES", str(path))
    monkeypatch.setenv("NEWSROOM_ALLOWED_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    migrate_warehouse(get_settings().resolved_warehouse_url)


def test_a_run_where_every_source_failed_is_red(replay_server, settings, tmp_path, monkeypatch, airflow_db):
    from sqlalchemy import select

    from newsroom.warehouse import open_warehouse
    from newsroom.warehouse.schema import PipelineRun

    feeds = [{"name": f"gone{i}", "url": replay_server.add(f"/gone{i}.xml", "no", status=404)} for i in range(3)]
    _use(tmp_path, monkeypatch, {"feeds": feeds})
    dr = _run(datetime(2026, 4, 8, 10, tzinfo=timezone.utc))
    states = _states(dr)
    assert str(dr.state) == "failed", states
    assert states["summarize"][0] == "failed"
    assert {s for k, (s, _) in states.items() if k.startswith("ingest_feed")} == {"failed"}
    with open_warehouse(settings.resolved_warehouse_url).connect() as c:
        run = c.execute(select(PipelineRun)).one()  # the counts are recorded before the verdict
    assert run.sources_ok == 0 and run.sources_failed == 3


def test_a_config_error_fails_the_run_at_once(settings, tmp_path, monkeypatch, airflow_db):
    _use(tmp_path, monkeypatch, {"feeds": [{"name": "verge", "url": "theverge.com/rss"}]})
    start = time.monotonic()
    dr = _run(datetime(2026, 4, 8, 11, tzinfo=timezone.utc))
    took = time.monotonic() - start
    states = _states(dr)
    assert str(dr.state) == "failed", states
    assert states["plan_sources"] == ("failed", 1), states  # no retry: the same error six times helps nobody
    assert states["summarize"] == ("failed", 1), states
    assert took < 90  # not the retry delays (2 min, then 4)
