"""newsroom_metrics: daily figures of the tracked entities — GitHub stars, Hugging Face
downloads, PyPI downloads — from the ``links`` of the entities file into ``entity_metrics``.

One task per service (``collect_github``, ``collect_huggingface``, ``collect_pypistats``), each
in its own pool (``github_api``, ``huggingface_api``, ``pypistats_api``) so backfills and
manual runs never press one API harder than its pool allows; Airflow gives every instance of
one mapped task the same pool, hence one task per service rather than a map. A service no
entity links to is skipped. Base URLs and tokens come from the Connections ``github_default``,
``huggingface_default``, ``pypistats_default`` (host, password). Idempotent per day: a second
run of the same day asks nothing for links already read and adds no rows; a spent quota
stops the service task with the reason (retried later). Emits ``newsroom_entity_metrics``.
Schedule: ``NEWSROOM_METRICS_SCHEDULE`` (cron, UTC; default 03:00). The **day** param
overrides the observed day (default: the run's logical date, UTC).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException
from newsroom_assets import ENTITY_METRICS as METRICS_ASSET

SERVICES = ("github", "huggingface", "pypistats")


def _schedule():
    expr = os.environ.get("NEWSROOM_METRICS_SCHEDULE", "0 3 * * *")
    if expr.lower() in ("", "none", "null"):
        return None
    return CronTriggerTimetable(expr, timezone="UTC")


def _day(params):
    from datetime import date

    if params and params.get("day"):
        return date.fromisoformat(params["day"])
    ctx = get_current_context()
    when = ctx.get("logical_date") or ctx.get("data_interval_end") or datetime.now(timezone.utc)
    return when.astimezone(timezone.utc).date()


@dag(
    dag_id="newsroom_metrics",
    schedule=_schedule(),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["newsroom", "metrics"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=15), "retry_exponential_backoff": 2.0,
                  "execution_timeout": timedelta(minutes=60)},
    params={"day": Param(None, type=["null", "string"], format="date", title="Day",
                         description="Store the figures under this UTC day (YYYY-MM-DD).")},
)
def newsroom_metrics():
    @task
    def plan() -> list[str]:
        """The services some entity links to."""
        from newsroom.pipeline.metrics import services_with_sources
        from newsroom.settings import get_settings

        return services_with_sources(get_settings())

    def collector(service: str):
        @task(task_id=f"collect_{service}", pool=f"{service}_api", max_active_tis_per_dag=1)
        def collect(services: list[str], params=None) -> dict:
            """Today's figures of every link to this service, stored with their reasons."""
            if service not in services:
                raise AirflowSkipException(f"no entity links to {service}")
            from newsroom.pipeline.metrics import collect_service
            from newsroom.settings import get_settings
            from newsroom_hooks import METRICS_HOOKS

            return collect_service(service, _day(params), settings=get_settings(),
                                   endpoint=METRICS_HOOKS[service]().get_endpoint(),
                                   run_id=get_current_context()["run_id"])

        return collect

    @task(trigger_rule="none_failed", outlets=[METRICS_ASSET])
    def summarize(params=None) -> dict:
        """Emit the asset with the day and what the warehouse holds for it, per service and status."""
        from newsroom.pipeline.metrics import day_counts
        from newsroom.settings import get_settings

        day = _day(params)
        extra = {"day": day.isoformat(), "counts": day_counts(get_settings(), day)}
        get_current_context()["outlet_events"][METRICS_ASSET].extra = extra
        return extra

    services = plan()
    [collector(s)(services) for s in SERVICES] >> summarize()


newsroom_metrics()
