"""Every write of ``pipeline_runs``: one summary row per DAG run (unique per dag and run).

    save_pipeline_run(engine, PipelineRunSummary(dag_id=..., run_id=..., ...))

Rerunning the summary task of a run replaces its row (upsert on ``(dag_id, run_id)``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from newsroom.warehouse.db import upsert
from newsroom.warehouse.schema import PipelineRun

__all__ = ["PipelineRunSummary", "save_pipeline_run"]


@dataclass(frozen=True)
class PipelineRunSummary:
    dag_id: str
    run_id: str
    interval_start: datetime | None
    interval_end: datetime | None
    sources_ok: int
    sources_failed: int
    sources_skipped: int
    entries: int
    new_articles: int
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    finished_at: datetime | None = None


def save_pipeline_run(engine: Engine, summary: PipelineRunSummary) -> None:
    with engine.begin() as conn:
        upsert(conn, PipelineRun, [asdict(summary)], keys=["dag_id", "run_id"])
