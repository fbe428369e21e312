"""Fetcher.get against a real HTTP server on 127.0.0.1 (tests/replay_server.py)."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import brotli
import pytest

from newsroom.fetch import Fetcher, FetchPolicy, parse_retry_after
from tests.replay_server import ReplayServer

from .conftest import UA


def _policy(**kw) -> FetchPolicy:
    base = dict(user_agent=UA, connect_timeout=2.0, read_timeout=2.0, total_timeout=5.0, allow_private_networks=True)
    base.update(kw)
    return FetchPolicy(**base)


def _zeros_gzip(n_bytes: int) -> bytes:
    """A gzip member of ``n_bytes`` zeros, compressed without holding them in memory."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    out = [c.compress(block) for _ in range(n_bytes >> 20)]
    out.append(c.flush())
    return b"".join(out)


# -- conditional GET ----------------------------------------------------------
def test_conditional_get_with_etag_gives_not_modified(replay_server, fetcher):
    url = replay_server.add("/feed.xml", body=b"<rss/>", content_type="application/rss+xml", etag='"v1"')
    first = fetcher.get(url, kind="feed")
    assert first.ok and first.body == b"<rss/>" and first.etag == '"v1"'

    second = fetcher.get(url, etag=first.etag, kind="feed")
    assert second.status == 304 and second.not_modified and second.error is None
    assert second.body == b""
    assert replay_server.hits("/feed.xml") == 2
    assert replay_server.requests[-1][2]["if-none-match"] == '"v1"'


def test_conditional_get_with_last_modified(replay_server, fetcher):
    lm = "Wed, 01 Apr 2026 10:00:00 GMT"
    url = replay_server.add("/f", body=b"x", last_modified=lm)
    first = fetcher.get(url)
    assert first.last_modified == lm and not first.not_modified
    second = fetcher.get(url, last_modified=first.last_modified)
    assert second.not_modified and second.error is None
    assert replay_server.requests[-1][2]["if-modified-since"] == lm
    # A changed document (different validator) is fetched in full.
    third = fetcher.get(url, last_modified="Tue, 31 Mar 2026 10:00:00 GMT")
    assert third.status == 200 and third.body == b"x" and not third.not_modified


# -- content encodings and caps -------------------------------------------------
def test_gzip_body_is_decoded_and_gzip_is_advertised(replay_server, fetcher):
    text = b"<html>" + b"news " * 5000 + b"</html>"
    url = replay_server.add("/g", body=text, content_type="text/html; charset=utf-8", gzip=True)
    r = fetcher.get(url)
    assert r.ok and r.body == text
    assert r.headers["content-encoding"] == "gzip"
    assert "gzip" in replay_server.requests[-1][2]["accept-encoding"]


@pytest.mark.parametrize(
    "encoding,encode",
    [
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send it
        ("br", brotli.compress),
        ("gzip", lambda b: gzip.compress(b[:100]) + gzip.compress(b[100:])),  # two gzip members
    ],
)
def test_other_encodings_are_decoded(replay_server, fetcher, encoding, encode):
    text = b"article text " * 1000
    payload = encode(text)
    replay_server.add("/e", handler=lambda h: (200, {"Content-Encoding": encoding, "Content-Type": "text/html"}, payload))
    r = fetcher.get(replay_server.url("/e"))
    assert r.error is None and r.body == text


def test_brotli_is_advertised(replay_server, fetcher):
    fetcher.get(replay_server.add("/x", body=b"x"))
    assert "br" in replay_server.requests[-1][2]["accept-encoding"]


