"""One rule for an article's metadata, whatever order the sources arrive in.

Two configured feeds and one subreddit point at the same pages (all served over HTTP on
127.0.0.1; Reddit at its public paths, posts built from a real recorded submission). The
three sources are ingested in every order, each order twice, on SQLite and PostgreSQL: the
articles' metadata must be the same every time, and what the rule says —

* outlet: the configured feed that lists the URL, else the page's site name (og:site_name,
  JSON-LD publisher), else the registered domain (here the host, 127.0.0.1);
* title and date: a feed's, else the page's; a Reddit post's never while either has one;
* a page that fails keeps the feed's content, even when Reddit reached it first.

The case from unseen data: a page reached first through a Reddit link post got the post's
title, its time as ``published_at`` and no outlet.
"""

from __future__ import annotations

import copy
import itertools
import json
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from newsroom.config.sources import RedditConfig, SourcesFile, SubredditSource
from newsroom.pipeline.ingest import ingest_feed
from newsroom.pipeline.reddit import ingest_subreddit
from newsroom.reddit.client import reset_process_state
from newsroom.warehouse.schema import Article
from tests.reddit_replay import RedditReplay

pytestmark = [pytest.mark.corpus]

UTC = timezone.utc
FEED_DATE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BETA_DATE = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
PAGE_DATE = datetime(2026, 2, 27, 8, 30, tzinfo=UTC)
POST_TIME = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
SUB = SubredditSource(name="newsdesk", listing="new", limit=25, min_score=0, top_comments=0)


def _body(topic: str) -> str:
    return "".join(f"<p>Paragraph {k} about {topic}: the regional council voted on the plan after hearing "
                   f"residents, engineers and the transport authority in a long public session.</p>"
                   for k in range(8))


def _page(title: str, topic: str, head: str = "") -> str:
    return (f"<html><head><title>{title}</title>{head}</head><body><article><h1>{title}</h1>{_body(topic)}"
            f"</article></body></html>")


OG = '<meta property="og:site_name" content="{}">'
LD = '<script type="application/ld+json">{}</script>'
PUBLISHED = f'<meta property="article:published_time" content="{PAGE_DATE.isoformat()}">'


def _item(base: str, path: str, title: str, when: datetime | None, teaser: str) -> str:
    date = f"<pubDate>{format_datetime(when)}</pubDate>" if when else ""
    return (f"<item><title>{title}</title><link>{base}{path}?utm_source=rss</link><guid>{base}{path}</guid>"
            f"{date}<description>{teaser}</description></item>")


def _rss(base: str, items: list[str]) -> str:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title><link>{base}/</link>'
            f"<description>d</description>{''.join(items)}</channel></rss>")


@pytest.fixture
def site(replay_server, corpus):
    srv = replay_server
    base = srv.base_url
    srv.add("/p/1", _page("Page title 1", "trams", OG.format("Page One Site") + PUBLISHED), content_type="text/html")
    srv.add("/p/2", _page("Page title 2", "bridges", LD.format(json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": "Page title 2",
        "datePublished": PAGE_DATE.isoformat(), "publisher": {"@type": "Organization", "name": "Publisher Two"}}))),
        content_type="text/html")
    srv.add("/p/3", _page("Page title 3", "ferries", OG.format("Site Three") + PUBLISHED), content_type="text/html")
    srv.add("/p/4", _page("Page title 4", "cycle lanes"), content_type="text/html")
    # /p/5 is missing (404): the feed's own content is what there is.
    teaser5 = "Alpha's own report on the harbour: " + "the harbour works start in spring and last two years. " * 8
    srv.add("/alpha.xml", _rss(base, [
        _item(base, "/p/1", "Alpha title 1", FEED_DATE, "Alpha teaser 1"),
        _item(base, "/p/5", "Alpha title 5", FEED_DATE, teaser5)]), content_type="application/rss+xml")
    srv.add("/beta.xml", _rss(base, [
        _item(base, "/p/1", "Beta title 1", BETA_DATE, "Beta teaser 1"),
        _item(base, "/p/2", "Beta title 2", None, "Beta teaser 2")]), content_type="application/rss+xml")

    rr = RedditReplay(srv, corpus)
    template = rr.submission("threads/bb24k7_removedbybotter_comment_context_2025-06-19.json")
    posts = []
    for n, path in enumerate(["/p/1", "/p/2", "/p/3", "/p/4", "/p/5"], start=1):
        child = copy.deepcopy(template)
        d = child["data"]
        d.update(id=f"zz{n}", name=f"t3_zz{n}", title=f"Reddit post about {path}", url=f"{base}{path}",
                 domain="127.0.0.1", is_self=False, selftext="", num_comments=0, score=500,
                 subreddit="newsdesk", created_utc=POST_TIME.timestamp(), is_video=False, over_18=False,
                 permalink=f"/r/newsdesk/comments/zz{n}/post_{n}/", stickied=False)
        for key in ("post_hint", "url_overridden_by_dest"):
            d.pop(key, None)
        d.pop("crosspost_parent_list", None)
        posts.append(child)
    rr.serve("/r/newsdesk/new.json", rr.listing_body(posts))
    return srv


