"""``newsroom_ingest`` the way users run it: a real scheduler with the LocalExecutor
(api-server, scheduler and dag-processor as separate process groups, what ``make run``
starts), runs triggered and watched through the REST API, against a local server serving
every extraction page of the shared corpus (more than any in-process shortcut threshold
of the extraction pool).

Under a scheduler each task runs in a Task SDK supervisor's child whose ``__main__`` is the
``airflow`` entry script, with the metadata DB URL ``airflow-db-not-allowed:///``; a process
pool that re-imports ``__main__`` dies there (``worker_crashed`` on every page) while
``dag.test()`` and pytest never notice. These tests assert on the warehouse: every served
page stored ``ok`` with its text, no ``worker_crashed``, and the run's state, for an ingest
run and for a ``newsroom_reprocess`` run with re-extraction.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, select, update

from tests.e2e.corpus_site import extraction_pages, serve_pages_feed, write_sources

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.corpus]

DAG_ID = "newsroom_ingest"
REPROCESS_DAG_ID = "newsroom_reprocess"
MIN_PAGES = 100
FEEDS = 2  # two feed tasks, each with its own extraction pool, at the same time
RUN_TIMEOUT_S = 420


@pytest.fixture(scope="module")
def scheduler_site(corpus, tmp_path_factory):
    """A replay server with every corpus page (split over two feeds), a PostgreSQL
    warehouse, and a real LocalExecutor Airflow pointed at them."""
    from tests.backfill.cluster import AirflowCluster
    from tests.conftest import create_pg_database, pg_available
    from tests.replay_server import ReplayServer

    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    pages = extraction_pages(corpus)
    assert len(pages) >= MIN_PAGES, f"the corpus has only {len(pages)} extraction pages"
    work = tmp_path_factory.mktemp("scheduler")
    wh_url, drop = create_pg_database()
    try:
        from newsroom.warehouse import dispose_all, migrate_warehouse

        migrate_warehouse(wh_url)  # what `make setup` / airflow-init do; tasks never migrate
        dispose_all()
        with ReplayServer() as srv:
            half = (len(pages) + 1) // FEEDS
            feeds = {f"pages{i}": serve_pages_feed(srv, corpus, pages[i * half:(i + 1) * half], name=f"pages{i}")
                     for i in range(FEEDS)}
            sources = write_sources(work / "sources.yaml", feeds)
            env = {
                "NEWSROOM_SOURCES": str(sources),
                "NEWSROOM_WAREHOUSE_URL": wh_url,
                "NEWSROOM_DATA_DIR": str(work / "data"),
                "NEWSROOM_OUTPUT_DIR": str(work / "vault"),
                "NEWSROOM_ALLOW_PRIVATE_NETWORKS": "true",
                "NEWSROOM_ALLOWED_HOSTS": "127.0.0.1",
                "NEWSROOM_MAX_ARTICLES_PER_SOURCE": str(len(pages)),
                "NEWSROOM_EXTRACT_WORKERS": "2",  # the pool, not the in-process path
                "NEWSROOM_INGEST_SCHEDULE": "none",  # only the runs the tests trigger
            }
            with AirflowCluster(work / "airflow", env=env, rest=True) as af:
                af.wait(lambda: _serialized(af) and _serialized(af, REPROCESS_DAG_ID), 180,
                        f"{DAG_ID} and {REPROCESS_DAG_ID} parsed by the dag-processor", poll=2)
                yield {"af": af, "server": srv, "pages": pages, "warehouse_url": wh_url, "corpus": corpus}
    finally:
        drop()


def _serialized(af, dag_id: str = DAG_ID):
    try:
        return af.api("GET", f"/api/v2/dags/{dag_id}")
    except RuntimeError as exc:
        if "→ 404" in str(exc):
            return None
        raise


def _page_articles(wh_url: str, base_url: str) -> list:
    from newsroom.warehouse.schema import Article

    engine = create_engine(wh_url)
    try:
        with engine.connect() as c:
            return c.execute(select(Article).where(Article.url.like(f"{base_url}/pages/%"))).all()
    finally:
        engine.dispose()


def _label(t: dict) -> str:
    return t["task_id"] + (f"[{t['rendered_map_index'] or t['map_index']}]" if t["map_index"] >= 0 else "")


def test_ingest_run_stores_every_page_with_its_text(scheduler_site):
    from newsroom.warehouse.schema import PipelineRun

    af, srv, pages = scheduler_site["af"], scheduler_site["server"], scheduler_site["pages"]
    af.trigger(DAG_ID, "scheduler_ingest")
    run = af.wait_run(DAG_ID, "scheduler_ingest", RUN_TIMEOUT_S)
    tis = af.task_instances(DAG_ID, "scheduler_ingest")
    assert run["state"] == "success", ({_label(t): t["state"] for t in tis}, af.logs())
    assert {t["task_id"] for t in tis if t["state"] == "success"} >= {"plan_sources", "ingest_feed", "enrich",
                                                                       "summarize"}
    # every task ran once: nothing failed and was retried behind a green run
    assert {t["try_number"] for t in tis if t["state"] == "success"} == {1}
    # the feed tasks fetch the article pages: each took a slot of the page_fetch pool
    assert {t["pool"] for t in tis if t["task_id"] == "ingest_feed"} == {"page_fetch"}

    articles = _page_articles(scheduler_site["warehouse_url"], srv.base_url)
    served = sorted(f"{p['id']}.html" for p in pages)
    assert sorted(a.url.rsplit("/", 1)[-1] for a in articles) == served
    crashed = [a.url for a in articles if "worker_crashed" in (a.extraction_reason or "")]
    assert crashed == []
    not_ok = {a.url: (a.extraction_status, a.extraction_reason) for a in articles if a.extraction_status != "ok"}
    assert not_ok == {}
    assert all(a.text and a.word_count > 0 and a.capture_id for a in articles)
    # the text is what the extractor gives for that page in this process: nothing lost on the way
    from newsroom.extract.article import extract_article

    corpus = scheduler_site["corpus"]
    by_name = {a.url.rsplit("/", 1)[-1]: a for a in articles}
    differs = [p["id"] for p in pages
               if by_name[f"{p['id']}.html"].text != extract_article(
                   (corpus / "extraction" / p["file"]).read_bytes(), by_name[f"{p['id']}.html"].url).text]
    assert differs == []
    engine = create_engine(scheduler_site["warehouse_url"])
    try:
        with engine.connect() as c:
            summary = c.execute(select(PipelineRun).where(PipelineRun.run_id == "scheduler_ingest")).one()
    finally:
        engine.dispose()
    assert summary.sources_ok == FEEDS and summary.sources_failed == 0
    assert not any(k.startswith("article:worker_crashed") for k in (summary.failures_by_reason or {}))


def test_reprocess_run_re_extracts_every_page(scheduler_site):
    """A newsroom_reprocess run with re-extraction (the UI's Trigger form, here through REST) rebuilds
    the text of every article from its capture under the scheduler. The texts are blanked
    first, as a broken pool left them, so only a working re-extraction restores them."""
    from newsroom.warehouse.schema import Article

    af, srv = scheduler_site["af"], scheduler_site["server"]
    wh_url = scheduler_site["warehouse_url"]
    before = {a.id: a.text for a in _page_articles(wh_url, srv.base_url)}
    assert len(before) >= MIN_PAGES, "the ingest test must run first"
    engine = create_engine(wh_url)
    try:
        with engine.begin() as c:
            c.execute(update(Article).where(Article.id.in_(list(before)))
                      .values(text=None, text_hash=None, word_count=0, extraction_status="failed",
                              extraction_reason="worker_crashed: blanked by the test"))
    finally:
        engine.dispose()
    conf = {"since": "2026-04-07", "until": "2026-04-09", "re_extract": True,
            "re_dedup": False, "re_tag": False, "regenerate_digests": False}
    af.trigger(REPROCESS_DAG_ID, "scheduler_reprocess", conf)
    run = af.wait_run(REPROCESS_DAG_ID, "scheduler_reprocess", RUN_TIMEOUT_S)
    tis = af.task_instances(REPROCESS_DAG_ID, "scheduler_reprocess")
    assert run["state"] == "success", ({_label(t): t["state"] for t in tis}, af.logs())
    assert any(t["task_id"] == "reprocess" and t["state"] == "success" for t in tis)

    after = {a.id: a for a in _page_articles(wh_url, srv.base_url)}
    assert set(after) == set(before)
    bad = {a.url: a.extraction_reason for a in after.values() if a.extraction_status != "ok"}
    assert bad == {}
    assert all(after[i].text == before[i] for i in before)  # same extractor, same text
