"""Shared fixtures: the shared corpus, a replay HTTP server, and warehouses on
SQLite *and* the running PostgreSQL (a fresh database per test, dropped after)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEWSROOM_SHARED", PROJECT.parent / "shared")).resolve()
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"
PG_ADMIN_URL = os.environ.get("NEWSROOM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

from tests import airflow_env  # noqa: E402  (must run before anything imports airflow)

airflow_env.configure()


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated Airflow metadata DB (SQLite) for ``dag.test()``."""
    airflow_env.migrate()
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture(scope="session")
def corpus() -> Path:
    """``../shared/corpus``; tests that need it skip with a clear reason when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (set NEWSROOM_SHARED or place ../shared beside the project)")
    return CORPUS


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"shared seeds not found at {SEEDS}")
    return SEEDS


@pytest.fixture
def replay_server():
    from tests.replay_server import ReplayServer

    with ReplayServer() as srv:
        yield srv


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3):
            return True
    except Exception:
        return False


_PG_OK: bool | None = None


def pg_available() -> bool:
    global _PG_OK
    if _PG_OK is None:
        _PG_OK = _pg_available()
    return _PG_OK


def require_pg() -> None:
    """Skip when PostgreSQL is not reachable — but fail in CI, where it must be."""
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI but is not reachable")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")


def create_pg_database() -> tuple[str, callable]:
    """Create a throwaway PostgreSQL database; returns (url, drop)."""
    import psycopg

    name = f"newsroom_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from newsroom.warehouse import dispose_all

        dispose_all()
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", drop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path) -> str:
    """A fresh, empty warehouse URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
        from newsroom.warehouse import dispose_all

        dispose_all()
        return
    require_pg()
    url, drop = create_pg_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def warehouse(warehouse_url):
    """A migrated Engine on each warehouse backend."""
    from newsroom.warehouse import migrate_warehouse

    return migrate_warehouse(warehouse_url)


@pytest.fixture
def settings(tmp_path, monkeypatch, warehouse_url):
    """Settings pointing at temp dirs and the parametrised warehouse, private networks allowed
    (the replay server is on 127.0.0.1)."""
    from newsroom.settings import Settings, get_settings

    monkeypatch.setenv("NEWSROOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSROOM_OUTPUT_DIR", str(tmp_path / "vault"))
    monkeypatch.setenv("NEWSROOM_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("NEWSROOM_ALLOW_PRIVATE_NETWORKS", "true")
    get_settings.cache_clear()
    s = Settings()
    # What setup does before any task runs: tasks never migrate (newsroom.warehouse.open_warehouse).
    from newsroom.warehouse import migrate_warehouse

    migrate_warehouse(s.resolved_warehouse_url)
    yield s
    get_settings.cache_clear()