def _sources(base: str) -> SourcesFile:
    cfg = dict(base_url=base, oauth_base_url=base, token_url=f"{base}/api/v1/access_token",
               requests_per_minute=60000, oauth_requests_per_minute=60000, max_wait_s=2, timeout_s=5)
    return SourcesFile.model_validate({
        "feeds": [{"name": "alpha", "url": f"{base}/alpha.xml", "outlet": "Alpha News"},
                  {"name": "beta", "url": f"{base}/beta.xml", "outlet": "Beta Wire"}],
        "reddit": RedditConfig(subreddits=[SUB], **cfg).model_dump()})


def _metadata(engine) -> dict[str, tuple]:
    with engine.connect() as c:
        rows = c.execute(select(Article.canonical_url, Article.url, Article.outlet, Article.sitename, Article.title,
                                Article.author, Article.published_at, Article.origin, Article.extraction_status,
                                Article.extraction_reason, Article.text_hash)).all()
    return {r.canonical_url.split("/", 3)[3]: tuple(r[1:]) for r in rows}


def _ingest(order, *, settings, engine, sources, run: str) -> None:
    for name in order:
        if name == "reddit":
            out = ingest_subreddit(SUB.name, settings=settings, run_key=run, sources=sources, engine=engine)
            assert out["status"] == "ok", out
        else:
            ingest_feed(name, settings=settings, sources=sources, run_id=run, engine=engine, force=True)


ORDERS = list(itertools.permutations(["alpha", "beta", "reddit"]))


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_metadata_does_not_depend_on_arrival_order(order, site, settings, warehouse):
    reset_process_state()
    settings = settings.model_copy(update={"allowed_hosts": ["127.0.0.1"]})
    sources = _sources(site.base_url)
    _ingest(order, settings=settings, engine=warehouse, sources=sources, run="run-1")
    first = _metadata(warehouse)
    _ingest(order, settings=settings, engine=warehouse, sources=sources, run="run-2")
    assert _metadata(warehouse) == first  # a rerun changes nothing

    base = site.base_url
    got = {path: dict(zip(("url", "outlet", "sitename", "title", "author", "published_at", "origin", "status",
                           "reason"), row[:9])) for path, row in first.items()}
    assert set(got) == {"p/1", "p/2", "p/3", "p/4", "p/5"}
    # Listed by both feeds: "alpha" sorts first and decides; the page and the post do not.
    expected_1 = {"url": f"{base}/p/1?utm_source=rss", "outlet": "Alpha News", "sitename": "Page One Site",
                  "title": "Alpha title 1", "published_at": FEED_DATE, "origin": "feed", "status": "ok"}
    assert {k: got["p/1"][k] for k in expected_1} == expected_1
    # Listed by one feed without a date: the page's date (JSON-LD), never the post's time.
    assert (got["p/2"]["outlet"], got["p/2"]["sitename"], got["p/2"]["title"], got["p/2"]["published_at"]) == \
        ("Beta Wire", "Publisher Two", "Beta title 2", PAGE_DATE)
    # Only on Reddit: the page's site name, title and date.
    assert (got["p/3"]["outlet"], got["p/3"]["title"], got["p/3"]["published_at"], got["p/3"]["origin"]) == \
        ("Site Three", "Page title 3", PAGE_DATE, "reddit")
    # Only on Reddit, a page with no site name and no date: the host names it, the post dates it.
    assert (got["p/4"]["outlet"], got["p/4"]["title"], got["p/4"]["published_at"]) == \
        ("127.0.0.1", "Page title 4", POST_TIME)
    # The page is gone: the feed's content, whoever reached it first.
    assert (got["p/5"]["status"], got["p/5"]["reason"], got["p/5"]["title"], got["p/5"]["outlet"]) == \
        ("feed_content", "http_404", "Alpha title 5", "Alpha News")
    with warehouse.connect() as c:
        text5 = c.execute(select(Article.text).where(Article.canonical_url.like("%/p/5"))).scalar_one()
    assert text5.startswith("Alpha's own report on the harbour")
