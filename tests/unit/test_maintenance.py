"""Retention (newsroom.pipeline.maintenance) on both warehouses: old log rows, snapshots
and unreferenced captures go; what an article, a source's status or a thread's engagement
still needs stays; a second run deletes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from newsroom.captures import CaptureStore
from newsroom.warehouse.captures import record_captures
from newsroom.pipeline.ingest import ingest_feed, sync_sources
from newsroom.pipeline.maintenance import RetentionReport, apply_retention
from newsroom.pipeline.reprocess import re_extract_articles
from newsroom.warehouse.reddit import upsert_posts, upsert_snapshots
from newsroom.reddit.parse import EngagementSnapshot, RedditPost
from newsroom.warehouse.schema import Article, Capture, FetchLog, SourceRun, utcnow
from newsroom.warehouse.schema.reddit import RedditSnapshot
from tests.unit.test_ingest import ITEM, RSS, _page, _sources

UTC = timezone.utc


def _count(engine, model) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(model)).scalar_one()


def _feed(site, n: int, etag: str) -> None:
    base = site.base_url
    items = "".join(ITEM.format(t=f"Story {i}", i=i, base=base) for i in range(n))
    site.add("/feed.xml", RSS.format(base=base, items=items), content_type="application/rss+xml", etag=etag)


def test_retention_keeps_what_articles_and_sources_need(replay_server, settings, warehouse):
    site = replay_server
    for i in range(3):
        site.add(f"/a/{i}", _page(f"Story {i}"), content_type="text/html")
    src = _sources(site.url("/feed.xml"))
    sync_sources(warehouse, src)
    _feed(site, 2, '"v1"')
    ingest_feed("local", settings=settings, sources=src, run_id="r1", engine=warehouse)
    _feed(site, 3, '"v2"')  # the feed changes: a second feed capture, a third article
    ingest_feed("local", settings=settings, sources=src, run_id="r2", engine=warehouse)
    for run in ("r3", "r4"):  # idle runs: 304s that only add log rows
        assert ingest_feed("local", settings=settings, sources=src, run_id=run, engine=warehouse)["status"] \
            == "not_modified"
    store = CaptureStore(settings.data_dir)
    with warehouse.begin() as conn:
        arts = conn.execute(select(Article.id, Article.capture_id, Article.url)).all()
        page_caps = {r.capture_id for r in arts}
        assert len(arts) == 3 and None not in page_caps
        body0 = store.get(conn.execute(select(Capture.path).where(Capture.id == arts[0].capture_id)).scalar_one())
        # The same bytes under a share URL: a second row on the same stored body, referenced by nothing.
        share_id = record_captures(conn, store, [(body0, {"url": arts[0].url + "?share=1", "status": 200,
                                                          "content_type": "text/html"})], kind="page")[0]
        feed_paths = conn.execute(select(Capture.path).where(Capture.kind == "feed")).scalars().all()
        page_paths = {r.path for r in conn.execute(select(Capture.path).where(Capture.id.in_(page_caps)))}
    assert len(feed_paths) == 2
    fetch_rows, run_rows = _count(warehouse, FetchLog), _count(warehouse, SourceRun)
    assert fetch_rows >= 7 and run_rows == 4

    # Today nothing is old enough.
    assert apply_retention(warehouse, settings=settings) == RetentionReport()
    assert _count(warehouse, FetchLog) == fetch_rows and _count(warehouse, Capture) == 6

    later = utcnow() + timedelta(days=120)
    report = apply_retention(warehouse, settings=settings, now=later)
    assert report.counts() == {"fetch_log": fetch_rows, "source_runs": 3, "reddit_snapshots": 0,
                               "captures": 3, "capture_files": 2}
    assert _count(warehouse, FetchLog) == 0
    with warehouse.connect() as c:
        assert c.execute(select(SourceRun.run_id)).scalars().all() == ["r4"]  # the source's latest run stays
        left = set(c.execute(select(Capture.id)).scalars())
    assert left == page_caps and share_id not in left
    root = Path(settings.data_dir) / "captures"
    assert not any((root / p).exists() for p in feed_paths)
    assert all((root / p).exists() for p in page_paths)  # incl. the body the share row shared

    # Reprocess still finds every article's page.
    counts = re_extract_articles(warehouse, [a.id for a in arts], store=store, workers=1)
    assert counts["re_extracted"] == 3 and counts["no_capture"] == 0 and counts["failures_by_reason"] == {}

    # Idempotent: the same run again deletes nothing.
    assert apply_retention(warehouse, settings=settings, now=later) == RetentionReport()


def test_zero_days_keeps_everything(replay_server, settings, warehouse, monkeypatch):
    from newsroom.settings import Settings

    _feed(replay_server, 1, '"v1"')
    replay_server.add("/a/0", _page("Story 0"), content_type="text/html")
    src = _sources(replay_server.url("/feed.xml"))
    sync_sources(warehouse, src)
    ingest_feed("local", settings=settings, sources=src, run_id="r1", engine=warehouse)
    for k in ("FETCH_LOG", "SOURCE_RUNS", "REDDIT_SNAPSHOTS", "CAPTURES"):
        monkeypatch.setenv(f"NEWSROOM_RETENTION_{k}_DAYS", "0")
    keep = Settings()
    before = (_count(warehouse, FetchLog), _count(warehouse, SourceRun), _count(warehouse, Capture))
    assert apply_retention(warehouse, settings=keep, now=utcnow() + timedelta(days=3650)) == RetentionReport()
    assert (_count(warehouse, FetchLog), _count(warehouse, SourceRun), _count(warehouse, Capture)) == before


def test_reddit_snapshots_keep_each_threads_latest(settings, warehouse):
    t0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
    posts = [RedditPost(id=pid, subreddit="LocalLLaMA", title=f"post {pid}",
                        permalink=f"https://www.reddit.com/r/LocalLLaMA/comments/{pid}/x/") for pid in ("p1", "p2")]
    with warehouse.begin() as conn:
        upsert_posts(conn, posts, source_id=None, via="json", now=t0)
        for day in range(40):  # p1 read daily for 40 days; p2 only on day 0 (it dropped out of the listing)
            when = t0 + timedelta(days=day)
            snaps = [EngagementSnapshot(post_id="p1", taken_at=when, score=day, num_comments=day)]
            if day == 0:
                snaps.append(EngagementSnapshot(post_id="p2", taken_at=when, score=7, num_comments=1))
            upsert_snapshots(conn, snaps, run_key=f"run-{day}")
    now = t0 + timedelta(days=39, hours=1)
    report = apply_retention(warehouse, settings=settings, now=now)  # default: 30 days
    assert report.reddit_snapshots == 10  # p1 days 0–9 (taken before now − 30 days); p2 keeps its only one
    with warehouse.connect() as c:
        kept = c.execute(select(RedditSnapshot.post_id, RedditSnapshot.score)
                         .order_by(RedditSnapshot.post_id, RedditSnapshot.taken_at)).all()
    assert [s for p, s in kept if p == "p1"] == list(range(10, 40))
    assert [(p, s) for p, s in kept if p == "p2"] == [("p2", 7)]
    assert apply_retention(warehouse, settings=settings, now=now).reddit_snapshots == 0
