"""Every write of ``fetch_log``: one append-only row per HTTP request the pipeline made.

    append_fetch_log(engine, [FetchLogEntry(...), ...])

Retention (:mod:`newsroom.warehouse.retention`) is its only deleter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Engine, insert

from newsroom.warehouse.schema import FetchLog

__all__ = ["FetchLogEntry", "append_fetch_log"]


@dataclass(frozen=True)
class FetchLogEntry:
    run_id: str | None
    source_id: int | None
    kind: str  # feed | page | robots | reddit | a metrics service
    url: str
    status: int | None
    bytes: int
    elapsed_ms: float
    error: str | None
    fetched_at: datetime


def append_fetch_log(engine: Engine, entries: Iterable[FetchLogEntry]) -> int:
    """Append the entries in one statement; returns how many."""
    rows = [asdict(e) for e in entries]
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(FetchLog), rows)
    return len(rows)