def test_gzip_bomb_is_refused_with_bounded_memory(replay_server):
    bomb = _zeros_gzip(50 * 1024 * 1024)  # 50 MiB of zeros, ~50 KB on the wire
    assert len(bomb) < 200_000
    url = replay_server.add("/bomb", body=bomb, content_type="text/html", gzip=True)
    with Fetcher(_policy(max_bytes=1_000_000)) as f:
        tracemalloc.start()
        try:
            r = f.get(url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert r.error == "too_large" and r.body == b""
    assert "decoded body" in r.error_detail
    # Never more than a small multiple of the 1 MB cap, although the body inflates to 50 MiB.
    assert peak < 6_000_000, f"peak {peak:,} bytes"


def test_huge_chunked_body_is_cut_while_streaming(replay_server):
    body = b"a" * 3_000_000
    url = replay_server.add("/huge", body=body, content_type="text/html", chunked=True)
    with Fetcher(_policy(max_bytes=1_000_000)) as f:
        tracemalloc.start()
        try:
            r = f.get(url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "content-length" not in r.headers  # the cap could not be known up front
    assert r.error == "too_large" and r.body == b""
    assert peak < 3_000_000, f"peak {peak:,} bytes"


def test_content_length_above_cap_is_refused_before_reading(replay_server):
    url = replay_server.add("/big", body=b"b" * 2_000_000, content_type="application/pdf")
    with Fetcher(_policy(max_bytes=1_000_000)) as f:
        r = f.get(url)
    assert r.error == "too_large" and r.status == 200
    assert "Content-Length 2,000,000" in r.error_detail


@pytest.mark.parametrize("chunked", [False, True])
def test_cap_boundary_is_exact(replay_server, chunked):
    replay_server.add("/ok", body=b"x" * 1000, chunked=chunked)
    replay_server.add("/over", body=b"x" * 1001, chunked=chunked)
    replay_server.add("/gz-ok", body=b"y" * 1000, gzip=True, chunked=chunked)
    replay_server.add("/gz-over", body=b"y" * 1001, gzip=True, chunked=chunked)
    with Fetcher(_policy(max_bytes=1000)) as f:
        assert f.get(replay_server.url("/ok")).body == b"x" * 1000
        assert f.get(replay_server.url("/over")).error == "too_large"
        assert f.get(replay_server.url("/gz-ok")).body == b"y" * 1000
        assert f.get(replay_server.url("/gz-over")).error == "too_large"


def test_corrupt_gzip_is_a_decoding_error(replay_server, fetcher):
    replay_server.add("/bad", handler=lambda h: (200, {"Content-Encoding": "gzip"}, b"\x1f\x8bnot really gzip"))
    r = fetcher.get(replay_server.url("/bad"))
    assert r.error == "decoding_error" and r.status == 200


# -- timeouts -------------------------------------------------------------------
def test_connect_timeout(blackhole_port):
    with Fetcher(_policy(connect_timeout=0.5)) as f:
        t0 = time.monotonic()
        r = f.get(f"http://127.0.0.1:{blackhole_port}/")
        took = time.monotonic() - t0
    assert r.error == "timeout" and "connect" in r.error_detail
    assert took < 3.0


def test_read_timeout(replay_server):
    url = replay_server.add("/slow", body=b"late", delay_s=1.5)
    with Fetcher(_policy(read_timeout=0.3)) as f:
        t0 = time.monotonic()
        r = f.get(url)
        took = time.monotonic() - t0
    assert r.error == "timeout" and r.body == b""
    assert took < 1.4


def test_slow_drip_hits_the_total_timeout(replay_server):
    # One byte every 50 ms never trips a 2 s read timeout; only the wall clock stops it.
    url = replay_server.add("/drip", drip_s=0.05, content_type="text/html")
    with Fetcher(_policy(read_timeout=2.0, total_timeout=1.0, max_bytes=2_000_000_000)) as f:
        t0 = time.monotonic()
        r = f.get(url)
        took = time.monotonic() - t0
    assert r.error == "total_timeout", r.error_detail
    assert 1.0 <= took < 2.5
    assert r.body == b""


# -- redirects --------------------------------------------------------------------
def test_redirects_are_followed_and_listed(replay_server, fetcher, requests_log):
    replay_server.redirect("/old", "/middle", status=301)
    replay_server.redirect("/middle", replay_server.url("/new"), status=308)
    replay_server.add("/new", body=b"here", content_type="text/html")
    r = fetcher.get(replay_server.url("/old"))
    assert r.ok and r.body == b"here"
    assert r.url == replay_server.url("/old")
    assert r.final_url == replay_server.url("/new")
    assert r.redirects == [replay_server.url("/middle"), replay_server.url("/new")]
    # one on_request call per HTTP request, each with its own URL
    assert [(k, u, s) for k, u, s, _ in requests_log] == [
        ("page", replay_server.url("/old"), 301),
        ("page", replay_server.url("/middle"), 308),
        ("page", replay_server.url("/new"), 200),
    ]


def test_redirect_loop_is_detected(replay_server, fetcher):
    replay_server.redirect("/a", "/b")
    replay_server.redirect("/b", "/a")
    r = fetcher.get(replay_server.url("/a"))
    assert r.error == "redirect_loop"
    assert replay_server.hits("/a") == 1 and replay_server.hits("/b") == 1


def test_too_many_redirects(replay_server):
    for i in range(7):
        replay_server.redirect(f"/r{i}", f"/r{i + 1}")
    replay_server.add("/r7", body=b"end")
    with Fetcher(_policy(max_redirects=5)) as f:
        r = f.get(replay_server.url("/r0"))
        assert r.error == "too_many_redirects"
        assert len(r.redirects) == 5
        assert replay_server.hits("/r6") == 0  # the 6th redirect was not followed
        ok = f.get(replay_server.url("/r2"))  # exactly 5 redirects: fine
        assert ok.ok and ok.body == b"end" and len(ok.redirects) == 5


@pytest.mark.parametrize(
    "target,reason",
    [
        ("http://169.254.169.254/latest/meta-data/", "blocked_address"),
        ("http://127.0.0.1:{other}/admin", "blocked_address"),
        ("http://localhost:{port}/", "blocked_address"),
        ("http://[::1]:{port}/", "blocked_address"),
        ("http://2130706433:{port}/", "blocked_address"),
        ("file:///etc/passwd", "blocked_scheme"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "blocked_scheme"),
    ],
)
def test_redirect_hops_go_through_the_guard(replay_server, target, reason):
    """Private networks disallowed; only the replay server's own host:port is exempt, so
    the first hop is allowed and the redirect target must be refused."""
    other = ReplayServer().start()
    try:
        target = target.format(port=replay_server.port, other=other.port)
        replay_server.redirect("/go", target)
        log = []
        policy = _policy(allow_private_networks=False, allowed_private_hosts=[f"127.0.0.1:{replay_server.port}"])
        with Fetcher(policy, on_request=lambda r, k: log.append(r.url)) as f:
            r = f.get(replay_server.url("/go"))
        assert r.error == reason, r.error_detail
        assert r.status == 302 and len(r.redirects) == 1
        assert r.final_url == replay_server.url("/go")  # the last URL actually requested
        assert log == [replay_server.url("/go")]  # the refused hop was never requested
        assert other.hits("/admin") == 0
    finally:
        other.stop()


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]:{port}/",
                                    "http://100.100.100.200/latest/meta-data/", "http://0xa9fea9fe/"])
