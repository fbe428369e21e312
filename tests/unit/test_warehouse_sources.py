"""warehouse/sources.py, runs.py, fetch_log.py, captures.py and the queue/reprocessing part
of articles.py, on SQLite and PostgreSQL: typed records in, the same records out."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from newsroom.captures import CaptureStore
from newsroom.warehouse import sources as wsrc
from newsroom.warehouse.articles import (
    ReExtraction,
    apply_reextractions,
    article_ids_by_canonical_url,
    article_ids_dated_in,
    article_row,
    insert_articles,
    mark_processed,
    stored_pages,
    unprocessed_article_ids,
)
from newsroom.warehouse.captures import CaptureMeta, save_capture, save_captures
from newsroom.warehouse.fetch_log import FetchLogEntry, append_fetch_log
from newsroom.warehouse.runs import PipelineRunSummary, save_pipeline_run
from newsroom.warehouse.schema import FetchLog, PipelineRun

T = datetime(2026, 4, 1, 12, tzinfo=timezone.utc)


def _spec(name, url="https://f.example/feed"):
    return wsrc.SourceSpec(name=name, url=url, outlet="F", tags=["ai"], enabled=True)


def test_sync_retires_unlisted_sources_and_a_new_url_forgets_the_validators(warehouse):
    ids = wsrc.sync_feed_sources(warehouse, [_spec("a"), _spec("b")], listed={"a", "b"})
    assert set(ids) == {"a", "b"}
    wsrc.mark_source_ok(warehouse, ids["a"], status=200, fetched_at=T, etag='"v1"', last_modified="Tue")
    a = wsrc.source_by_name(warehouse, "a")
    assert (a.etag, a.last_modified, a.consecutive_failures) == ('"v1"', "Tue", 0)
    wsrc.mark_source_ok(warehouse, ids["a"], status=304, fetched_at=T, validators=False)  # a 304 keeps them
    assert wsrc.source_by_name(warehouse, "a").etag == '"v1"'
    wsrc.sync_feed_sources(warehouse, [_spec("a", "https://f.example/new")], listed={"a"})
    a, b = wsrc.source_by_name(warehouse, "a"), wsrc.source_by_name(warehouse, "b")
    assert a.etag is None and a.url == "https://f.example/new" and a.retired_at is None
    assert b.retired_at is not None
    wsrc.sync_feed_sources(warehouse, [_spec("a"), _spec("b")], listed={"a", "b"})
    assert wsrc.source_by_name(warehouse, "b").retired_at is None
    assert wsrc.source_by_name(warehouse, "nope") is None
    assert set(wsrc.due_state(warehouse, ["a", "nope"])) == {"a"}


def test_failures_backoff_and_disabling_are_recorded(warehouse):
    sid = wsrc.sync_feed_sources(warehouse, [_spec("a")], listed={"a"})["a"]
    wsrc.mark_source_failed(warehouse, sid, status=410, error="http_410", fetched_at=T, consecutive_failures=3,
                            gone_count=3, next_due_at=T + timedelta(hours=4), disabled_reason="gone")
    s = wsrc.source_by_name(warehouse, "a")
    assert (s.consecutive_failures, s.gone_count, s.next_due_at, s.disabled_reason) == (
        3, 3, T + timedelta(hours=4), "gone")
    wsrc.mark_source_ok(warehouse, sid, status=200, fetched_at=T, etag=None, last_modified=None)
    s = wsrc.source_by_name(warehouse, "a")
    assert (s.consecutive_failures, s.next_due_at, s.disabled_reason) == (0, None, "gone")  # only sync re-enables


def test_source_runs_are_one_per_run_and_source_and_the_summary_is_upserted(warehouse):
    sid = wsrc.sync_feed_sources(warehouse, [_spec("a")], listed={"a"})["a"]
    wsrc.record_source_run(warehouse, wsrc.SourceRunRecord("r1", sid, "failed", reason="timeout"))
    assert wsrc.source_run_status(warehouse, sid, "r1") == "failed"
    wsrc.record_source_run(warehouse, wsrc.SourceRunRecord("r1", sid, "ok", entries=5, new_articles=2,
                                                           failures_by_reason={"robots": 1}))
    [rec] = wsrc.source_runs_of(warehouse, "r1")
    assert (rec.status, rec.entries, rec.new_articles, rec.failures_by_reason) == ("ok", 5, 2, {"robots": 1})
    assert wsrc.source_run_status(warehouse, sid, "r2") is None and wsrc.source_runs_of(warehouse, "r2") == []
    summary = PipelineRunSummary("newsroom_ingest", "r1", T, T + timedelta(hours=1), 1, 0, 0, 5, 2, {}, T)
    save_pipeline_run(warehouse, summary)
    save_pipeline_run(warehouse, PipelineRunSummary(**{**summary.__dict__, "new_articles": 3}))
    with warehouse.connect() as conn:
        assert conn.execute(select(PipelineRun.new_articles)).scalars().all() == [3]


def _entry(guid, at=None, url=None, canonical=True):
    url = url or f"https://n.example/{guid}"
    return wsrc.NewFeedEntry(guid=guid, url=url, canonical_url=url if canonical else None, title=guid, author=None,
                             published_at=at, summary=f"<p>{guid}</p>", content=None, tags=[], first_seen_at=T)


def test_entries_are_kept_as_first_seen_and_wait_oldest_first_until_linked(warehouse):
    sid = wsrc.sync_feed_sources(warehouse, [_spec("a")], listed={"a"})["a"]
    entries = [_entry("late", T + timedelta(hours=2)), _entry("undated"), _entry("early", T - timedelta(days=1)),
               _entry("bad-url", canonical=False)]
    assert wsrc.store_feed_entries(warehouse, sid, entries) == 4
    assert wsrc.store_feed_entries(warehouse, sid, entries) == 0  # a rerun adds nothing
    todo = wsrc.pending_entries(warehouse, sid, limit=10)
    assert [p.title for p in todo] == ["early", "undated", "late"]  # never the entry without a canonical URL
    assert [p.title for p in wsrc.pending_entries(warehouse, sid, limit=2)] == ["early", "undated"]
    with warehouse.begin() as conn:
        insert_articles(conn, [article_row(canonical_url=todo[0].url, url=todo[0].url, source_id=sid, origin="feed",
                                           now=T, outlet="F", title=None, author=None, published_at=None,
                                           text=None, extraction_status="failed")])
    aid = article_ids_by_canonical_url(warehouse, [todo[0].url])[todo[0].url]
    assert wsrc.link_entries(warehouse, sid, {todo[0].id: aid}) == 2 == wsrc.backlog(warehouse, sid)
    # linking applied the metadata rule: the feed's title and content now name the article
    [page] = stored_pages(warehouse, [aid])
    assert page.title == "early" and page.feed_fallback == "<p>early</p>"


def test_fetch_log_and_captures(warehouse, tmp_path):
    n = append_fetch_log(warehouse, [FetchLogEntry("r1", None, "page", "https://x/1", 200, 10, 1.5, None, T),
                                     FetchLogEntry("r1", None, "robots", "https://x/robots.txt", 404, 0, 0.2,
                                                   "http_404", T)])
    assert n == 2 and append_fetch_log(warehouse, []) == 0
    with warehouse.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FetchLog)).scalar() == 2
    store = CaptureStore(str(tmp_path / "data"))
    one = save_capture(warehouse, store, b"<html>a</html>", kind="page", url="https://x/1", status=200,
                       content_type="text/html")
    again, other = save_captures(warehouse, store, [(b"<html>a</html>", CaptureMeta("https://x/1", 200)),
                                                    (b"<html>b</html>", {"url": "https://x/2"})], kind="page")
    assert again == one != other  # one row per (url, sha256)
    assert save_captures(warehouse, store, [], kind="page") == []


def test_the_enrichment_queue_and_re_extraction_in_place(warehouse, tmp_path):
    rows = [article_row(canonical_url=f"https://q.example/{i}", url=f"https://q.example/{i}", source_id=None,
                        origin="feed", now=T, outlet="Q", title=None if i == 0 else f"T{i}", author=None,
                        published_at=T + timedelta(days=i), text=f"old text {i}", extraction_status="ok")
             for i in range(3)]
    with warehouse.begin() as conn:
        insert_articles(conn, rows)
    ids = sorted(article_ids_by_canonical_url(warehouse, [r["canonical_url"] for r in rows]).values())
    assert unprocessed_article_ids(warehouse, 2) == ids[:2]
    mark_processed(warehouse, ids[:2])
    assert unprocessed_article_ids(warehouse, 10) == ids[2:]
    assert article_ids_dated_in(warehouse, T, T + timedelta(days=2)) == ids[:2]
    cap = save_capture(warehouse, CaptureStore(str(tmp_path / "d")), b"<html/>", kind="page", url="https://q/0",
                       status=200, content_type="text/html; charset=utf-8")
    from sqlalchemy import update

    from newsroom.warehouse.schema import Article

    with warehouse.begin() as conn:
        conn.execute(update(Article).where(Article.id == ids[0]).values(capture_id=cap))
    pages = stored_pages(warehouse, ids)
    assert [p.id for p in pages] == ids and pages[0].path and pages[0].capture_type.startswith("text/html")
    assert pages[1].path is None
    apply_reextractions(warehouse, [ReExtraction(ids[0], "new text", "h", 2, "ok", None, "en", "Q", None,
                                                 title="Filled")])
    p0 = stored_pages(warehouse, [ids[0]])[0]
    assert (p0.text, p0.text_hash, p0.title, p0.published_at) == ("new text", "h", "Filled", T)
