"""newsroom_metrics on a real scheduler, triggered through the REST API like a user would:
two days against the local fake APIs → each figure stored twice, failures with reasons, the
asset emitted; a second run of day two adds nothing. PostgreSQL metadata and warehouse."""

from __future__ import annotations

import json
import os

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from tests.backfill.cluster import AirflowCluster, asset_events
from tests.conftest import create_pg_database, pg_available
from tests.unit.metrics.fake_apis import FakeAPIs
from tests.unit.metrics.test_collect import ENTITIES

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


class RestCluster(AirflowCluster):
    """The cluster with the whole API server (REST API + auth), not just the execution API."""

    def _start(self, name: str, *args: str) -> None:
        if name == "api-server":
            args = tuple("core,execution" if a == "execution" else a for a in args)
            (self.home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": "admin"}))
        super()._start(name, *args)

    def rest_client(self) -> httpx.Client:
        base = f"http://127.0.0.1:{self.port}"
        token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": "admin"}, timeout=30)
        token.raise_for_status()
        return httpx.Client(base_url=f"{base}/api/v2", timeout=30,
                            headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def test_metrics_dag_two_days_through_the_rest_api(tmp_path):
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    from newsroom.warehouse import connect, migrate_warehouse
    from newsroom.warehouse.schema.metrics import EntityMetric

    wh_url, drop = create_pg_database()
    entities = tmp_path / "entities.yaml"
    entities.write_text(yaml.safe_dump(ENTITIES))
    try:
        with FakeAPIs() as apis:
            conn = json.dumps({"conn_type": "http", "host": apis.base_url, "password": "test-token"})
            env = {"NEWSROOM_WAREHOUSE_URL": wh_url, "NEWSROOM_ENTITIES": str(entities),
                   "NEWSROOM_OUTPUT_DIR": str(tmp_path / "vault"), "NEWSROOM_DATA_DIR": str(tmp_path / "data"),
                   "NEWSROOM_ALLOW_PRIVATE_NETWORKS": "true", "NEWSROOM_METRICS_SCHEDULE": "none",
                   "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                   "AIRFLOW_CONN_GITHUB_DEFAULT": conn,
                   "AIRFLOW_CONN_HUGGINGFACE_DEFAULT": json.dumps({"conn_type": "http", "host": apis.base_url}),
                   "AIRFLOW_CONN_PYPISTATS_DEFAULT": json.dumps({"conn_type": "http", "host": apis.base_url})}
            migrate_warehouse(wh_url)
            with RestCluster(tmp_path / "airflow", env=env) as af:
                for pool in ("github_api", "huggingface_api", "pypistats_api"):
                    af.cli("pools", "set", pool, "1", "figures")
                api = af.rest_client()
                api.patch("/dags/newsroom_metrics", json={"is_paused": False}).raise_for_status()

                def trigger(run_id: str, day: str) -> dict:
                    r = api.post("/dags/newsroom_metrics/dagRuns",
                                 json={"dag_run_id": run_id, "logical_date": None, "conf": {"day": day}})
                    assert r.status_code == 200, r.text

                    def finished():
                        got = api.get(f"/dags/newsroom_metrics/dagRuns/{run_id}").json()
                        return got if got.get("state") in ("success", "failed") else None

                    run = af.wait(finished, 240, f"run {run_id}")
                    assert run["state"] == "success", af.logs()
                    return run

                trigger("day1", "2026-04-08")
                apis.day = 2
                trigger("day2", "2026-04-09")
                engine = connect(wh_url)
                t = EntityMetric.__table__
                with engine.connect() as c:
                    rows = c.execute(select(t.c.entity_id, t.c.subject, t.c.metric, t.c.day, t.c.status,
                                            t.c.value, t.c.reason)).all()
                before = len(rows)
                ok = {(r.entity_id, r.subject, r.metric) for r in rows if r.status in ("ok", "unchanged")}
                days = {}
                for r in rows:
                    if (r.entity_id, r.subject, r.metric) in ok:
                        days.setdefault((r.entity_id, r.subject, r.metric), set()).add(str(r.day))
                assert ok and all(len(d) == 2 for d in days.values()), days  # each figure stored twice
                assert all(r.reason for r in rows if r.status == "failed")
                stars = {(r.day.isoformat(), r.status): r.value for r in rows
                         if r.subject == "Netflix/metaflow" and r.metric == "stars"}
                assert stars == {("2026-04-08", "ok"): 9935, ("2026-04-09", "ok"): 9990}

                trigger("day2-again", "2026-04-09")  # the same day once more: nothing added
                with engine.connect() as c:
                    assert c.execute(select(func.count()).select_from(t)).scalar_one() == before
                events = [e["extra"] for e in asset_events(af, "newsroom_entity_metrics")]
                assert [e["day"] for e in events] == ["2026-04-08", "2026-04-09", "2026-04-09"]
                assert events[0]["counts"]["github"]["ok"] > 0
    finally:
        drop()
