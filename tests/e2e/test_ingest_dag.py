"""End to end: the newsroom_ingest DAG run in-process (``dag.test()``) against a real
HTTP server on 127.0.0.1 serving the shared corpus, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from tests.e2e.corpus_site import extraction_pages, serve_feeds, serve_pages_feed, write_sources

pytestmark = [pytest.mark.airflow, pytest.mark.corpus]

SAMPLE_PAGES = 12
EXPECT_FAILED = {  # malformed feeds that are not usable feeds at all, and why
    "malformed-reuters_truncated_server_exception_2020": "malformed_feed",
    "malformed-sixcolors_homepage_html": "not_a_feed",
}


@pytest.fixture
def ingest_env(corpus, replay_server, settings, tmp_path, monkeypatch, airflow_db):
    feeds = serve_feeds(replay_server, corpus)
    pages = extraction_pages(corpus, SAMPLE_PAGES)
    feeds["generated"] = serve_pages_feed(replay_server, corpus, pages)
    sources = write_sources(tmp_path / "sources.yaml", feeds)
    monkeypatch.setenv("NEWSROOM_SOURCES", str(sources))
    monkeypatch.setenv("NEWSROOM_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("NEWSROOM_MAX_ARTICLES_PER_SOURCE", str(SAMPLE_PAGES))
    monkeypatch.setenv("NEWSROOM_EXTRACT_WORKERS", "2")
    from newsroom.settings import get_settings

    get_settings.cache_clear()
    return {"feeds": feeds, "pages": pages, "server": replay_server}


def _run_dag(logical_date):
    from airflow.dag_processing.dagbag import DagBag

    from tests.airflow_env import PROJECT

    dag = DagBag(dag_folder=str(PROJECT / "dags")).dags["newsroom_ingest"]
    return dag.test(logical_date=logical_date)


def _counts(engine):
    from newsroom.warehouse.schema import Article, Capture, FeedEntryRow, Source

    with engine.connect() as c:
        return {t.__tablename__: c.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (Article, FeedEntryRow, Source, Capture)}


def test_ingest_dag_end_to_end(ingest_env, settings, warehouse_url):
    from newsroom.warehouse import migrate_warehouse
    from newsroom.warehouse.schema import Article, PipelineRun, Source, SourceRun

    srv = ingest_env["server"]
    _run_dag(datetime(2026, 4, 8, 10, tzinfo=timezone.utc))
    engine = migrate_warehouse(warehouse_url)

    with engine.connect() as c:
        sources = {r.name: r for r in c.execute(select(Source))}
        page_articles = c.execute(select(Article).where(Article.url.like(f"{srv.base_url}/pages/%"))).all()
        feed_content = c.execute(select(func.count()).select_from(Article)
                                 .where(Article.extraction_status == "feed_content")).scalar_one()
        runs = c.execute(select(PipelineRun)).all()
        src_runs = c.execute(select(SourceRun)).all()

    # Every sampled page became a full-text article, extracted from the page itself.
    assert len(page_articles) == SAMPLE_PAGES
    assert all(a.extraction_status == "ok" and a.word_count > 50 and a.capture_id for a in page_articles)
    # Malformed feeds are recorded with their reason; every other feed went on.
    for name, reason in EXPECT_FAILED.items():
        assert sources[name].last_error and sources[name].last_error.startswith(reason), sources[name].last_error
        assert sources[name].consecutive_failures == 1 and sources[name].next_due_at is not None
    ok = [n for n, s in sources.items() if s.last_error is None]
    assert len(ok) == len(sources) - len(EXPECT_FAILED)
    # Entries pointing at the internet are not fetched; their feed content is kept, with the reason.
    assert feed_content > 0
    assert len(runs) == 1 and runs[0].sources_failed == len(EXPECT_FAILED)
    assert runs[0].new_articles == sum(r.new_articles for r in src_runs) > SAMPLE_PAGES
    first = _counts(engine)
    first_run_ids = {r.run_id for r in runs}
    # Entries past the per-run cap wait; the next run takes up to the cap of them per source.
    from newsroom.warehouse.sources import pending_entries_query

    with engine.connect() as c:
        waiting = {n: c.execute(select(func.count()).select_from(pending_entries_query(s.id).subquery())).scalar_one()
                   for n, s in sources.items() if s.last_error is None}
    assert any(n > 0 for n in waiting.values()), "the corpus has feeds larger than the cap"

    # Second run: conditional GETs answer 304; no entry is added, only the backlog is worked off.
    srv.reset_counts()
    from newsroom.warehouse import dispose_all

    dispose_all()
    _run_dag(datetime(2026, 4, 8, 11, tzinfo=timezone.utc))
    engine = migrate_warehouse(warehouse_url)
    second = _counts(engine)
    assert {k: second[k] for k in ("feed_entries", "sources")} == {k: first[k] for k in ("feed_entries", "sources")}
    with engine.connect() as c:
        left = {n: c.execute(select(func.count()).select_from(pending_entries_query(sources[n].id).subquery()))
                .scalar_one() for n in waiting}
        added = sum(c.execute(select(SourceRun.new_articles)
                              .where(SourceRun.run_id.not_in(first_run_ids))).scalars())
    assert left == {n: max(0, w - SAMPLE_PAGES) for n, w in waiting.items()}
    assert second["articles"] == first["articles"] + added and added > 0
    not_modified = [r for r in srv.requests if r[1].startswith("/feeds/")]
    assert not_modified, "second run made no feed requests"
    assert all("if-none-match" in h for _, p, h in not_modified if "malformed" not in p)
    with engine.connect() as c:
        # (run ids carry the wall-clock time of dag.test(), not the logical date)
        outcomes = {n: st for n, st in c.execute(select(Source.name, SourceRun.status)
                                              .join(Source, Source.id == SourceRun.source_id)
                                              .where(SourceRun.run_id.not_in(first_run_ids)))}
        sources = {r.name: r for r in c.execute(select(Source))}
    assert len(outcomes) == len(sources)  # every source has an outcome in the second run
    # dag.test() is a manual run: it ignores backoff, so the malformed feeds are tried again
    # (one more failure each, one run = one failure); the good feeds answer 304.
    assert {n for n, st in outcomes.items() if st == "failed"} == set(EXPECT_FAILED)
    assert {st for n, st in outcomes.items() if n not in EXPECT_FAILED} <= {"not_modified", "skipped"}
    assert all(sources[n].consecutive_failures == 2 for n in EXPECT_FAILED)
