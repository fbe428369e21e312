"""SSRF at the pipeline level: feed entries, feed URLs, Reddit links and redirects that
lead inside the network (loopback, private, link-local 169.254.169.254) or off HTTP
(``file:``, ``ftp:``) are refused and recorded — unless the operator allows private
networks. The replay server itself is exempted by ``NEWSROOM_ALLOWED_PRIVATE_HOSTS``
(its exact host:port); a second server plays the internal service and must see no request.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from newsroom.config.sources import FeedSource, RedditConfig, SourcesFile, SubredditSource
from newsroom.pipeline.ingest import SourceFailed
from newsroom.pipeline.reddit import ingest_subreddit
from newsroom.reddit.client import reset_process_state
from tests.reliability.helpers import (
    CONTROL,
    T0,
    articles,
    control_lost,
    entries,
    rss,
    rss_item,
    run_feeds,
    serve_control,
    source,
)
from tests.replay_server import ReplayServer


@pytest.fixture
def inner():
    """The "internal service" on another loopback port: it must never be reached."""
    with ReplayServer() as srv:
        srv.add("/admin", body="internal secrets", content_type="text/html")
        yield srv


@pytest.fixture
def guarded(fast, replay_server):
    """Private networks refused; only the replay server's own host:port is exempt."""
    return fast.model_copy(update={"allow_private_networks": False, "allowed_hosts": [],
                                   "allowed_private_hosts": [f"127.0.0.1:{replay_server.port}"]})


def _targets(srv, inner) -> dict[str, tuple[str, str]]:
    """label → (URL an entry links to, expected recorded reason)."""
    p = inner.port
    srv.redirect("/r/meta", "http://169.254.169.254/latest/meta-data/")
    srv.redirect("/r/inner", inner.url("/admin"))
    srv.redirect("/r/localhost", f"http://localhost:{p}/admin")
    srv.redirect("/r/file", "file:///etc/passwd")
    srv.redirect("/r/ftp", f"ftp://127.0.0.1:{p}/pub/file")
    return {
        "link-local metadata service `http://169.254.169.254/…`": (
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "blocked_address"),
        "loopback IP, another port": (inner.url("/admin"), "blocked_address"),
        "`localhost` (checked after DNS resolution, at connect)": (f"http://localhost:{p}/admin", "blocked_address"),
        "private 10.0.0.5": ("http://10.0.0.5/internal", "blocked_address"),
        "IPv6 loopback `[::1]`": (f"http://[::1]:{p}/admin", "blocked_address"),
        "IPv4-mapped IPv6 `[::ffff:127.0.0.1]`": (f"http://[::ffff:127.0.0.1]:{p}/admin", "blocked_address"),
        "decimal IP `2130706433` (= 127.0.0.1)": (f"http://2130706433:{p}/admin", "blocked_address"),
        "redirect → 169.254.169.254": (srv.url("/r/meta"), "blocked_address"),
        "redirect → loopback service": (srv.url("/r/inner"), "blocked_address"),
        "redirect → `localhost` (after DNS)": (srv.url("/r/localhost"), "blocked_address"),
        "redirect → `file:///etc/passwd`": (srv.url("/r/file"), "blocked_scheme"),
        "redirect → `ftp:`": (srv.url("/r/ftp"), "blocked_scheme"),
    }


def _feed(srv, targets: dict[str, tuple[str, str]], extra_items: list[str] = ()) -> str:
    items = [rss_item(f"Story {i}", url, guid=f"g{i}", description=f"Feed summary {i}: {label}",
                      published=T0 - timedelta(minutes=i))
             for i, (label, (url, _)) in enumerate(targets.items())]
    return srv.add("/ssrf.xml", body=rss(items + list(extra_items), title="SSRF"), content_type="application/rss+xml")


