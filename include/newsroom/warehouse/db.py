"""Engine, migrations and upserts: the warehouse's small public API.

    engine = connect(url)        # an Engine; SQLite gets WAL and a busy timeout
    migrate(engine)              # alembic upgrade head, under a lock (setup, airflow-init, the CLI)
    require_head(engine)         # what tasks do instead: fail clearly if the schema is behind
    upsert(conn, table, rows, keys=[...])   # INSERT … ON CONFLICT DO UPDATE

Every load goes through :func:`upsert` on a natural key, so reruns and
concurrent runs never duplicate rows. Statements always use bound parameters.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.engine import Connection, make_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_migrated: set[str] = set()
_at_head: set[str] = set()
# pg_advisory_xact_lock key for migrations: any constant the warehouse's other users don't take.
MIGRATION_LOCK_KEY = 0x6E657773  # "news"


# A warehouse that does not answer fails a task in bounded time instead of hanging on TCP.
PG_CONNECT_TIMEOUT_S = 10


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be reached (down, refused, bad credentials): the machinery, not
    the data, failed, so the task fails and Airflow retries it. The message is one line."""


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split())[:300] or type(orig).__name__


class SchemaNotAtHead(RuntimeError):
    """The warehouse schema is not at the revision this code expects. Retrying cannot fix
    it: migrations run in setup (``make run`` / ``make test``), ``airflow-init`` and
    ``python -m newsroom migrate``, never inside a task."""


def _normalise_url(url: str) -> str:
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    return u.render_as_string(hide_password=False)


def connect(url: str) -> Engine:
    """An Engine for ``url``, cached per URL within the process.

    SQLite is opened in WAL mode with a busy timeout, foreign keys on, so that
    readers don't block the single writer and a second writer waits instead of
    failing at once.
    """
    url = _normalise_url(url)
    with _engines_lock:
        eng = _engines.get(url)
        if eng is not None:
            return eng
        if url.startswith("sqlite"):
            eng = create_engine(url, connect_args={"timeout": 60})

            @event.listens_for(eng, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=60000")
                cur.close()

        else:
            eng = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                                connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S})
        _engines[url] = eng
        return eng


def dispose_all() -> None:
    """Close every cached engine (tests; forked workers)."""
    with _engines_lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
        _migrated.clear()
        _at_head.clear()


def alembic_config(engine_or_url: Engine | str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    url = engine_or_url if isinstance(engine_or_url, str) else engine_or_url.url.render_as_string(hide_password=False)
    cfg.set_main_option("sqlalchemy.url", _normalise_url(url).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision of the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision`` (idempotent; cached per process).

    On PostgreSQL the upgrade runs under a transaction-scoped advisory lock: several
    processes migrating a fresh database at once (four tasks, or two ``airflow-init``
    containers) otherwise race on ``CREATE TYPE``/``CREATE TABLE`` and all but one fail
    with ``UniqueViolation``. The second one waits, then finds the schema at head.
    """
    from alembic import command

    key = f"{engine.url.render_as_string(hide_password=False)}@{revision}"
    if key in _migrated:
        return
    from sqlalchemy.exc import OperationalError

    cfg = alembic_config(engine)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise WarehouseUnavailable(f"warehouse unreachable at {where}: {_one_line(exc)}") from None
    _migrated.add(key)


def require_head(engine: Engine) -> None:
    """Raise :class:`SchemaNotAtHead` unless the database is at :func:`head_revision`.

    Checked once per process and URL; a task calls this instead of migrating.
    """
    from sqlalchemy.exc import OperationalError

    key = engine.url.render_as_string(hide_password=False)
    if key in _at_head or f"{key}@head" in _migrated:
        return
    where = engine.url.render_as_string(hide_password=True)
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        raise WarehouseUnavailable(f"warehouse unreachable at {where}: {_one_line(exc)}") from None
    head = head_revision()
    if current != head:
        raise SchemaNotAtHead(
            f"warehouse {where} is at schema revision {current or '(none: never migrated)'}, this code "
            f"needs {head}; run `make setup` or `.venv/bin/python -m newsroom migrate` (tasks never migrate)")
    _at_head.add(key)


def _storable(value: Any) -> Any:
    """``value`` as both backends can store it: PostgreSQL refuses NUL in text
    ("text fields cannot contain NUL (0x00) bytes"), and a single NUL in a feed title
    or a Reddit comment would fail the whole load. It is dropped, on SQLite too, so
    both warehouses hold the same text."""
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "")
    return value


def dialect_insert(conn: Connection):
    """The dialect's ``insert`` construct (PostgreSQL's or SQLite's), the one with ``ON CONFLICT``."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover
        raise NotImplementedError(f"ON CONFLICT inserts not supported on {conn.dialect.name}")
    return insert


def insert_ignore(conn: Connection, table: Table | Any, rows: Sequence[Mapping[str, Any]], keys: Sequence[str],
                  returning: str | None = None) -> list[Any]:
    """INSERT rows, leaving alone those whose ``keys`` already exist (first writer wins).

    One executemany of one small statement, compiled once and cached: unlike
    :func:`upsert`'s multi-row ``VALUES`` (compiled afresh for every batch size),
    its cost is the rows', not SQLAlchemy's. Every row must have the same columns.
    With ``returning`` (a column name), gives that column of the rows actually
    inserted: the database's own answer to "which were new" (in no promised order).
    """
    table = getattr(table, "__table__", table)
    if not rows:
        return []
    params = [{k: _storable(v) for k, v in r.items()} for r in rows]
    stmt = dialect_insert(conn)(table).on_conflict_do_nothing(index_elements=list(keys))
    if returning is None:
        conn.execute(stmt, params)
        return []
    return list(conn.execute(stmt.returning(table.c[returning]), params).scalars())


def upsert(
    conn: Connection,
    table: Table | Any,
    rows: Sequence[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    returning: Sequence[str] = (),
) -> list[Any]:
    """INSERT rows, or UPDATE the ``update`` columns where ``keys`` already exist.

    ``update=None`` updates every non-key column given; ``update=[]`` means
    DO NOTHING on conflict (first writer wins). With ``returning``, gives the
    requested columns of the inserted/updated rows (DO NOTHING rows are not
    returned by the database, so callers that need ids then select them).
    """
    table = getattr(table, "__table__", table)
    rows = [{k: _storable(v) for k, v in r.items()} for r in rows]
    if not rows:
        return []
    insert = dialect_insert(conn)
    cols = list(rows[0].keys())
    if update is None:
        update = [c for c in cols if c not in keys]
    out: list[Any] = []
    # Same column set per statement; rows with differing keys go separately.
    by_shape: dict[tuple[str, ...], list[dict]] = {}
    for r in rows:
        by_shape.setdefault(tuple(sorted(r)), []).append(r)
    for batch in by_shape.values():
        stmt = insert(table).values(batch)
        if update:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
        if returning:
            stmt = stmt.returning(*[table.c[c] for c in returning])
            out.extend(conn.execute(stmt).all())
        else:
            conn.execute(stmt)
    return out
