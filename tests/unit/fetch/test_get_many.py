"""get_many: concurrency limits observed by the server itself, not by the client."""

from __future__ import annotations

import threading
import time
from collections import Counter

from newsroom.fetch import Fetcher, FetchPolicy

from .conftest import UA


class InFlight:
    """A route handler that records how many requests are being served at once,
    overall and per Host header."""

    def __init__(self, hold_s: float = 0.25):
        self.hold_s = hold_s
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.total_now = 0
        self.total_peak = 0

    def __call__(self, handler):
        host = handler.headers["Host"].rsplit(":", 1)[0]
        with self.lock:
            self.now[host] += 1
            self.total_now += 1
            self.peak[host] = max(self.peak[host], self.now[host])
            self.total_peak = max(self.total_peak, self.total_now)
        time.sleep(self.hold_s)
        with self.lock:
            self.now[host] -= 1
            self.total_now -= 1
        return 200, {"Content-Type": "text/plain"}, handler.path.encode()


def _policy(**kw) -> FetchPolicy:
    base = dict(user_agent=UA, connect_timeout=2.0, read_timeout=2.0, total_timeout=5.0, allow_private_networks=True)
    base.update(kw)
    return FetchPolicy(**base)


def test_per_host_limit_is_respected(replay_server):
    counter = InFlight()
    replay_server.add("/p", handler=counter)
    urls = [replay_server.url(f"/p?i={i}") for i in range(10)]
    with Fetcher(_policy(per_host=2, concurrency=8)) as f:
        results = f.get_many(urls, check_robots=False)
    assert set(results) == set(urls)
    assert all(r.ok and r.body == f"/p?i={i}".encode() for i, r in enumerate(results[u] for u in urls))
    assert counter.peak["127.0.0.1"] == 2  # reached, never exceeded


def test_global_limit_across_hosts(replay_server):
    # 127.0.0.1 and localhost are two hosts to the fetcher, one server to us.
    counter = InFlight()
    replay_server.add("/p", handler=counter)
    port = replay_server.port
    urls = [f"http://{h}:{port}/p?i={i}" for i in range(8) for h in ("127.0.0.1", "localhost")]
    with Fetcher(_policy(per_host=3, concurrency=4)) as f:
        results = f.get_many(urls, check_robots=False)
    assert len(results) == 16 and all(r.ok for r in results.values())
    assert counter.total_peak == 4
    assert counter.peak["127.0.0.1"] <= 3 and counter.peak["localhost"] <= 3
    assert counter.peak["127.0.0.1"] >= 2 and counter.peak["localhost"] >= 1  # hosts were interleaved


def test_robots_fetched_once_under_concurrency(replay_server, requests_log):
    replay_server.add("/robots.txt", body="User-agent: *\nDisallow: /no\n", delay_s=0.1)
    replay_server.add("/yes", body=b"y")
    replay_server.add("/no", body=b"n")
    urls = [replay_server.url(f"/yes?i={i}") for i in range(6)] + [replay_server.url("/no")]
    log = []
    with Fetcher(_policy(per_host=4), on_request=lambda r, k: log.append(k)) as f:
        results = f.get_many(urls)  # check_robots defaults to True here
    assert replay_server.hits("/robots.txt") == 1
    assert results[replay_server.url("/no")].error == "robots"
    assert sum(r.ok for r in results.values()) == 6
    assert sorted(log) == ["page"] * 6 + ["robots"]


def test_duplicates_and_bad_urls(replay_server):
    replay_server.add("/a", body=b"a")
    a = replay_server.url("/a")
    with Fetcher(_policy()) as f:
        results = f.get_many([a, a, "not a url", "ftp://x.org/f"], check_robots=False)
    assert replay_server.hits("/a") == 1
    assert results[a].body == b"a"
    assert results["not a url"].error == "invalid_url"
    assert results["ftp://x.org/f"].error == "blocked_scheme"


def test_empty_input():
    with Fetcher(_policy()) as f:
        assert f.get_many([]) == {}


def test_on_result_reports_each_page_as_it_arrives_in_the_calling_thread(replay_server):
    # A slow page first: the fast ones are reported before it, each once, as get_many returns them.
    replay_server.add("/slow", body=b"slow", delay_s=0.5)
    replay_server.add("/fast", body=b"fast")
    urls = [replay_server.url("/slow")] + [replay_server.url(f"/fast?i={i}") for i in range(4)] + ["not a url"]
    seen: list[tuple[str, object, str]] = []
    with Fetcher(_policy(per_host=2, concurrency=4)) as f:
        results = f.get_many(urls, check_robots=False,
                             on_result=lambda u, r: seen.append((u, r, threading.current_thread().name)))
    assert sorted(u for u, _, _ in seen) == sorted(urls)
    assert all(results[u] is r for u, r, _ in seen)
    assert {name for _, _, name in seen} == {threading.current_thread().name}
    assert seen[-1][0] == replay_server.url("/slow")  # reported when it came, not in input order
