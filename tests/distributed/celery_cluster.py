"""docker-compose.yaml's CeleryExecutor deployment as native processes, for tests.

The compose file runs PostgreSQL (Airflow metadata + Celery results), PostgreSQL (the
newsroom warehouse), Redis (the Celery broker), an init job, and one container each for
``api-server``, ``scheduler``, ``dag-processor`` and ``celery worker``. There is no Docker
engine on the CI machines, so this module starts the same commands as separate process
groups against the machine's PostgreSQL and Redis:

    with CeleryCluster(tmp_path, env={...newsroom settings...}) as af:
        af.api("PATCH", "/api/v2/dags/newsroom_ingest", json={"is_paused": False})
        ...

Isolation, because other tests (and other checkouts) use the same servers: two throwaway
databases with random names, a Redis database number claimed with a key (``SET NX``) and
flushed on exit, a Celery queue of its own, free ports for every listener, its own
AIRFLOW_HOME. Teardown always runs: SIGTERM then SIGKILL to every process group, both
databases dropped, the Redis database flushed.
"""

from __future__ import annotations

import json
import os
import re
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
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
PG = f"host={PG_HOST} port={PG_PORT} user={PG_USER}"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Redis database numbers this suite may claim (0 is left to whatever else runs here).
REDIS_DBS = tuple(int(x) for x in
                  os.environ.get("NEWSROOM_TEST_REDIS_DBS", "7,8,9,10,11,12,13,14,15").split(","))
CLAIM_KEY = "newsroom:tests:distributed:claim"
ADMIN = ("admin", "admin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Keys a Celery broker of ours leaves behind (kombu bindings, the queue, unacked bookkeeping):
# a database holding only these and no claim is the leftover of a killed run, and may be reused.
LEFTOVER_KEYS = re.compile(rb"^(_kombu\.|unacked|newsroom-|celery)")


def claim_redis_db(owner: str, ttl_s: int = 1800) -> int:
    """Claim a Redis database number for this cluster (a key set with NX and a TTL).

    Two clusters on one Redis must not share a broker database: a worker would take the
    other's messages, and the flush at teardown would delete them. A database is taken
    when it is empty, or holds only the broker keys of a run that was killed before its
    teardown (its claim expired); the latter is flushed first.
    """
    import redis

    for n in REDIS_DBS:
        r = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=n, socket_timeout=5)
        try:
            keys = r.keys("*") if r.dbsize() < 1000 else None
            if keys is None or any(not LEFTOVER_KEYS.match(k) for k in keys):
                continue  # someone else's data, or a live claim
            if r.set(CLAIM_KEY, owner, nx=True, ex=ttl_s):
                if keys:
                    r.delete(*keys)
                return n
        finally:
            r.close()
    raise RuntimeError(f"no free Redis database among {REDIS_DBS} on {REDIS_HOST}:{REDIS_PORT}")


def flush_redis_db(n: int) -> None:
    import redis

    r = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=n, socket_timeout=5)
    try:
        r.flushdb()
    finally:
        r.close()