def test_feed_entries_and_redirects_into_the_network_are_refused(replay_server, inner, guarded, warehouse, record):
    targets = _targets(replay_server, inner)
    odd = [rss_item("File link", "file:///etc/passwd", guid="file", description="Feed summary file"),
           rss_item("FTP link", f"ftp://127.0.0.1:{inner.port}/pub/x", guid="ftp", description="Feed summary ftp")]
    url = _feed(replay_server, targets, odd)
    out = run_feeds(guarded, warehouse, {"ssrf": url, CONTROL: serve_control(replay_server)})
    assert not isinstance(out["ssrf"], SourceFailed), out["ssrf"]

    assert inner.requests == []  # nothing ever reached the internal service
    by_title = {a.title: a for a in articles(warehouse, "ssrf")}
    ents = entries(warehouse, "ssrf")
    for i, (label, (_, reason)) in enumerate(targets.items()):
        a = by_title[f"Story {i}"]
        assert a.extraction_status == "feed_content" and a.extraction_reason.startswith(reason), (label, a)
        assert f"Feed summary {i}" in a.text  # what the feed said is kept
    # Non-HTTP entry links are never fetched: the entry is kept without a URL.
    odd_rows = {e.guid: e for e in ents if e.guid in ("file", "ftp")}
    assert set(odd_rows) == {"file", "ftp"} and all(e.url is None and e.article_id is None
                                                   for e in odd_rows.values())
    lost = (len(targets) + len(odd)) - len(ents) + control_lost(warehouse)
    assert lost == 0
    for i, (label, (_, reason)) in enumerate(targets.items()):
        a = by_title[f"Story {i}"]
        record("SSRF", f"feed entry → {label}", f"not fetched; article kept from the feed's content, "
               f"`extraction_reason` = `{a.extraction_reason.split(':')[0]}`", lost=lost)
    record("SSRF", "feed entry linking `file:///etc/passwd` / `ftp://…`",
           "entry stored with no URL (only http/https links are taken), never fetched", lost=lost)


def test_feed_url_into_the_network_is_refused(replay_server, inner, guarded, warehouse, record):
    replay_server.redirect("/feed-moved", inner.url("/admin"))
    out = run_feeds(guarded, warehouse, {
        "meta": "http://169.254.169.254/latest/meta-data/",
        "moved": replay_server.url("/feed-moved"),
        CONTROL: serve_control(replay_server),
    })
    assert inner.requests == []
    for name, case in (("meta", "feed URL `http://169.254.169.254/…`"), ("moved", "feed redirecting to a loopback service")):
        assert isinstance(out[name], SourceFailed) and out[name].reason == "blocked_address"
        src = source(warehouse, name)
        assert src.last_error.startswith("blocked_address") and src.consecutive_failures == 1
        lost = control_lost(warehouse)
        assert lost == 0
        record("SSRF", case, f"source failed, recorded `{src.last_error}`", lost=lost)


def test_non_http_feed_url_is_a_config_error(record):
    for url in ("file:///etc/passwd", "ftp://example.org/feed.xml"):
        with pytest.raises(ValidationError) as err:
            SourcesFile(feeds=[FeedSource(name="x", url=url)])
        assert "must be an http:// or https:// URL" in str(err.value)
    record("SSRF", "feed URL `file:///etc/passwd` / `ftp://…` in the sources file",
           "the sources file is rejected at load: `url: must be an http:// or https:// URL`", lost=0)


def test_private_networks_allowed_by_the_switch(replay_server, inner, fast, warehouse, record, monkeypatch):
    """The same links are fetched when the operator sets NEWSROOM_ALLOW_PRIVATE_NETWORKS:
    the refusals above come from the guard, not from a broken server."""
    from newsroom.settings import Settings

    monkeypatch.setenv("NEWSROOM_ALLOW_PRIVATE_NETWORKS", "true")
    settings = Settings().model_copy(update={"extract_workers": 1, "allowed_hosts": []})
    assert settings.allow_private_networks
    inner.add("/story.html", body=b"<html><body><p>" + b"internal text " * 80 + b"</p></body></html>",
              content_type="text/html")
    url = _feed(replay_server, {"inner": (inner.url("/story.html"), "")})
    out = run_feeds(settings, warehouse, {"open": url, CONTROL: serve_control(replay_server)})
    assert out["open"]["status"] == "ok" and inner.hits("/story.html") == 1
    (a,) = articles(warehouse, "open")
    assert a.extraction_status == "ok"
    lost = 1 - len(entries(warehouse, "open")) + control_lost(warehouse)
    assert lost == 0
    record("SSRF", "same loopback link with `NEWSROOM_ALLOW_PRIVATE_NETWORKS=true`",
           f"fetched and extracted (`extraction_status` = `{a.extraction_status}`): the refusals are the guard's",
           lost=lost)