def test_redirect_to_metadata_refused_even_with_private_networks_allowed(replay_server, target):
    """NEWSROOM_ALLOW_PRIVATE_NETWORKS opens loopback (the replay server) but not the
    link-local/metadata range a hostile feed might redirect to."""
    replay_server.redirect("/feed.xml", target.format(port=replay_server.port))
    log = []
    with Fetcher(_policy(allow_private_networks=True), on_request=lambda r, k: log.append(r.url)) as f:
        r = f.get(replay_server.url("/feed.xml"), kind="feed")
    assert r.error == "blocked_address", r.error_detail
    assert "metadata" in r.error_detail and r.body == b""
    assert log == [replay_server.url("/feed.xml")]  # the metadata hop was never requested


def test_allowed_hosts_checked_on_every_redirect_hop(replay_server):
    """127.0.0.1 allowed, localhost not: a 302 from one to the other is refused, not followed."""
    replay_server.add("/inner", body=b"should not be read")
    replay_server.redirect("/feed.xml", f"http://localhost:{replay_server.port}/inner")
    replay_server.redirect("/same-host", "/inner")
    log = []
    with Fetcher(_policy(allowed_hosts=["127.0.0.1"]), on_request=lambda r, k: log.append(r.url)) as f:
        r = f.get(replay_server.url("/feed.xml"), kind="feed")
        assert r.error == "host_not_allowed", r.error_detail
        assert "localhost" in r.error_detail and r.body == b""
        assert replay_server.hits("/inner") == 0
        assert log == [replay_server.url("/feed.xml")]
        direct = f.get(f"http://localhost:{replay_server.port}/inner")
        assert direct.error == "host_not_allowed" and replay_server.hits("/inner") == 0
        ok = f.get(replay_server.url("/same-host"))  # a redirect that stays on an allowed host
        assert ok.ok and ok.body == b"should not be read" and replay_server.hits("/inner") == 1


