"""newsroom_consumer_example: what a downstream team's DAG looks like — runs when a digest lands.

Scheduled on the ``newsroom_digests`` asset: every successful ``build_digest``
(scheduled, manual, triggered by a reprocess, or backfilled) emits an asset event
whose extras carry the day, the beat and the counts; this DAG reads them from
``triggering_asset_events`` and logs them. It is **paused when created** and
harmless: it writes nothing unless ``NEWSROOM_EXPORT_DIR`` is set, in which case it
exports the day's consumer views there (``newsroom.export``, Parquet by default,
``NEWSROOM_EXPORT_FORMAT=csv`` for CSV). Copy it as a starting point.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, get_current_context, task
from newsroom_assets import DIGESTS as DIGESTS_ASSET

log = logging.getLogger(__name__)


@dag(
    dag_id="newsroom_consumer_example",
    schedule=[DIGESTS_ASSET],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    tags=["newsroom", "example", "consumer"],
    doc_md=__doc__,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
)
def newsroom_consumer_example():
    @task
    def digest_days() -> list[dict]:
        """The days (and counts) of the digest events that triggered this run."""
        ctx = get_current_context()
        out = []
        for events in ctx["triggering_asset_events"].values():
            for ev in events:
                extra = dict(ev.extra or {})
                log.info("digest landed: day=%s beat=%s articles=%s stories=%s (from %s)", extra.get("day"),
                         extra.get("beat"), extra.get("articles"), extra.get("stories"),
                         getattr(ev, "source_dag_id", None))
                if extra.get("day"):
                    out.append({k: v for k, v in extra.items() if isinstance(v, (str, int, float, bool))})
        return out

    @task
    def export_days(days: list[dict]) -> dict:
        """Export each day's consumer views when ``NEWSROOM_EXPORT_DIR`` is set; otherwise nothing."""
        target = os.environ.get("NEWSROOM_EXPORT_DIR")
        if not target:
            log.info("NEWSROOM_EXPORT_DIR not set: nothing exported (%d days seen)", len(days))
            return {"exported": []}
        from datetime import date

        from newsroom.config import load_sources
        from newsroom.export import export_day
        from newsroom.settings import get_settings
        from newsroom.warehouse import open_warehouse

        settings = get_settings()
        tz = load_sources(settings.sources).tz
        engine = open_warehouse(settings.resolved_warehouse_url)
        fmt = os.environ.get("NEWSROOM_EXPORT_FORMAT", "parquet")
        done = []
        for d in sorted({d["day"] for d in days}):
            res = export_day(engine, date.fromisoformat(d), target, fmt=fmt, tz=tz)
            done.append({"day": d, "directory": res.directory, **res.counts})
        return {"exported": done}

    export_days(digest_days())


newsroom_consumer_example()
