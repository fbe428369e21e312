"""newsroom_ingest: feeds and subreddits → full-text articles → tags, duplicates, stories.

Thin wiring only: every task calls one function of ``newsroom.pipeline`` and
passes names, ids and counts through XCom, never article bodies. Imports of the
package happen inside tasks so the file parses fast.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from newsroom_assets import ARTICLES as ARTICLES_ASSET
from newsroom_failures import honest_failures

# Reddit failures that retrying within the run cannot fix (see docs/reddit.md).
REDDIT_PERMANENT = ("forbidden", "not_found", "banned", "html_not_json", "invalid_json", "oauth_failed",
                    "unauthorized")
log = logging.getLogger(__name__)
# The pool that rate-limits article page fetches across runs (plugins/pools.json).
PAGE_FETCH_POOL = "page_fetch"

DOC = """
### newsroom_ingest
Hourly (``NEWSROOM_INGEST_SCHEDULE``): one mapped task per batch of due feeds
(``NEWSROOM_FEEDS_PER_TASK``, default 20, fetched concurrently; map index = the batch's
source names, its return value = each source's result) and one per subreddit, then
enrichment (entity tags, duplicates, stories) over the new articles, then a summary row in
``pipeline_runs``. A failing source fails only its own task (its batch's; the others of the
batch are stored); its reason is in ``sources.last_error`` and ``source_runs``. Scheduled
runs skip sources in backoff; a **manual trigger** (this form) fetches them anyway, and
**force** also fetches
sources the pipeline disabled. The run is red when no source succeeded, or when more than the
sources file's `health.max_failed_share` of them failed (the summarize log says which).
Feed tasks take a slot of the `page_fetch` pool (they fetch the entries' article pages);
`enrich` works on every article not enriched yet: this run's, and any an earlier run left
pending (a failed enrich, or a text change that cleared `processed_at`).

**No backfills.** The network only has today's feeds, so a backfill run of this DAG
(Trigger → Backfill, `airflow backfill create`) fails at once, fetching and changing
nothing, with a message pointing to **`newsroom_reprocess`**: trigger that DAG with
since/until (local days) to re-extract, re-tag, rebuild stories and regenerate digests of
past days from the raw captures. See docs/operations.md.
"""

PRESETS = {"@hourly": timedelta(hours=1), "@daily": timedelta(days=1), "@weekly": timedelta(weeks=1)}


def _schedule():
    """A cron trigger whose data interval is the period since the previous fire time.

    A plain cron schedule has an empty interval in Airflow 3; ours spans the
    last period, so a run's summary row and asset event say which hour (day, …)
    it stands for.
    """
    expr = os.environ.get("NEWSROOM_INGEST_SCHEDULE", "@hourly")
    if expr.lower() in ("", "none", "null"):
        return None
    if expr in PRESETS:
        period = PRESETS[expr]
    else:
        from croniter import croniter

        it = croniter(expr, datetime(2026, 1, 1, tzinfo=timezone.utc))
        first = it.get_next(datetime)
        period = it.get_next(datetime) - first
    return CronTriggerTimetable(expr, timezone="UTC", interval=period)


def _is_backfill(ctx) -> bool:
    run_type = getattr(ctx.get("dag_run"), "run_type", None)
    return str(getattr(run_type, "value", run_type)) == "backfill"


BACKFILL_REFUSED = ("newsroom_ingest does not backfill: the network only has today's feeds, so a past "
                    "interval cannot be fetched. Nothing was fetched or changed. To rework past days from the "
                    "raw captures, trigger newsroom_reprocess with since/until (local days, both included).")


def _refuse_backfill(ctx) -> None:
    """Fail a backfill run's task at once (no retry) with the message that says what to do."""
    if _is_backfill(ctx):
        raise AirflowFailException(BACKFILL_REFUSED)


def _is_manual(ctx) -> bool:
    run_type = getattr(ctx.get("dag_run"), "run_type", None)
    return str(getattr(run_type, "value", run_type)) == "manual"


def _ignore_backoff(ctx, try_number: int) -> bool:
    """Fetch a source in backoff: on a manual trigger (someone wants it now), and on an
    Airflow retry of this run (the backoff is meant for later runs, not this one; the
    server's Retry-After is honoured by not retrying, see ``_source_failed``)."""
    return _is_manual(ctx) or try_number > 1


def _source_failed(exc, ti) -> BaseException:
    """The exception an ingest task raises for a failed source: no retry for what a retry
    cannot fix, nor when the server asked us to wait longer than the retry would."""
    if exc.permanent:
        return AirflowFailException(str(exc))
    retry_delay = getattr(getattr(ti, "task", None), "retry_delay", None) or timedelta(0)
    if exc.retry_after_s and timedelta(seconds=exc.retry_after_s) > retry_delay:
        when = exc.next_due_at.isoformat() if exc.next_due_at else "later"
        return AirflowFailException(f"{exc}; the server asked for Retry-After {exc.retry_after_s:g} s, "
                                    f"longer than the retry delay: not retried in this run, due again {when}")
    return exc


def _raise_for_batch(batch, ti) -> None:
    """A feed batch's task state, the worst of its sources': a systemic failure or a bug
    fails it for a retry (which runs only the sources not finished yet); a source's own
    failure fails it too, without retry when no source's failure is worth one (see
    ``_source_failed``). Every source's outcome is recorded before this."""
    from newsroom.pipeline.outcome import is_permanent

    others = batch.other_errors
    if others:
        message = "; ".join(f"feed {n!r}: {type(e).__name__}: {e}" for n, e in others.items())
        if any(is_permanent(e) for e in others.values()):
            raise AirflowFailException(message)
        raise RuntimeError(message)
    raised = [_source_failed(e, ti) for e in batch.failed.values()]
    if not raised:
        return
    if len(raised) == 1 and len(batch.results) == 1:
        raise raised[0]
    message = f"{len(raised)} of {len(batch.results)} feeds failed: " + "; ".join(str(e) for e in raised)
    if all(isinstance(e, AirflowFailException) for e in raised):
        raise AirflowFailException(message)
    raise RuntimeError(message)


def _raise_if_subreddit_failed(name: str, result: dict) -> None:
    """The reason is recorded already; fail only this subreddit's task, retrying only
    what a retry can fix."""
    if result.get("status") != "failed":
        return
    reason = str(result.get("reason") or "failed")
    message = f"subreddit {name!r} failed: {reason}"
    if reason.startswith(REDDIT_PERMANENT):
        raise AirflowFailException(message)
    raise RuntimeError(message)


def _settings():
    from newsroom.settings import get_settings

    return get_settings()


def _run_id() -> str:
    return get_current_context()["run_id"]


@dag(
    dag_id="newsroom_ingest",
    schedule=_schedule(),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["newsroom", "ingest"],
    doc_md=DOC,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(minutes=30),
    },
    params={
        "force": Param(False, type="boolean", title="Force",
                       description="Fetch every enabled source now, also those the pipeline disabled (gone). "
                                   "A manual trigger from this form ignores backoff even without Force; "
                                   "scheduled runs honour it."),
    },
)
def newsroom_ingest():
    @task
    def plan_sources(params=None) -> dict:
        """Sync the sources file into the warehouse; list what is due this run (a backfill run fails here)."""
        _refuse_backfill(get_current_context())
        from newsroom.config import load_sources
        from newsroom.pipeline.ingest import due_feed_sources, sync_sources
        from newsroom.warehouse import open_warehouse

        ctx = get_current_context()
        with honest_failures():
            settings = _settings()
            sources = load_sources(settings.sources)
            engine = open_warehouse(settings.resolved_warehouse_url)
            sync_sources(engine, sources)
            feeds = due_feed_sources(engine, sources, force=bool((params or {}).get("force")),
                                     ignore_backoff=_is_manual(ctx))
        subs = [s.name for s in sources.reddit.subreddits if s.enabled]
        return {"feeds": feeds, "subreddits": subs}

    @task
    def feed_batches(plan: dict) -> list[list[str]]:
        """The due feeds in batches of ``NEWSROOM_FEEDS_PER_TASK`` (1: one task per feed)."""
        from newsroom.pipeline.feed_batches import plan_feed_batches

        return plan_feed_batches(plan["feeds"], feeds_per_task=_settings().feeds_per_task)

    @task
    def subreddit_names(plan: dict) -> list[str]:
        return plan["subreddits"]

    @task(map_index_template="{{ feed_batch }}", max_active_tis_per_dagrun=4, pool=PAGE_FETCH_POOL)
    def ingest_feed(names: list[str], params=None) -> dict:
        """A batch of feeds, fetched concurrently (one per host): conditional GET of each, then
        its new entries' pages → articles. Every source is recorded on its own; the return
        value lists each one's result by name (XCom ``sources`` when the task fails)."""
        from newsroom.pipeline.feed_batches import batch_label, ingest_feed_batch

        ctx = get_current_context()
        ctx["feed_batch"] = batch_label(names)
        ti = ctx["ti"]
        with honest_failures():
            batch = ingest_feed_batch(names, settings=_settings(), run_id=_run_id(),
                                      force=bool((params or {}).get("force")),
                                      ignore_backoff=_ignore_backoff(ctx, ti.try_number), resume=ti.try_number > 1)
        for r in batch.results:
            log.info("feed %r: %s%s", r["source"], r["status"], f" ({r['reason']})" if r.get("reason") else "")
        if batch.errors:  # a failed task returns nothing: its sources' results stay visible all the same
            ti.xcom_push(key="sources", value=batch.results)
        _raise_for_batch(batch, ti)
        return {"sources": batch.results}

    @task(map_index_template="{{ source_name }}", pool="reddit_api")
    def ingest_subreddit(name: str) -> dict:
        """One subreddit: listing, threads, engagement snapshot, linked articles."""
        from newsroom.pipeline.reddit import ingest_subreddit as run

        ctx = get_current_context()
        ctx["source_name"] = f"r/{name}"
        with honest_failures():
            result = run(name, settings=_settings(), run_key=_run_id(), credentials=_reddit_credentials())
        _raise_if_subreddit_failed(name, result)
        return result

    @task(trigger_rule="all_done")
    def enrich() -> dict:
        """Tags, duplicates and stories for every article not enriched yet: this run's, and any
        an earlier run left pending (its enrich failed, or a later source changed its text,
        which clears ``processed_at``), so none is stranded. No other ingest run can be storing
        meanwhile (``max_active_runs=1``; backfills are refused), and a rerun of the task finds
        only what is still pending."""
        ctx = get_current_context()
        _refuse_backfill(ctx)
        from newsroom.pipeline.process import process_new_articles

        with honest_failures():
            return process_new_articles(settings=_settings())

    @task(trigger_rule="all_done", outlets=[ARTICLES_ASSET])
    def summarize(enriched: dict | None = None):
        """One ``pipeline_runs`` row with the run's counts; emits the articles asset.

        The run's last task, so it decides the run's colour: it fails when no source
        succeeded or too many failed (``health.max_failed_share`` in the sources file)."""
        from newsroom.config import load_sources
        from newsroom.pipeline.ingest import summarize_run
        from newsroom.pipeline.outcome import judge_run
        from newsroom.warehouse import open_warehouse

        ctx = get_current_context()
        _refuse_backfill(ctx)  # the run's colour says why, not a green run that did nothing
        settings = _settings()
        with honest_failures():
            sources = load_sources(settings.sources)
            engine = open_warehouse(settings.resolved_warehouse_url)
            summary = summarize_run(engine, dag_id=ctx["dag"].dag_id, run_id=ctx["run_id"],
                                    interval_start=ctx.get("data_interval_start"),
                                    interval_end=ctx.get("data_interval_end"))
        verdict = judge_run(summary, max_failed_share=sources.health.max_failed_share)
        if not verdict.ok:
            raise AirflowFailException(verdict.message)  # a retry would count the same rows
        log.info("sources: %s", verdict.message)
        end = ctx.get("data_interval_end") or datetime.now(timezone.utc)
        day = end.astimezone(sources.tz).date()  # the local day the run ended in
        extra = {"run_id": ctx["run_id"], "mode": "ingest", "day": day.isoformat(),
                 "new_articles": summary["new_articles"], "sources_ok": summary["sources_ok"],
                 "sources_failed": summary["sources_failed"]}
        ctx["outlet_events"][ARTICLES_ASSET].extra = extra
        return summary

    plan = plan_sources()
    feeds = ingest_feed.expand(names=feed_batches(plan))
    subs = ingest_subreddit.expand(name=subreddit_names(plan))
    enriched = enrich()
    [feeds, subs] >> enriched
    summarize(enriched)


def _reddit_credentials():
    """App-only OAuth credentials from the ``reddit_default`` Connection (None: anonymous)."""
    from newsroom_hooks import RedditHook

    return RedditHook().get_credentials()


newsroom_ingest()
