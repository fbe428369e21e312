"""Daily maintenance: apply the retention settings (``NEWSROOM_RETENTION_*_DAYS``).

    report = apply_retention(engine, settings=get_settings())
    report.counts()   # {"fetch_log": 1234, "source_runs": 56, …}

Called by the ``newsroom_maintenance`` DAG once a day. What is kept, and why, is in
:mod:`newsroom.warehouse.retention` and docs/warehouse.md ("Retention"). A setting of
0 keeps that table forever. Rerunning it the same day deletes nothing more.

Order: capture rows first, then their bodies from the store, so a body is only ever
removed once no row points at it (a crash in between leaves a stray file, never a row
pointing at nothing).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from newsroom.captures import CaptureStore
from newsroom.settings import Settings
from newsroom.warehouse import Warehouse, retention
from newsroom.warehouse import utcnow

log = logging.getLogger(__name__)

__all__ = ["RetentionReport", "apply_retention"]


@dataclass(frozen=True)
class RetentionReport:
    """Rows (and capture files) deleted by one maintenance run."""

    fetch_log: int = 0
    source_runs: int = 0
    reddit_snapshots: int = 0
    captures: int = 0
    capture_files: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)


def _cutoff(now: datetime, days: int) -> datetime | None:
    return None if days <= 0 else now - timedelta(days=days)


def apply_retention(engine: Warehouse, *, settings: Settings, now: datetime | None = None,
                    store: CaptureStore | None = None) -> RetentionReport:
    """Delete what the retention settings say is too old, nothing a story or article needs."""
    now = now or utcnow()
    out: dict[str, int] = {}
    if (c := _cutoff(now, settings.retention_fetch_log_days)) is not None:
        out["fetch_log"] = retention.purge_fetch_log(engine, c)
    if (c := _cutoff(now, settings.retention_source_runs_days)) is not None:
        out["source_runs"] = retention.purge_source_runs(engine, c)
    if (c := _cutoff(now, settings.retention_reddit_snapshots_days)) is not None:
        out["reddit_snapshots"] = retention.purge_reddit_snapshots(engine, c)
    if (c := _cutoff(now, settings.retention_captures_days)) is not None:
        rows, paths = retention.purge_captures(engine, c)
        out["captures"] = rows
        store = store or CaptureStore(settings.data_dir)
        out["capture_files"] = sum(store.delete(p) for p in paths)
    report = RetentionReport(**out)
    log.info("retention applied: %s", report.counts())
    return report
