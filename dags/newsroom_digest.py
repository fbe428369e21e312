"""newsroom_digest: the daily digest, entity topic notes and maps of content.

Runs daily on ``NEWSROOM_DIGEST_SCHEDULE`` (default ``0 6 * * *``, a daily cron) in
``NEWSROOM_DIGEST_TZ`` (default ``Europe/London``, which must be the sources file's timezone)
on an explicit interval timetable: the run whose data interval ends at D+1 hh:00 local
digests local day D (see ``newsroom.digest.window``). Both settings are read when the file
is parsed, from the environment only; an invalid value is an import error of this file
(shown in the UI), never a silent default. Backfills (UI Trigger → Backfill, or
``airflow backfill create``) regenerate past days in any order with the same result. The
**day** param overrides the day for a manual run (``newsroom_reprocess`` triggers runs with
``conf={"day": …}``).

Concurrency: ``catchup=False`` (a paused or new deployment does not flood the scheduler;
history is regenerated on purpose with a backfill), ``max_active_runs=1`` for scheduled and
manual runs, and ``build_digest`` runs one at a time across *all* runs
(``max_active_tis_per_dag=1``) because a backfill's own max-active-runs bypasses the DAG's and
entity notes are projections shared by every day: two days rendering ``Meta.md`` at once could
leave the older rendering on disk. See docs/operations.md.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task
from newsroom_assets import DIGESTS as DIGESTS_ASSET

log = logging.getLogger(__name__)


def _schedule() -> CronDataIntervalTimetable:
    """The daily timetable from settings (environment only: no file read at parse time).

    A fresh ``Settings()`` so the value parsed is the environment's now; an invalid value
    raises pydantic's ``ValidationError`` naming the variable, which Airflow shows as this
    file's import error.
    """
    from newsroom.settings import Settings

    settings = Settings()
    return CronDataIntervalTimetable(settings.digest_schedule, timezone=settings.digest_tz)


@dag(
    dag_id="newsroom_digest",
    schedule=_schedule(),
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
        _check_timezone(settings.digest_tz, sources.timezone)
        schedule_hour = int(settings.digest_schedule.split()[1])
        if "hour" in sources.digest.model_fields_set and sources.digest.hour != schedule_hour:
            log.warning("the sources file's digest.hour (%d) no longer sets the schedule: this DAG runs at hour %d "
                        "of NEWSROOM_DIGEST_SCHEDULE=%r", sources.digest.hour, schedule_hour,
                        settings.digest_schedule)
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


def _check_timezone(schedule_tz: str, sources_tz: str) -> None:
    """The schedule's days must be the digest's days: refuse a mismatch rather than digest a
    day the interval does not cover (a permanent error: no retry fixes a setting)."""
    if schedule_tz != sources_tz:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(
            f"NEWSROOM_DIGEST_TZ is {schedule_tz!r} but the sources file's timezone is {sources_tz!r}: "
            "set them to the same zone (the digest's local days come from the sources file)")


def _llm_config():
    """The optional LLM summariser from the ``llm_default`` Connection (None: extractive only)."""
    from newsroom_hooks import LLMHook

    return LLMHook().get_config()


newsroom_digest()
