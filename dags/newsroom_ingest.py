"""newsroom_ingest: feeds and subreddits → full-text articles → tags, duplicates, stories.

Thin wiring only: every task calls one function of ``newsroom.pipeline`` and
passes names, ids and counts through XCom, never article bodies. Imports of the
package happen inside tasks so the file parses fast.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

ARTICLES_ASSET = Asset(name="newsroom_articles", uri="newsroom://warehouse/articles")

DOC = """
### newsroom_ingest
Hourly (``NEWSROOM_INGEST_SCHEDULE``): one mapped task per enabled feed and per subreddit
(map index = source name), then enrichment (entity tags, duplicates, stories) over the
new articles, then a summary row in ``pipeline_runs``. A failing source fails only its own
task; its reason is in ``sources.last_error`` and ``source_runs``. Sources in backoff are
skipped unless the **force** param is set.
"""


def _settings():
    from newsroom.settings import get_settings

    return get_settings()


def _run_id() -> str:
    return get_current_context()["run_id"]


@dag(
    dag_id="newsroom_ingest",
    schedule=os.environ.get("NEWSROOM_INGEST_SCHEDULE", "@hourly"),
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
                       description="Fetch every enabled source now, ignoring backoff."),
    },
)
def newsroom_ingest():
    @task
    def plan_sources(params=None) -> dict:
        """Sync the sources file into the warehouse; list what is due this run."""
        from newsroom.config import load_sources
        from newsroom.pipeline.ingest import due_feed_sources, sync_sources
        from newsroom.warehouse import open_warehouse

        settings = _settings()
        sources = load_sources(settings.sources)
        engine = open_warehouse(settings.resolved_warehouse_url)
        sync_sources(engine, sources)
        force = bool((params or {}).get("force"))
        feeds = due_feed_sources(engine, sources, force=force)
        subs = [s.name for s in sources.reddit.subreddits if s.enabled]
        return {"feeds": feeds, "subreddits": subs}

    @task
    def feed_names(plan: dict) -> list[str]:
        return plan["feeds"]

    @task
    def subreddit_names(plan: dict) -> list[str]:
        return plan["subreddits"]

    @task(map_index_template="{{ source_name }}", max_active_tis_per_dagrun=4)
    def ingest_feed(name: str, params=None) -> dict:
        """Conditional GET of one feed, then its new entries' pages → articles."""
        from newsroom.pipeline.ingest import SourceFailed, ingest_feed as run

        ctx = get_current_context()
        ctx["source_name"] = name
        try:
            return run(name, settings=_settings(), run_id=_run_id(), force=bool((params or {}).get("force")))
        except SourceFailed as exc:
            if exc.permanent:
                raise AirflowFailException(str(exc)) from None  # retrying won't help
            raise

    @task(map_index_template="{{ source_name }}", pool="reddit_api")
    def ingest_subreddit(name: str) -> dict:
        """One subreddit: listing, threads, engagement snapshot, linked articles."""
        from newsroom.pipeline.reddit import ingest_subreddit as run

        ctx = get_current_context()
        ctx["source_name"] = f"r/{name}"
        return run(name, settings=_settings(), run_key=_run_id(), credentials=_reddit_credentials())

    @task(trigger_rule="all_done")
    def enrich() -> dict:
        """Tags, duplicates and stories for every article not processed yet."""
        from newsroom.pipeline.process import process_new_articles

        return process_new_articles(settings=_settings())

    @task(trigger_rule="all_done", outlets=[ARTICLES_ASSET])
    def summarize(enriched: dict | None = None):
        """One ``pipeline_runs`` row with the run's counts; emits the articles asset."""
        from newsroom.pipeline.ingest import summarize_run
        from newsroom.warehouse import open_warehouse

        ctx = get_current_context()
        engine = open_warehouse(_settings().resolved_warehouse_url)
        summary = summarize_run(engine, dag_id=ctx["dag"].dag_id, run_id=ctx["run_id"],
                                interval_start=ctx.get("data_interval_start"),
                                interval_end=ctx.get("data_interval_end"))
        ctx["outlet_events"][ARTICLES_ASSET].extra = {
            "run_id": ctx["run_id"], "new_articles": summary["new_articles"],
            "sources_ok": summary["sources_ok"], "sources_failed": summary["sources_failed"]}
        return summary

    plan = plan_sources()
    feeds = ingest_feed.expand(name=feed_names(plan))
    subs = ingest_subreddit.expand(name=subreddit_names(plan))
    enriched = enrich()
    [feeds, subs] >> enriched
    summarize(enriched)


def _reddit_credentials():
    """App-only OAuth credentials from the ``reddit_default`` Connection, if any."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get("reddit_default")
    except (AirflowNotFoundException, Exception):
        return None
    if not conn or not conn.login or not conn.password:
        return None
    from newsroom.reddit.auth import RedditCredentials

    return RedditCredentials(client_id=conn.login, client_secret=conn.password)


newsroom_ingest()
