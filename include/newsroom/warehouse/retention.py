"""Retention: the SQL that removes old log rows, engagement snapshots and capture rows.

Every ingest run adds ``fetch_log`` and ``source_runs`` rows and every Reddit run
``reddit_snapshots``, whether or not anything changed; feed and Reddit responses add
``captures``. Nothing else ever removes them, so an idle deployment grows forever.
These functions delete rows older than a cutoff, **except what something still needs**:

* ``source_runs`` — a source's latest run always stays (the Newsroom page shows it);
* ``reddit_snapshots`` — a thread's latest snapshot always stays (``v_reddit_threads``
  and the digest read a thread's engagement from it);
* ``captures`` — a capture an article points at (``articles.capture_id``) always stays:
  it is what ``mode=reprocess`` re-extracts from, for any range. Only captures nothing
  references go: feed and Reddit responses, and page bodies an article has since
  replaced. ``captures.fetched_at`` is the last time those bytes were fetched, so a
  response seen again today is young.

Each function deletes in chunks of ids (short transactions on a large first run) and
returns the number of rows deleted; running it again deletes nothing more (idempotent).
Rows are compared with ``<`` the cutoff: a row exactly at the cutoff stays.
:func:`purge_captures` also returns the store paths that no row references any more,
for the caller to delete from the capture store (bodies are content-addressed, so two
rows may share one path: a path is only returned when its last row is gone).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased

from .schema import Article, Capture, FetchLog, SourceRun
from .schema.reddit import RedditSnapshot

CHUNK = 2000

__all__ = ["purge_captures", "purge_fetch_log", "purge_reddit_snapshots", "purge_source_runs"]


def _delete_in_chunks(engine: Engine, table, id_query) -> int:
    """Delete the rows whose ids ``id_query`` selects, CHUNK at a time, one transaction each."""
    total = 0
    while True:
        with engine.begin() as conn:
            ids = [r[0] for r in conn.execute(id_query.limit(CHUNK))]
            if not ids:
                return total
            total += conn.execute(delete(table).where(table.c.id.in_(ids))).rowcount or 0
        if len(ids) < CHUNK:
            return total


def purge_fetch_log(engine: Engine, cutoff: datetime) -> int:
    """Delete ``fetch_log`` rows fetched before ``cutoff`` (nothing reads old ones)."""
    t = FetchLog.__table__
    return _delete_in_chunks(engine, t, select(t.c.id).where(t.c.fetched_at < cutoff).order_by(t.c.id))


def _purge_keeping_latest(engine: Engine, model, group: str, at: str, cutoff: datetime) -> int:
    """Delete ``model`` rows with ``at`` before ``cutoff`` unless they are their ``group``'s
    newest (by ``at``, then id): the row a reader shows as "latest" always survives."""
    t = model.__table__
    newer = aliased(model)
    has_newer = exists().where(
        getattr(newer, group) == t.c[group],
        or_(getattr(newer, at) > t.c[at], and_(getattr(newer, at) == t.c[at], newer.id > t.c.id)),
    )
    q = select(t.c.id).where(t.c[at] < cutoff, has_newer).order_by(t.c.id)
    return _delete_in_chunks(engine, t, q)


def purge_source_runs(engine: Engine, cutoff: datetime) -> int:
    """Delete ``source_runs`` finished before ``cutoff``, keeping each source's latest."""
    return _purge_keeping_latest(engine, SourceRun, "source_id", "finished_at", cutoff)


def purge_reddit_snapshots(engine: Engine, cutoff: datetime) -> int:
    """Delete ``reddit_snapshots`` taken before ``cutoff``, keeping each thread's latest."""
    return _purge_keeping_latest(engine, RedditSnapshot, "post_id", "taken_at", cutoff)


def purge_captures(engine: Engine, cutoff: datetime) -> tuple[int, list[str]]:
    """Delete ``captures`` rows last fetched before ``cutoff`` that no article references.

    Returns ``(rows deleted, store paths no remaining row references)``.
    """
    t = Capture.__table__
    a = Article.__table__
    referenced = exists().where(a.c.capture_id == t.c.id)
    total = 0
    orphans: set[str] = set()
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                select(t.c.id, t.c.path).where(t.c.fetched_at < cutoff, ~referenced).order_by(t.c.id).limit(CHUNK)
            ).all()
            if not rows:
                break
            ids = [r.id for r in rows]
            total += conn.execute(delete(t).where(t.c.id.in_(ids), t.c.fetched_at < cutoff, ~referenced)).rowcount or 0
            paths = {r.path for r in rows}
            still = {r[0] for r in conn.execute(select(t.c.path).where(t.c.path.in_(paths)))}
            orphans |= paths - still
        if len(rows) < CHUNK:
            break
    # A path may have been re-referenced by a capture row written after its chunk.
    if orphans:
        with engine.connect() as conn:
            ordered = sorted(orphans)
            for i in range(0, len(ordered), CHUNK):
                part = ordered[i:i + CHUNK]
                orphans -= {r[0] for r in conn.execute(select(t.c.path).where(t.c.path.in_(part)))}
    return total, sorted(orphans)