def create_database(prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_url(db: str, driver: str = "psycopg") -> str:
    return f"postgresql+{driver}://{PG_USER}@{PG_HOST}:{PG_PORT}/{db}"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _die_with_parent() -> None:
    """In the child: SIGTERM it when the test process dies, even by SIGKILL (Linux only).

    The services run in their own sessions, so a killed pytest would otherwise leave them
    running; on SIGTERM each service stops its own children.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class CeleryCluster:
    """The compose services as native process groups; see the module docstring."""

    SERVICES = ("api-server", "scheduler", "dag-processor", "worker")

    def __init__(self, home: Path, env: dict[str, str] | None = None, *, concurrency: int = 2,
                 parallelism: int = 4):
        self.home = Path(home)
        self.tag = uuid.uuid4().hex[:8]
        self.queue = f"newsroom-{self.tag}"
        # what the worker's tasks report as their host (worker_identity)
        self.worker_hostname = f"newsroom-worker-{self.tag}"
        self.concurrency = concurrency
        self.parallelism = parallelism
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.health_port = free_port()
        self.proc_logs = self.home / "proc-logs"
        self.procs: dict[str, subprocess.Popen] = {}
        self.metadata_db: str | None = None
        self.warehouse_db: str | None = None
        self.redis_db: int | None = None
        self._extra_env = dict(env or {})
        self._token: str | None = None
        self.env: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> "CeleryCluster":
        try:
            self._provision()
            self._init()
            self._start_services()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _provision(self) -> None:
        """The stateful services of the compose file: two databases and a broker database."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.proc_logs.mkdir(exist_ok=True)
        self.metadata_db = create_database("newsroom_celery_af")
        self.warehouse_db = create_database("newsroom_celery_wh")
        self.redis_db = claim_redis_db(f"{self.tag} pid {os.getpid()}")
        self.warehouse_url = pg_url(self.warehouse_db)
        self.broker_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}"
        from cryptography.fernet import Fernet

        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSROOM_"))}
        env.update({
            # x-airflow-common in docker-compose.yaml, host names replaced by 127.0.0.1
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN[0]}:admin",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pg_url(self.metadata_db),
            # Airflow would derive asyncpg for its async engine; psycopg 3 does async itself.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": pg_url(self.metadata_db, "psycopg_async"),
            # compose says db+postgresql:// (psycopg2, in the official image); this venv has psycopg 3.
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + pg_url(self.metadata_db),
            "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__API__BASE_URL": f"{self.base_url}/",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(self.health_port),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "PYTHONPATH": os.pathsep.join([str(PROJECT / "include"), str(PROJECT)]),
            # sized for a 2-core machine shared with other work
            "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
            "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            # the worker serves task logs on this port; the default (8793) may be taken
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "NEWSROOM_WAREHOUSE_URL": self.warehouse_url,
        })
        env.update(self._extra_env)
        self.env = env
        # SimpleAuthManager reads the password from here (compose: _AIRFLOW_WWW_USER_PASSWORD).
        pw = self.home / "simple_auth_manager_passwords.json.generated"
        pw.write_text(json.dumps({ADMIN[0]: ADMIN[1]}))
        pw.chmod(0o600)

    def _init(self) -> None:
        """What the compose ``airflow-init`` service does: migrate both databases, create pools."""
        self.cli("db", "migrate", timeout=300)
        out = subprocess.run([sys.executable, "-m", "newsroom", "migrate"], env=self.env, capture_output=True,
                             text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"newsroom migrate failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        self.cli("pools", "import", str(PROJECT / "plugins" / "pools.json"))  # what airflow-init imports

    def _start_services(self) -> None:
        self._start("api-server", "api-server", "--port", str(self.port), "--host", "127.0.0.1",
                    "--workers", "1")
        self._start("dag-processor", "dag-processor")
        self._start("scheduler", "scheduler")
        self._start("worker", "celery", "worker", "--concurrency", str(self.concurrency),
                    "--queues", self.queue,
                    "--celery-hostname", f"{self.worker_hostname}@%h", "--without-gossip", "--without-mingle",
                    env={"AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.distributed.worker_identity.hostname",
                         "NEWSROOM_TEST_HOSTNAME": self.worker_hostname})
        self.wait_http(f"{self.base_url}/api/v2/version", 120)

    def close(self) -> None:
        """Stop every process group (SIGTERM, then SIGKILL), drop the databases, flush the broker DB."""
        for p in self.procs.values():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for p in self.procs.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in self.procs.values():
            # the group may outlive its leader (task processes forked by the worker): kill it whole
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        deadline = time.monotonic() + 5  # let the groups' other members (pool children, task processes) go
        while time.monotonic() < deadline and any(_group_alive(p.pid) for p in self.procs.values()):
            time.sleep(0.1)
        errors = []
        for db in (self.metadata_db, self.warehouse_db):
            if db:
                try:
                    drop_database(db)
                except Exception as exc:  # keep tearing down the rest
                    errors.append(f"drop {db}: {exc}")
        self.metadata_db = self.warehouse_db = None
        if self.redis_db is not None:
            try:
                flush_redis_db(self.redis_db)
            except Exception as exc:
                errors.append(f"flush redis db {self.redis_db}: {exc}")
            self.redis_db = None
        if errors:
            raise RuntimeError("teardown incomplete: " + "; ".join(errors))

    def _start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = open(self.proc_logs / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen([str(BIN / "airflow"), *args], env={**self.env, **(env or {})},
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, cwd=self.home,
                                            preexec_fn=_die_with_parent)
        log.close()

    # -- helpers ---------------------------------------------------------------------------------
    def check_alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {p.returncode}\n{self.logs()}")

    def wait_http(self, url: str, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(url, timeout=3).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{url} did not answer in {timeout}s\n{self.logs()}")

    def wait(self, predicate, timeout: float, what: str, poll: float = 1.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.check_alive()
            last = predicate()
            if last:
                return last
            time.sleep(poll)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}; last={last!r}\n{self.logs()}")

    def cli(self, *args: str, timeout: float = 120) -> str:
        out = subprocess.run([str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True,
                             timeout=timeout, cwd=self.home)
        if out.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({out.returncode}):\n{out.stdout[-3000:]}\n"
                               f"{out.stderr[-3000:]}")
        return out.stdout

    def token(self) -> str:
        """A JWT from the API server's /auth/token (SimpleAuthManager, the compose admin user)."""
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

        headers = {"Authorization": f"Bearer {self.token()}"}
        r = httpx.request(method, f"{self.base_url}{path}", headers=headers,
                          timeout=30, **kwargs)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} → {r.status_code}: {r.text[:2000]}")
        return r.json() if r.content else None

    def query(self, sql: str, *params, db: str | None = None) -> list[tuple]:
        with psycopg.connect(f"{PG} dbname={db or self.metadata_db}") as c:
            return c.execute(sql, params).fetchall()

    def log_text(self, name: str) -> str:
        p = self.proc_logs / f"{name}.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def task_logs(self, limit: int = 4, only_errors: bool = True) -> str:
        out = []
        for p in sorted(self.home.glob("logs/dag_id=*/**/*.log")):
            text = p.read_text(errors="replace")
            if not only_errors or "error" in text.lower() or "Traceback" in text:
                out.append(f"--- {p.relative_to(self.home)} (tail)\n{text[-2500:]}")
        return "\n".join(out[-limit:])

    def logs(self, tail: int = 3000) -> str:
        """The tail of every service's log and of the task logs that mention an error."""
        parts = [f"--- {name}.log (tail)\n{self.log_text(name)[-tail:]}" for name in self.SERVICES]
        tasks = self.task_logs()
        return "\n".join(parts + ([tasks] if tasks else []))
