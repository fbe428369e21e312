"""The production (docker-compose.yaml) path, natively: CeleryExecutor with a Redis broker,
PostgreSQL metadata and warehouse, and ``api-server``, ``scheduler``, ``dag-processor`` and
``celery worker`` as separate process groups. One ``newsroom_ingest`` run is triggered
through the REST API against a replay server of corpus feeds and pages; the tests then
check that the run succeeded, that its tasks went through the broker to the Celery worker,
and that the warehouse holds the full-text articles. See docs/distributed.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.corpus_site import extraction_pages, serve_feeds, serve_pages_feed, write_sources

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.corpus]

DAG_ID = "newsroom_ingest"
# More pages than the extraction pool's in-process shortcut (MIN_BATCH_FOR_NEW_POOL), on two
# workers: the Celery worker's task process must run the pool, not extract in-process.
SAMPLE_PAGES = 24
FEEDS = ("bbc_news_rss2", "qemu_blog_atom_2025")  # small real feeds; their entries point at the internet
BAD_FEED = "malformed-sixcolors_homepage_html"  # an HTML page where a feed should be: a permanent failure
RUN_TIMEOUT_S = 240


@dataclass
class CeleryRun:
    cluster: object
    run_id: str
    base_url: str
    pages: list[dict]
    dag_run: dict = field(default_factory=dict)
    tis: list[dict] = field(default_factory=list)


def _services_or_skip() -> None:
    """PostgreSQL and Redis on 127.0.0.1 (CI starts both); skip locally when absent, fail in CI."""
    problems = []
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3):
            pass
    except Exception as exc:
        problems.append(f"PostgreSQL 127.0.0.1:5432: {exc}")
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis 127.0.0.1:6379: {exc}")
    if problems:
        msg = "the Celery deployment needs " + "; ".join(problems)
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def _trigger_and_wait(af, base_url: str, pages: list[dict]) -> CeleryRun:
    """Wait for the DAG to be parsed, unpause it, trigger a run through the REST API, wait for its end."""
    run = CeleryRun(cluster=af, run_id=f"celery_native__{af.tag}", base_url=base_url, pages=pages)

    def serialized():
        try:
            return af.api("GET", f"/api/v2/dags/{DAG_ID}")
        except RuntimeError as exc:
            if "→ 404" in str(exc):  # not serialized yet
                return None
            raise

    af.wait(serialized, 120, f"{DAG_ID} parsed by the dag-processor", poll=2)
    af.api("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
    af.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns",
           json={"dag_run_id": run.run_id, "logical_date": None, "conf": {}})

    def finished():
        dr = af.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run.run_id}")
        return dr if dr["state"] in ("success", "failed") else None

    run.dag_run = af.wait(finished, RUN_TIMEOUT_S, f"DagRun {run.run_id}", poll=2)
    run.tis = af.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run.run_id}/taskInstances",
                     params={"limit": 100})["task_instances"]
    return run


@pytest.fixture(scope="module")
def celery_run(corpus, tmp_path_factory):
    _services_or_skip()
    from tests.distributed.celery_cluster import CeleryCluster
    from tests.replay_server import ReplayServer

    work = tmp_path_factory.mktemp("celery")
    with ReplayServer() as srv:
        served = serve_feeds(srv, corpus)
        pages = extraction_pages(corpus, SAMPLE_PAGES)
        feeds = {name: served[name] for name in (*FEEDS, BAD_FEED)}
        feeds["generated"] = serve_pages_feed(srv, corpus, pages)
        sources = write_sources(work / "sources.yaml", feeds)
        env = {
            "NEWSROOM_SOURCES": str(sources),
            # One folder every process sees; across machines this is an object-storage URL (s3://…).
            "NEWSROOM_DATA_DIR": str(work / "shared-data"),
            "NEWSROOM_OUTPUT_DIR": str(work / "vault"),
            "NEWSROOM_ALLOW_PRIVATE_NETWORKS": "true",
            "NEWSROOM_ALLOWED_HOSTS": "127.0.0.1",
            "NEWSROOM_MAX_ARTICLES_PER_SOURCE": str(SAMPLE_PAGES),
            "NEWSROOM_EXTRACT_WORKERS": "2",
            "NEWSROOM_INGEST_SCHEDULE": "none",  # only the run this test triggers
        }
        with CeleryCluster(work / "airflow-home", env=env) as af:
            try:
                run = _trigger_and_wait(af, srv.base_url, pages)
            except Exception:
                print(af.logs())  # shown under "Captured stdout setup" when the fixture errors
                raise
            yield run


def _ran(tis: list[dict]) -> list[dict]:
    return [t for t in tis if t["state"] in ("success", "failed")]


def _label(t: dict) -> str:
    return t["task_id"] + (f"[{t['rendered_map_index'] or t['map_index']}]" if t["map_index"] >= 0 else "")


def test_dag_run_succeeds_with_only_the_bad_feed_failed(celery_run):
    tis = celery_run.tis
    assert celery_run.dag_run["state"] == "success", {_label(t): t["state"] for t in tis}
    failed = {_label(t) for t in tis if t["state"] not in ("success", "skipped")}
    assert failed == {f"ingest_feed[{BAD_FEED}]"}
    feeds_ok = {t["rendered_map_index"] for t in tis
                if t["task_id"] == "ingest_feed" and t["state"] == "success"}
    assert feeds_ok == {*FEEDS, "generated"}
    done = {t["task_id"] for t in tis if t["state"] == "success"}
    assert {"plan_sources", "enrich", "summarize"} <= done
    # the permanent failure was not retried (AirflowFailException), so the run did not wait 2 minutes
    bad = next(t for t in tis if t["rendered_map_index"] == BAD_FEED)
    assert bad["try_number"] == 1


def test_every_task_went_through_the_broker_to_the_celery_worker(celery_run):
    af = celery_run.cluster
    ran = _ran(celery_run.tis)
    expected = {"plan_sources", "feed_batches", "subreddit_names", "enrich", "summarize",
                *(f"ingest_feed[{n}]" for n in (*FEEDS, BAD_FEED, "generated"))}
    assert {_label(t) for t in ran} == expected
    # The worker's process tree reports the worker's host name (worker_identity); the scheduler,
    # dag-processor and api-server never run a task, so no other name may appear.
    assert {t["hostname"] for t in ran} == {af.worker_hostname}
    assert {t["queue"] for t in ran} == {af.queue}
    assert {t["executor"] for t in ran} <= {None, "CeleryExecutor"}

    # Each task instance carries the id of the Celery task that ran it; that task is in the
    # result backend (db+postgresql) and in the worker's log with the task instance's ids.
    rows = af.query("SELECT task_id, map_index, external_executor_id, state FROM task_instance "
                    "WHERE dag_id = %s AND run_id = %s AND state IN ('success', 'failed')",
                    DAG_ID, celery_run.run_id)
    assert len(rows) == len(ran)
    celery_ids = {r[2] for r in rows}
    assert None not in celery_ids and len(celery_ids) == len(rows)
    results = dict(af.query("SELECT task_id, status FROM celery_taskmeta"))
    assert celery_ids <= set(results), celery_ids - set(results)
    worker_log = af.log_text("worker")
    for task_id, map_index, celery_id, _ in rows:
        needle = f"[{celery_id}] Executing workload in Celery"
        line = next((ln for ln in worker_log.splitlines() if needle in ln), None)
        assert line, f"{task_id}[{map_index}] (celery id {celery_id}) is not in the worker log"
        assert f"task_id='{task_id}'" in line and f"map_index={map_index}," in line, line
    # and the scheduler handed every one of them to its CeleryExecutor
    executor_of = {}
    for line in af.log_text("scheduler").splitlines():
        m = re.search(r"Trying to enqueue tasks: \[(.*)\] for executor: (\w+)\(", line)
        listed = m.group(1) if m else ""
        for task_id, run_id, map_index in re.findall(
                r"<TaskInstance: " + DAG_ID + r"\.(\S+) (\S+)(?: map_index=(\d+))? \[", listed):
            if run_id == celery_run.run_id:
                executor_of[(task_id, int(map_index or -1))] = m.group(2)
    assert {executor_of.get((t, m)) for t, m, _, _ in rows} == {"CeleryExecutor"}, executor_of


def test_warehouse_holds_the_full_text_articles_and_the_run(celery_run):
    from sqlalchemy import create_engine, select

    from newsroom.warehouse.schema import Article, Capture, PipelineRun, Source

    af = celery_run.cluster
    engine = create_engine(af.warehouse_url)
    try:
        with engine.connect() as c:
            articles = c.execute(select(Article).where(
                Article.url.like(f"{celery_run.base_url}/pages/%"))).all()
            runs = c.execute(select(PipelineRun)).all()
            bad = c.execute(select(Source).where(Source.name == BAD_FEED)).one()
            capture_paths = [r.path for r in c.execute(select(Capture).where(Capture.kind == "page"))]
    finally:
        engine.dispose()

    served = sorted(f"{p['id']}.html" for p in celery_run.pages)
    assert sorted(a.url.rsplit("/", 1)[-1] for a in articles) == served
    assert [a.url for a in articles if "worker_crashed" in (a.extraction_reason or "")] == []
    from newsroom.extract.article import extract_article

    from tests.conftest import CORPUS as corpus

    files = {f"{p['id']}.html": p["file"] for p in celery_run.pages}
    for a in articles:
        assert a.extraction_status == "ok" and a.capture_id, (a.url, a.extraction_status, a.extraction_reason)
        assert a.text and a.word_count > 0
        # the text the worker stored is the extractor's text for that page, nothing lost on the way
        page = (corpus / "extraction" / files[a.url.rsplit("/", 1)[-1]]).read_bytes()
        assert a.text == extract_article(page, a.url).text, a.url
        assert a.processed_at is not None  # enrich ran over them
    assert len(runs) == 1
    assert runs[0].dag_id == DAG_ID and runs[0].run_id == celery_run.run_id
    assert runs[0].sources_failed == 1 and runs[0].sources_ok == len(FEEDS) + 1
    assert runs[0].new_articles >= SAMPLE_PAGES
    assert bad.last_error and bad.last_error.startswith("not_a_feed"), bad.last_error
    # the raw pages the worker fetched are in the shared data folder
    data = Path(af.env["NEWSROOM_DATA_DIR"])
    stored = [p for p in data.rglob("*") if p.is_file()]
    assert len(capture_paths) >= SAMPLE_PAGES and len(stored) >= SAMPLE_PAGES


def test_scheduler_reports_healthy(celery_run):
    """The compose healthcheck of the scheduler: ``GET /health`` on its health-check server
    answers 200 (it answers 503 once the scheduler job's heartbeat is older than the threshold)."""
    import httpx

    af = celery_run.cluster
    r = httpx.get(f"http://127.0.0.1:{af.health_port}/health", timeout=10)
    assert r.status_code == 200, r.text  # 503 when the scheduler's heartbeat is stale
