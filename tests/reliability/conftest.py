"""Reliability suite: the ``record`` fixture, fast fetch settings, and the hook that
regenerates ``docs/reliability.md`` after a full, green run of ``tests/reliability``.

A run counts as *full* when ``tests/reliability`` (or a parent folder) was given as a
whole — no file or node ids inside it, no ``-k``/``-m``/``--lf``/``--deselect`` — and
every reliability test passed without skips. Only then is the document rewritten, and
only then does ``test_zz_report.py`` compare it with what was recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.report import DOC, Collector

HERE = Path(__file__).resolve().parent
_COLLECTOR = Collector()
_STATE = {"items": [], "outcomes": {}, "full_selection": False}
_REPORT_TEST = "test_zz_report.py"


def _in_suite(path) -> bool:
    try:
        Path(str(path)).resolve().relative_to(HERE)
        return True
    except ValueError:
        return False


def _selection_is_whole_suite(config) -> bool:
    opt = config.option
    if getattr(opt, "keyword", "") or getattr(opt, "markexpr", "") or getattr(opt, "lf", False) \
            or getattr(opt, "deselect", None):
        return False
    root = Path(str(config.rootpath)).resolve()
    args = config.args or [str(root)]
    covered = False
    for arg in args:
        path = Path(arg.split("::", 1)[0])
        path = (Path(config.invocation_params.dir) / path).resolve() if not path.is_absolute() else path.resolve()
        if "::" in arg:
            if _in_suite(path):
                return False
            continue
        if path == HERE or HERE.is_relative_to(path):
            covered = True
        elif _in_suite(path):
            return False  # a single file of the suite
    return covered


def pytest_collection_modifyitems(session, config, items):
    _STATE["items"] = [i.nodeid for i in items if _in_suite(i.path)]
    _STATE["full_selection"] = bool(_STATE["items"]) and _selection_is_whole_suite(config)


def pytest_runtest_logreport(report):
    if report.nodeid not in _STATE["items"]:
        return
    prev = _STATE["outcomes"].get(report.nodeid)
    if report.when == "call" or report.outcome != "passed":
        if prev in ("failed", "skipped"):
            return
        _STATE["outcomes"][report.nodeid] = report.outcome


def suite_status() -> tuple[bool, str]:
    """(complete, why not): complete when the whole suite ran and every test but the
    report check passed."""
    if not _STATE["full_selection"]:
        return False, "not a full run of tests/reliability (a subset was selected)"
    others = [n for n in _STATE["items"] if _REPORT_TEST not in n]
    missing = [n for n in others if _STATE["outcomes"].get(n) != "passed"]
    if missing:
        skipped = [n for n in missing if _STATE["outcomes"].get(n) == "skipped"]
        return False, f"{len(missing)} reliability tests did not pass ({len(skipped)} skipped), e.g. {missing[0]}"
    return True, ""


def collector() -> Collector:
    return _COLLECTOR


def pytest_sessionfinish(session, exitstatus):
    complete, _why = suite_status()
    if not complete:
        return
    text = _COLLECTOR.render()
    if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
        DOC.write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------- warehouses
# Same parameters as the shared ``warehouse_url`` fixture — a SQLite file and a PostgreSQL
# database, both migrated by the project's Alembic chain — but set up once per session:
# each SQLite test gets a copy of a migrated file, and the PostgreSQL database is emptied
# (every row deleted, sequences restarted) before each test. Every test still starts from an empty
# warehouse at head; creating a PostgreSQL database per test would cost most of the suite's
# time budget.
_TEMPLATES: dict[str, object] = {}


def _sqlite_template(tmp_path_factory) -> Path:
    if "sqlite" not in _TEMPLATES:
        from newsroom.warehouse import dispose_all, migrate_warehouse

        path = tmp_path_factory.mktemp("reliability-template") / "warehouse.db"
        engine = migrate_warehouse(f"sqlite:///{path}")
        with engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        dispose_all()
        _TEMPLATES["sqlite"] = path
    return _TEMPLATES["sqlite"]


def _pg_database() -> tuple[str, list[str]]:
    """The session's migrated PostgreSQL database: (url, its tables but alembic's)."""
    if "postgresql" not in _TEMPLATES:
        from sqlalchemy import MetaData

        from newsroom.warehouse import migrate_warehouse
        from tests.conftest import create_pg_database

        url, drop = create_pg_database()
        engine = migrate_warehouse(url)
        meta = MetaData()
        meta.reflect(engine)
        # Children before parents, so plain DELETEs never trip a foreign key.
        tables = [t.name for t in reversed(meta.sorted_tables) if t.name != "alembic_version"]
        _TEMPLATES["postgresql"] = (url, tables, drop)
    url, tables, _drop = _TEMPLATES["postgresql"]
    return url, tables


def pytest_unconfigure(config):
    entry = _TEMPLATES.pop("postgresql", None)
    if entry is not None:
        try:
            entry[2]()
        except Exception:  # pragma: no cover - best effort cleanup
            pass


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path, tmp_path_factory):
    import os
    import shutil

    from newsroom.warehouse import dispose_all
    from tests.conftest import require_pg

    if request.param == "sqlite":
        path = tmp_path / "warehouse.db"
        shutil.copyfile(_sqlite_template(tmp_path_factory), path)
        yield f"sqlite:///{path}"
        dispose_all()
        return
    require_pg()
    import psycopg

    url, tables = _pg_database()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as c:
        # End what a previous test may have left running (a killed process's session).
        c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        # DELETE + sequence restart: ~20x faster than TRUNCATE on tables this small.
        with c.transaction():
            c.execute("SET LOCAL synchronous_commit = off")
            for t in tables:
                c.execute(f'DELETE FROM "{t}"')
            for (seq,) in c.execute("SELECT sequence_name FROM information_schema.sequences").fetchall():
                c.execute(f'ALTER SEQUENCE "{seq}" RESTART')
    try:
        yield url
    finally:
        dispose_all()


# ----------------------------------------------------------------------------- recording
@pytest.fixture
def record(request):
    """``record(area, case, outcome, lost=n)``: add this test's proven outcome to the table.

    The warehouse backend is taken from the test's ``warehouse_url`` parameter when it has one.
    """
    backend = None
    if "warehouse_url" in request.fixturenames:
        url = request.getfixturevalue("warehouse_url")
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"

    def _record(area: str, case: str, outcome: str, *, lost: int) -> None:
        _COLLECTOR.add(area, case, outcome, lost=lost, backend=backend, test=request.node.nodeid)

    return _record


@pytest.fixture
def fast(settings):
    """The shared settings with fetch limits shrunk to fractions of a second (timeouts,
    drips and bombs finish fast) and extraction in-process."""
    return settings.model_copy(update={
        "fetch_connect_timeout_s": 1.0,
        "fetch_read_timeout_s": 1.0,
        "fetch_total_timeout_s": 2.5,
        "fetch_max_bytes": 2_000_000,
        "extract_workers": 1,
        "max_articles_per_source": 20,
    })
