"""get_with_retry: transient failures get another try, final ones do not."""

from __future__ import annotations

import itertools

from newsroom.fetch import Fetcher, FetchPolicy, get_with_retry

from .conftest import UA


def _fetcher() -> Fetcher:
    return Fetcher(FetchPolicy(user_agent=UA, allow_private_networks=True, total_timeout=5.0))


def test_transient_503_is_retried_until_success(replay_server):
    calls = itertools.count()

    def flaky(handler):
        if next(calls) < 2:
            return 503, {"Retry-After": "0"}, b"busy"
        return 200, {"Content-Type": "text/plain"}, b"fine"

    replay_server.add("/f", handler=flaky)
    with _fetcher() as f:
        r = get_with_retry(f, replay_server.url("/f"), attempts=3, backoff_s=0.01)
    assert r.ok and r.body == b"fine"
    assert replay_server.hits("/f") == 3


def test_gives_up_after_attempts_and_returns_last_result(replay_server):
    replay_server.add("/down", status=502)
    with _fetcher() as f:
        r = get_with_retry(f, replay_server.url("/down"), attempts=2, backoff_s=0.01)
    assert r.error == "http_502"
    assert replay_server.hits("/down") == 2


def test_final_errors_and_long_retry_after_are_not_retried(replay_server):
    replay_server.add("/missing", status=404)
    replay_server.add("/later", status=429, headers={"Retry-After": "3600"})
    with _fetcher() as f:
        assert get_with_retry(f, replay_server.url("/missing"), backoff_s=0.01).error == "http_404"
        r = get_with_retry(f, replay_server.url("/later"), backoff_s=0.01, max_wait_s=30)
    assert r.error == "http_429" and r.retry_after_s == 3600
    assert replay_server.hits("/missing") == 1 and replay_server.hits("/later") == 1