def test_first_url_is_guarded_too(replay_server, requests_log):
    url = replay_server.add("/x", body=b"secret")
    log = []
    with Fetcher(_policy(allow_private_networks=False), on_request=lambda r, k: log.append(r)) as f:
        r = f.get(url)
    assert r.error == "blocked_address" and r.body == b""
    assert replay_server.hits("/x") == 0 and log == []


def test_authorization_is_dropped_on_cross_origin_redirect_and_never_logged(replay_server):
    other = ReplayServer().start()
    try:
        other.add("/landing", body=b"ok")
        replay_server.redirect("/start", other.url("/landing"))
        log = []
        with Fetcher(_policy(), on_request=lambda r, k: log.append(r)) as f:
            r = f.get(replay_server.url("/start"), headers={"Authorization": "Bearer s3cr3t"})
        assert r.ok
        assert replay_server.requests[-1][2]["authorization"] == "Bearer s3cr3t"
        assert "authorization" not in other.requests[-1][2]
        assert all("s3cr3t" not in repr(x) for x in log) and "s3cr3t" not in repr(r)
    finally:
        other.stop()


# -- HTTP errors ------------------------------------------------------------------------
@pytest.mark.parametrize("status", [404, 410, 500])
def test_http_errors_keep_status_and_small_body(replay_server, status):
    url = replay_server.add("/gone", status=status, body=b"E" * 200_000, content_type="text/plain")
    with Fetcher(_policy(max_error_body_bytes=1000)) as f:
        r = f.get(url)
    assert r.error == f"http_{status}" and r.status == status and not r.ok
    assert r.body == b"E" * 1000  # truncated, not refused
    assert r.retry_after_s is None


def test_429_retry_after_seconds(replay_server, fetcher):
    url = replay_server.add("/limited", status=429, headers={"Retry-After": "120"})
    r = fetcher.get(url)
    assert r.error == "http_429" and r.retry_after_s == 120.0