def _post(pid: str, url: str, title: str) -> dict:
    return {"kind": "t3", "data": {
        "id": pid, "name": f"t3_{pid}", "subreddit": "sec", "title": title, "author": "someone",
        "created_utc": T0.timestamp(), "permalink": f"/r/sec/comments/{pid}/x/", "url": url,
        "domain": url.split("/")[2] if "://" in url else "", "is_self": False, "selftext": "", "score": 500,
        "num_comments": 0, "upvote_ratio": 0.9, "over_18": False, "stickied": False}}


def test_reddit_links_into_the_network_are_refused(replay_server, inner, guarded, warehouse, record):
    reset_process_state()
    srv = replay_server
    srv.redirect("/r2/meta", "http://169.254.169.254/latest/meta-data/")
    srv.redirect("/r2/file", "file:///etc/passwd")
    links = {
        "a1": ("http://169.254.169.254/latest/meta-data/", "blocked_address", "link-local metadata service"),
        "a2": (inner.url("/admin"), "blocked_address", "loopback service"),
        "a3": (f"http://localhost:{inner.port}/admin", "blocked_address", "`localhost` (after DNS)"),
        "a4": (srv.url("/r2/meta"), "blocked_address", "redirect → 169.254.169.254"),
        "a5": (srv.url("/r2/file"), "blocked_scheme", "redirect → `file:`"),
    }
    posts = [_post(pid, url, f"Post {pid}") for pid, (url, _, _) in links.items()]
    posts.append(_post("a6", "file:///etc/passwd", "Post a6"))
    listing = json.dumps({"kind": "Listing", "data": {"after": None, "before": None, "children": posts}}).encode()
    for path in ("/r/sec/hot.json", "/r/sec/hot"):
        srv.add(path, body=listing, content_type="application/json")
    base = srv.base_url
    sources = SourcesFile(reddit=RedditConfig(
        base_url=base, oauth_base_url=base, token_url=f"{base}/api/v1/access_token", requests_per_minute=60000,
        oauth_requests_per_minute=60000, max_wait_s=2, timeout_s=5,
        subreddits=[SubredditSource(name="sec", listing="hot", limit=25, min_score=0, top_comments=0)]))
    out = ingest_subreddit("sec", settings=guarded, run_key="run-1", sources=sources, engine=warehouse)
    assert out["status"] == "ok" and out["posts"] == len(posts), out
    assert inner.requests == []

    from sqlalchemy import select

    from newsroom.warehouse.schema import Article
    from newsroom.warehouse.schema.reddit import RedditPost

    with warehouse.connect() as c:
        stored = {r.id: r for r in c.execute(select(RedditPost))}
        arts = {r.id: r for r in c.execute(select(Article))}
    for pid, (_, reason, label) in links.items():
        post = stored[pid]
        assert post.link_kind == "article"
        a = arts.get(post.article_id)
        assert a is not None and a.extraction_reason and a.extraction_reason.startswith(reason), (pid, a)
    assert stored["a6"].link_kind == "other" and stored["a6"].article_id is None
    lost = len(posts) - len(stored)
    assert lost == 0
    for pid, (_, reason, label) in links.items():
        a = arts[stored[pid].article_id]
        record("SSRF", f"Reddit link post → {label}",
               f"post stored; page not fetched, article row records `extraction_reason` = "
               f"`{a.extraction_reason.split(':')[0]}`", lost=lost)
    record("SSRF", "Reddit link post → `file:///etc/passwd`",
           "post stored with `link_kind` = `other`; never fetched", lost=lost)
