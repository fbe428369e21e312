"""A real, scheduler-run Airflow for tests: PostgreSQL metadata, LocalExecutor,
``airflow api-server`` (tasks talk to its execution API) and ``airflow scheduler`` as
subprocesses, with the project's ``dags/`` and ``include/`` importable.

    with AirflowCluster(tmp_path, env={...}) as af:
        af.cli("dags", "unpause", "newsroom_digest")
        af.cli("backfill", "create", "--dag-id", "newsroom_digest", ...)
        af.wait_for_runs("newsroom_digest", n=3)

Everything is torn down on exit: process groups killed, the metadata database dropped.
SQLite is not used for the metadata: backfill creation and the scheduler write
concurrently, which SQLite answers with "database is locked".
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG = "host=127.0.0.1 port=5432 user=postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ADMIN = ("admin", "admin")


class AirflowCluster:
    """``rest=True`` serves the whole API (REST, UI) besides the execution API, with the
    SimpleAuthManager user :data:`ADMIN`, and runs a ``dag-processor`` as ``make run`` does,
    so runs are triggered and watched like a user would (:meth:`api`)."""

    def __init__(self, home: Path, env: dict[str, str] | None = None, parallelism: int = 3, rest: bool = False):
        self.home = Path(home)
        self.rest = rest
        self._token: str | None = None
        self.db = f"newsroom_af_{uuid.uuid4().hex[:10]}"
        self.port = free_port()
        self.procs: list[subprocess.Popen] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        self.env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.db}",
            # Airflow would derive asyncpg for the async engine; psycopg 3 does async itself.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": f"postgresql+psycopg_async://postgres@127.0.0.1:5432/{self.db}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN[0]}:admin",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            # The scheduler serves task logs on this port; the default (8793) may be taken by another Airflow.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join([str(PROJECT / "include"), str(PROJECT)]),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        })
        self.env.update(env or {})

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> "AirflowCluster":
        self.home.mkdir(parents=True, exist_ok=True)
        pw = self.home / "simple_auth_manager_passwords.json.generated"
        pw.write_text(json.dumps({ADMIN[0]: ADMIN[1]}))
        pw.chmod(0o600)
        with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.db}"')
        try:
            self.cli("db", "migrate", timeout=300)
            # The pools setup.sh and the compose airflow-init create (a task whose pool is
            # missing is never scheduled).
            self.cli("pools", "import", str(PROJECT / "plugins" / "pools.json"))
            self.cli("dags", "reserialize", timeout=180)
            apps = () if self.rest else ("--apps", "execution")
            self._start("api-server", "api-server", "--port", str(self.port), "--host", "127.0.0.1",
                        "--workers", "1", *apps)
            self._wait_http(f"http://127.0.0.1:{self.port}/execution/health", 90)
            self._start("scheduler", "scheduler")
            if self.rest:
                self._start("dag-processor", "dag-processor")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 20
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=10)
        self.procs.clear()
        with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def _start(self, name: str, *args: str) -> None:
        log = open(self.home / f"{name}.log", "wb")
        self.procs.append(subprocess.Popen([str(BIN / "airflow"), *args], env=self.env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True))

    def _wait_http(self, url: str, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"an Airflow process exited early; see {self.home}/*.log\n{self.logs()}")
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{url} did not answer in {timeout}s\n{self.logs()}")

    # -- helpers ---------------------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 120) -> str:
        out = subprocess.run([str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True,
                             timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({out.returncode}):\n{out.stdout[-3000:]}\n"
                               f"{out.stderr[-3000:]}")
        return out.stdout

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self) -> str:
        """A JWT from ``POST /auth/token`` (SimpleAuthManager), as a script or the UI gets one."""
        import httpx

        if self._token is None:
            r = httpx.post(f"{self.base_url}/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]},
                           timeout=30)
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, **kwargs):
        """Call the REST API v2 as the admin user; returns the decoded JSON (raises on HTTP errors)."""
        import httpx

        r = httpx.request(method, f"{self.base_url}{path}", headers={"Authorization": f"Bearer {self.token()}"},
                          timeout=30, **kwargs)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} → {r.status_code}: {r.text[:2000]}")
        return r.json() if r.content else None

    def trigger(self, dag_id: str, run_id: str, conf: dict | None = None) -> None:
        """Unpause ``dag_id`` and trigger a run through the REST API (the UI's Trigger button)."""
        self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                 json={"dag_run_id": run_id, "logical_date": None, "conf": conf or {}})

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict:
        """Poll the run through the REST API until it is finished; returns the DagRun JSON."""
        def finished():
            dr = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            return dr if dr["state"] in ("success", "failed") else None
        return self.wait(finished, timeout, f"DagRun {dag_id}/{run_id}", poll=2)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                        params={"limit": 200})["task_instances"]

    def query(self, sql: str, *params) -> list[tuple]:
        with psycopg.connect(f"{PG} dbname={self.db}") as c:
            return c.execute(sql, params).fetchall()

    def runs(self, dag_id: str) -> list[dict]:
        rows = self.query("SELECT run_id, state, run_type, backfill_id, logical_date, conf, "
                          "data_interval_start, data_interval_end FROM dag_run WHERE dag_id = %s "
                          "ORDER BY logical_date NULLS LAST, id", dag_id)
        keys = ("run_id", "state", "run_type", "backfill_id", "logical_date", "conf", "start", "end")
        return [dict(zip(keys, r)) for r in rows]

    def wait(self, predicate, timeout: float, what: str, poll: float = 1.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"an Airflow process exited; see logs\n{self.logs()}")
            last = predicate()
            if last:
                return last
            time.sleep(poll)
        raise TimeoutError(f"timed out waiting for {what}; last={last!r}\n{self.logs()}")

    def wait_backfill(self, backfill_id: int, timeout: float = 120) -> list[dict]:
        """Wait until the backfill is completed and all its runs are finished; returns its runs."""
        def done():
            row = self.query("SELECT completed_at FROM backfill WHERE id = %s", backfill_id)
            runs = self.query("SELECT run_id, state FROM dag_run WHERE backfill_id = %s", backfill_id)
            finished = runs and all(s in ("success", "failed") for _, s in runs)
            return runs if (row and row[0][0] is not None and finished) else None
        return self.wait(done, timeout, f"backfill {backfill_id}")

    def latest_backfill_id(self, dag_id: str) -> int:
        return self.query("SELECT max(id) FROM backfill WHERE dag_id = %s", dag_id)[0][0]

    def failed_task_logs(self) -> str:
        out = []
        for p in sorted(self.home.glob("logs/**/*.log"))[-200:]:
            text = p.read_text(errors="replace")
            if "ERROR" in text or "Traceback" in text:
                out.append(f"--- {p}\n{text[-3000:]}")
        return "\n".join(out[-5:])

    def logs(self) -> str:
        parts = []
        for name in ("scheduler", "api-server", "dag-processor"):
            p = self.home / f"{name}.log"
            if p.exists():
                parts.append(f"--- {name}.log (tail)\n{p.read_text(errors='replace')[-2500:]}")
        return "\n".join(parts) + "\n" + self.failed_task_logs()


def asset_events(cluster: AirflowCluster, asset_name: str) -> list[dict]:
    rows = cluster.query("SELECT e.extra, e.source_dag_id, e.source_run_id FROM asset_event e "
                         "JOIN asset a ON a.id = e.asset_id WHERE a.name = %s ORDER BY e.id", asset_name)
    return [{"extra": r[0] if isinstance(r[0], dict) else json.loads(r[0] or "{}"), "dag_id": r[1], "run_id": r[2]}
            for r in rows]
