"""newsroom_digest: the daily digest, entity topic notes and maps of content.

Runs daily at ``digest.hour`` in the newsroom's timezone (both from the sources
file) on an explicit interval timetable: the run whose data interval ends at
D+1 hh:00 local digests local day D (see ``newsroom.digest.window``). Backfills
(UI Trigger → Backfill, or ``airflow backfill create``) regenerate past days in
any order with the same result. The **day** param overrides the day for a manual run
(``newsroom_ingest`` in reprocess mode triggers runs with ``conf={"day": …}``).

Concurrency: ``catchup=False`` (a paused or new deployment does not flood the scheduler;
history is regenerated on purpose with a backfill), ``max_active_runs=1`` for scheduled and
manual runs, and ``build_digest`` runs one at a time across *all* runs
(``max_active_tis_per_dag=1``) because a backfill's own max-active-runs bypasses the DAG's and
entity notes are projections shared by every day: two days rendering ``Meta.md`` at once could
leave the older rendering on disk. See docs/operations.md.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task

DIGESTS_ASSET = Asset(name="newsroom_digests", uri="newsroom://warehouse/digests")


def _schedule_from_sources() -> tuple[str, int]:
    """Timezone and hour from the sources file (a small YAML read; no DB, no network)."""
    try:
        from newsroom.config import load_sources
        from newsroom.settings import get_settings

        src = load_sources(get_settings().sources)
        return src.timezone, src.digest.hour
    except Exception:  # a broken file must not hide the DAG; tasks report the error
        return os.environ.get("NEWSROOM_TIMEZONE", "UTC"), 6


TZ, HOUR = _schedule_from_sources()


@dag(
    dag_id="newsroom_digest",
    schedule=CronDataIntervalTimetable(f"0 {HOUR} * * *", timezone=TZ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["newsroom", "digest"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": 2.0,
                  "execution_timeout": timedelta(minutes=30)},
    params={
        "day": Param(None, type=["null", "string"], format="date", title="Day",
                     description="Digest this local day (YYYY-MM-DD) instead of the run's interval."),
    },
)
def newsroom_digest():
    @task(outlets=[DIGESTS_ASSET], max_active_tis_per_dag=1)
    def build_digest(params=None) -> dict:
        """Build the day's digest rows and notes; emit the digests asset with the day and counts."""
        from datetime import date

        from newsroom.config import load_sources
        from newsroom.digest.window import day_for_interval
        from newsroom.pipeline.digest import build_daily_digest
        from newsroom.settings import get_settings
        from newsroom.warehouse import open_warehouse

        ctx = get_current_context()
        settings = get_settings()
        sources = load_sources(settings.sources)
        if params and params.get("day"):
            day = date.fromisoformat(params["day"])
        else:
            day = day_for_interval(ctx["data_interval_start"], ctx["data_interval_end"], sources.tz)
        engine = open_warehouse(settings.resolved_warehouse_url)
        result = build_daily_digest(engine, day, settings=settings, sources=sources, llm=_llm_config())
        ctx["outlet_events"][DIGESTS_ASSET].extra = {
            "day": day.isoformat(), "beat": sources.beat,
            **{k: v for k, v in result.items() if isinstance(v, (int, str))}}
        return result

    build_digest()


def _llm_config():
    """The optional LLM summariser from the ``llm_default`` Connection (None: extractive only)."""
    from newsroom_hooks import LLMHook

    return LLMHook().get_config()


newsroom_digest()
