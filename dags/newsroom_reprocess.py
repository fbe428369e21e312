"""newsroom_reprocess: rework past days offline — re-extract, re-tag, rebuild stories, regenerate digests.

Thin wiring only: the work is ``newsroom.pipeline.reprocess.reprocess_range``; XCom carries
counts and days, never bodies. Imports of the package happen inside tasks so the file parses fast.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from newsroom_assets import ARTICLES as ARTICLES_ASSET
from newsroom_failures import honest_failures

DOC = """
### newsroom_reprocess
Manual only (Trigger, this form): reworks the articles of **since … until** (local days of the
sources file's timezone, both included) from the warehouse and the raw page captures — it
fetches nothing. Each stage is a switch:

* **re_extract** — re-run text extraction on the stored captures (a capture that is gone, or an
  extraction that now fails where the stored text was good, keeps the stored article);
* **re_tag** — re-tag with the current entities file;
* **re_dedup** — rebuild the range's duplicates and stories (ids kept, in place);
* **regenerate_digests** — then trigger one `newsroom_digest` run per day (conf `{"day": …}`,
  run id `reprocess__<day>__<this run>`).

One reprocessing at a time (`max_active_runs=1`, and the `reprocess` task is serialised across
runs): two ranges may share stories. Rerunning the same range gives the same rows. The
`newsroom_articles` asset event carries the range, the days and the counts.

This is what replaces backfilling `newsroom_ingest` (which refuses backfills: the network only
has today's feeds). See docs/operations.md.
"""


def _range(params: dict):
    """The form's since/until as dates; a clear, permanent failure for a bad form."""
    from datetime import date

    since, until = params.get("since"), params.get("until")
    if not since or not until:
        raise AirflowFailException("newsroom_reprocess needs both 'since' and 'until' (YYYY-MM-DD, local days)")
    try:
        since, until = date.fromisoformat(str(since)), date.fromisoformat(str(until))
    except ValueError as exc:
        raise AirflowFailException(f"'since'/'until' must be dates YYYY-MM-DD: {exc}") from None
    if until < since:
        raise AirflowFailException(f"'until' {until} is before 'since' {since}")
    return since, until


@dag(
    dag_id="newsroom_reprocess",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["newsroom", "reprocess"],
    doc_md=DOC,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2), "execution_timeout": timedelta(hours=2)},
    params={
        "since": Param(None, type=["null", "string"], format="date", title="Since",
                       description="First local day to reprocess (YYYY-MM-DD)."),
        "until": Param(None, type=["null", "string"], format="date", title="Until",
                       description="Last local day to reprocess, included (YYYY-MM-DD)."),
        "re_extract": Param(True, type="boolean", title="Re-extract",
                            description="Re-run text extraction on the stored page captures."),
        "re_tag": Param(True, type="boolean", title="Re-tag",
                        description="Re-tag the range with the current entities file."),
        "re_dedup": Param(True, type="boolean", title="Rebuild duplicates and stories",
                          description="Rebuild duplicates and stories of the range."),
        "regenerate_digests": Param(True, type="boolean", title="Regenerate digests",
                                    description="Trigger a newsroom_digest run for every day of the range."),
    },
)
def newsroom_reprocess():
    @task(outlets=[ARTICLES_ASSET], max_active_tis_per_dag=1)  # ranges may share stories
    def reprocess(params=None) -> dict:
        """Re-extract, re-tag and rebuild stories of the range; returns counts and the digest days."""
        from newsroom.pipeline.reprocess import days_in_range, reprocess_range
        from newsroom.settings import get_settings
        from newsroom.warehouse import open_warehouse

        ctx = get_current_context()
        params = params or {}
        since, until = _range(params)
        settings = get_settings()
        with honest_failures():
            engine = open_warehouse(settings.resolved_warehouse_url)
            counts = reprocess_range(engine, since, until, settings=settings,
                                     re_extract=bool(params.get("re_extract", True)),
                                     re_dedup=bool(params.get("re_dedup", True)),
                                     re_tag=bool(params.get("re_tag", True)))
        days = [d.isoformat() for d in days_in_range(since, until)] if params.get("regenerate_digests") else []
        ctx["outlet_events"][ARTICLES_ASSET].extra = {
            "run_id": ctx["run_id"], "mode": "reprocess", "since": since.isoformat(), "until": until.isoformat(),
            "reprocessed_articles": counts["articles"], "text_changed": counts["text_changed"], "days": days}
        return {**counts, "days": days}

    @task
    def digest_requests(reprocessed: dict) -> list[dict]:
        """One newsroom_digest trigger per reprocessed day (empty list: nothing triggered)."""
        run_id = get_current_context()["run_id"]
        return [{"conf": {"day": d}, "trigger_run_id": f"reprocess__{d}__{run_id}"[:250]}
                for d in reprocessed.get("days", [])]

    @task(map_index_template="{{ digest_day }}")
    def regenerate_digests(request: dict):
        """Trigger one newsroom_digest run (what TriggerDagRunOperator does in Airflow 3: the
        task runner turns this exception into a trigger request to the API server). A task
        rather than the operator because importing the operator at parse time pulls
        airflow.api.common.trigger_dag and the ORM models (~0.25 s per parse)."""
        from airflow.sdk.exceptions import DagRunTriggerException

        get_current_context()["digest_day"] = request["conf"]["day"]
        raise DagRunTriggerException(
            trigger_dag_id="newsroom_digest", dag_run_id=request["trigger_run_id"], conf=request["conf"],
            logical_date=datetime.now(timezone.utc), reset_dag_run=False, skip_when_already_exists=True,
            wait_for_completion=False, allowed_states=["success"], failed_states=["failed"], poke_interval=60,
            deferrable=False)

    regenerate_digests.expand(request=digest_requests(reprocess()))


newsroom_reprocess()