def test_503_retry_after_http_date(replay_server, fetcher):
    when = datetime.now(timezone.utc) + timedelta(seconds=300)
    url = replay_server.add("/down", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    r = fetcher.get(url)
    assert r.error == "http_503"
    assert 290 <= r.retry_after_s <= 301


def test_parse_retry_after():
    now = datetime(2026, 4, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after(" 45 ") == 45.0
    assert parse_retry_after("Wed, 01 Apr 2026 12:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Wed, 01 Apr 2026 11:00:00 GMT", now=now) == 0.0  # past date
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# -- request shape and pass-through ----------------------------------------------------
def test_user_agent_and_accept_are_sent(replay_server, fetcher):
    url = replay_server.add("/ua", body=b"ok")
    fetcher.get(url, accept="application/rss+xml")
    sent = replay_server.requests[-1][2]
    assert sent["user-agent"] == UA
    assert sent["accept"] == "application/rss+xml"


@pytest.mark.parametrize(
    "ctype,body",
    [
        ("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary"),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00"),
        ("application/json; charset=utf-8", b'{"a": 1}'),
    ],
)
def test_non_html_content_is_passed_through(replay_server, fetcher, ctype, body):
    url = replay_server.add("/file", body=body, content_type=ctype)
    r = fetcher.get(url)
    assert r.ok and r.body == body
    assert r.content_type == ctype.split(";")[0]


# -- failures that are not HTTP ----------------------------------------------------------
def test_connection_refused_is_a_connection_error(replay_server, fetcher):
    other = ReplayServer()
    port = other.port
    other.httpd.server_close()  # bound then closed: nothing listens there now
    r = fetcher.get(f"http://127.0.0.1:{port}/")
    assert r.error == "connection_error" and r.status is None and r.error_detail



@pytest.mark.parametrize("url", ["not a url", "http://", "http://exa mple.com/", "http://[::1/"])
def test_invalid_urls(fetcher, url, requests_log):
    r = fetcher.get(url)
    assert r.error == "invalid_url", (r.error, r.error_detail)
    assert requests_log == []


def test_unresolvable_host_is_a_connection_error():
    with Fetcher(_policy(allow_private_networks=False)) as f:
        r = f.get("http://newsroom-test.invalid/")
    assert r.error == "connection_error" and "resolve" in r.error_detail


def test_on_request_failure_does_not_lose_the_fetch(replay_server):
    def boom(result, kind):
        raise RuntimeError("log table unavailable")

    url = replay_server.add("/x", body=b"kept")
    with Fetcher(_policy(), on_request=boom) as f:
        assert f.get(url).body == b"kept"


def test_caller_headers_merge_case_insensitively(replay_server, fetcher):
    url = replay_server.add("/h", body=b"ok")
    fetcher.get(url, headers={"accept": "text/html", "X-Extra": "1"})
    sent = replay_server.requests[-1][2]
    assert sent["accept"] == "text/html" and sent["x-extra"] == "1"
    fetcher.get(url, headers={"accept": "text/html"}, accept="application/atom+xml")
    assert replay_server.requests[-1][2]["accept"] == "application/atom+xml"


@pytest.mark.parametrize("encoding", ["br", "deflate"])
def test_other_encoding_bombs_are_refused_with_bounded_memory(replay_server, encoding):
    zeros = bytes(30 * 1024 * 1024)
    payload = brotli.compress(zeros, quality=5) if encoding == "br" else zlib.compress(zeros, 9)
    del zeros
    replay_server.add("/bomb", handler=lambda h: (200, {"Content-Encoding": encoding}, payload))
    with Fetcher(_policy(max_bytes=1_000_000)) as f:
        tracemalloc.start()
        try:
            r = f.get(replay_server.url("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert r.error == "too_large"
    assert peak < 6_000_000, f"peak {peak:,} bytes"


def test_host_name_resolving_to_loopback_is_refused_at_connect(replay_server):
    """check_url leaves names to the pinning backend; the refusal must still happen
    before anything is sent, and must not be logged as a request."""
    replay_server.add("/x", body=b"secret")
    log = []
    with Fetcher(_policy(allow_private_networks=False), on_request=lambda r, k: log.append(r)) as f:
        r = f.get(f"http://localhost:{replay_server.port}/x")
    assert r.error == "blocked_address" and "loopback" in r.error_detail
    assert replay_server.hits("/x") == 0 and log == []


def test_policy_from_settings(monkeypatch):
    from newsroom.settings import Settings

    monkeypatch.setenv("NEWSROOM_USER_AGENT", "digest-bot/2.0")
    monkeypatch.setenv("NEWSROOM_ALLOW_PRIVATE_NETWORKS", "true")
    p = FetchPolicy.from_settings(Settings(), max_bytes=123)
    assert p.user_agent == "digest-bot/2.0" and p.allow_private_networks is True and p.max_bytes == 123
    monkeypatch.delenv("NEWSROOM_ALLOW_PRIVATE_NETWORKS")
    assert FetchPolicy.from_settings(Settings()).allow_private_networks is False
