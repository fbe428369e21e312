"""The feed-ingest stage without Airflow: conditional GET, backoff, 410s, skipped entries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from newsroom.config.sources import SourcesFile
from newsroom.pipeline.ingest import (SourceFailed, backoff_delay, due_feed_sources, ingest_feed,
                                      sync_sources)
from newsroom.warehouse.schema import Article, FeedEntryRow, FetchLog, Source

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>{base}/</link>
<description>d</description>{items}</channel></rss>"""
ITEM = "<item><title>{t}</title><link>{base}/a/{i}?utm_source=rss</link><guid>{base}/a/{i}</guid>" \
       "<description>&lt;p&gt;Feed text of {t}, long enough to be kept as fallback content.&lt;/p&gt;</description></item>"
PAGE = "<html><head><title>{t}</title></head><body><article><h1>{t}</h1>{p}</article></body></html>"


def _page(title: str) -> str:
    para = "".join(f"<p>Paragraph {k} of the story called {title}: the newsroom reads full text, "
                   f"not summaries, and keeps every sentence it can find on the page.</p>" for k in range(8))
    return PAGE.format(t=title, p=para)


def _sources(url: str) -> SourcesFile:
    return SourcesFile.model_validate({"feeds": [{"name": "local", "url": url, "outlet": "Local"}]})


@pytest.fixture
def site(replay_server):
    base = replay_server.base_url
    items = "".join(ITEM.format(t=f"Story {i}", i=i, base=base) for i in range(3))
    replay_server.add("/feed.xml", RSS.format(base=base, items=items), content_type="application/rss+xml",
                      etag='"v1"')
    for i in range(2):  # the third page is missing: its feed content must be kept
        replay_server.add(f"/a/{i}", _page(f"Story {i}"), content_type="text/html")
    return replay_server


def test_ingest_then_conditional_get(site, settings, warehouse):
    src = _sources(site.url("/feed.xml"))
    sync_sources(warehouse, src)
    first = ingest_feed("local", settings=settings, sources=src, run_id="r1", engine=warehouse)
    assert first["status"] == "ok" and first["new_entries"] == 3 and first["new_articles"] == 3
    with warehouse.connect() as c:
        arts = {a.url: a for a in c.execute(select(Article))}
        assert c.execute(select(func.count()).select_from(FetchLog)).scalar_one() >= 4
        entries = c.execute(select(FeedEntryRow.article_id)).scalars().all()
    assert all(e is not None for e in entries)
    ok = [a for a in arts.values() if a.extraction_status == "ok"]
    fallback = [a for a in arts.values() if a.extraction_status == "feed_content"]
    assert len(ok) == 2 and all("Paragraph 7" in a.text for a in ok)
    assert len(fallback) == 1 and "Feed text of Story 2" in fallback[0].text
    assert fallback[0].extraction_reason.startswith("http_404")
    # Tracking parameters never reach the canonical URL.
    assert all("utm_" not in a.canonical_url for a in arts.values())

    site.reset_counts()
    second = ingest_feed("local", settings=settings, sources=src, run_id="r2", engine=warehouse)
    assert second["status"] == "not_modified"
    assert site.hits("/feed.xml") == 1 and site.hits("/a/0") == 0
    assert site.requests[0][2].get("if-none-match") == '"v1"'


def test_known_entries_are_skipped_when_the_feed_changes(site, settings, warehouse):
    src = _sources(site.url("/feed.xml"))
    ingest_feed("local", settings=settings, sources=src, run_id="r1", engine=warehouse)
    base = site.base_url
    items = "".join(ITEM.format(t=f"Story {i}", i=i, base=base) for i in range(4))
    site.add("/feed.xml", RSS.format(base=base, items=items), content_type="application/rss+xml", etag='"v2"')
    site.add("/a/3", _page("Story 3"), content_type="text/html")
    site.reset_counts()
    res = ingest_feed("local", settings=settings, sources=src, run_id="r2", engine=warehouse)
    assert res["new_entries"] == 1 and res["new_articles"] == 1
    assert site.hits("/a/3") == 1 and site.hits("/a/0") == 0 and site.hits("/a/2") == 0
    with warehouse.connect() as c:
        assert c.execute(select(func.count()).select_from(Article)).scalar_one() == 4


def test_failures_back_off_and_410_disables(replay_server, settings, warehouse):
    replay_server.add("/gone.xml", "gone", status=410)
    src = _sources(replay_server.url("/gone.xml"))
    now = datetime(2026, 4, 8, 12, tzinfo=timezone.utc)
    for n in range(1, 4):
        with pytest.raises(SourceFailed) as e:
            ingest_feed("local", settings=settings, sources=src, run_id=f"r{n}", engine=warehouse, now=now,
                        force=True)
        assert e.value.reason == "http_410" and e.value.permanent
    with warehouse.connect() as c:
        s = c.execute(select(Source).where(Source.name == "local")).one()
    assert s.consecutive_failures == 3 and s.gone_count == 3
    assert s.disabled_reason and "410" in s.disabled_reason
    assert s.next_due_at == now + backoff_delay(3)
    assert due_feed_sources(warehouse, src, now=now + timedelta(days=30)) == []
    res = ingest_feed("local", settings=settings, sources=src, run_id="r4", engine=warehouse, now=now)
    assert res["status"] == "skipped"


def test_backoff_grows_and_respects_retry_after():
    assert backoff_delay(1) == timedelta(hours=1)
    assert backoff_delay(3) == timedelta(hours=4)
    assert backoff_delay(30) == timedelta(hours=24)
    assert backoff_delay(1, retry_after_s=7200) == timedelta(hours=2)


def test_url_change_resets_fetch_state(warehouse):
    sync_sources(warehouse, _sources("https://a.example/feed"))
    with warehouse.begin() as c:
        c.execute(Source.__table__.update().values(etag='"x"', consecutive_failures=2))
    sync_sources(warehouse, _sources("https://b.example/feed"))
    with warehouse.connect() as c:
        s = c.execute(select(Source)).one()
    assert s.url == "https://b.example/feed" and s.etag is None and s.consecutive_failures == 0


def test_the_feeds_author_wins_and_the_page_byline_fills_in(replay_server, settings, warehouse):
    # Entry 0 names its author in the feed (the page's byline search is skipped, the feed's
    # name is kept); entry 1 names none (the byline in the page's body is found and stored).
    base = replay_server.base_url
    items = ("<item><title>A</title><link>{b}/a/0</link><guid>{b}/a/0</guid><author>ed@x.example (Eda Feed)</author>"
             "</item><item><title>B</title><link>{b}/a/1</link><guid>{b}/a/1</guid></item>").format(b=base)
    replay_server.add("/feed.xml", RSS.format(base=base, items=items), content_type="application/rss+xml")
    for i in range(2):
        html = _page(f"Story {i}").replace("<article>", '<article><p class="byline">By Paul Page</p>')
        replay_server.add(f"/a/{i}", html, content_type="text/html")
    src = _sources(replay_server.url("/feed.xml"))
    ingest_feed("local", settings=settings, sources=src, run_id="r1", engine=warehouse)
    with warehouse.connect() as c:
        authors = dict(c.execute(select(Article.url, Article.author)).all())
    assert authors[f"{base}/a/1"] == "Paul Page"
    assert authors[f"{base}/a/0"] not in (None, "Paul Page") and "Eda Feed" in authors[f"{base}/a/0"]
