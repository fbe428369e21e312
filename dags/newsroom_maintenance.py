"""newsroom_maintenance: daily retention of logs, engagement snapshots and raw captures.

One task, ``apply_retention``, deletes ``fetch_log`` rows, ``source_runs``,
``reddit_snapshots`` and unreferenced raw captures older than the
``NEWSROOM_RETENTION_*_DAYS`` settings (0 keeps forever). It never deletes a source's
latest run, a thread's latest snapshot or a capture an article still points at
(``newsroom_reprocess`` re-extracts from those). Rerunning it deletes nothing more. The
work is :func:`newsroom.pipeline.maintenance.apply_retention`; see docs/warehouse.md
("Retention"). It returns the counts deleted (XCom carries counts only).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, task


@dag(
    dag_id="newsroom_maintenance",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["newsroom", "maintenance"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10),
                  "execution_timeout": timedelta(hours=1)},
)
def newsroom_maintenance():
    @task
    def apply_retention() -> dict:
        """Delete what the retention settings say is too old; returns the counts."""
        from newsroom.pipeline.maintenance import apply_retention as run
        from newsroom.settings import get_settings
        from newsroom.warehouse import open_warehouse

        settings = get_settings()
        engine = open_warehouse(settings.resolved_warehouse_url)
        return run(engine, settings=settings).counts()

    apply_retention()


newsroom_maintenance()
