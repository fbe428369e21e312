"""robots.txt: honoured for our user agent, fetched once per host, failures allow."""

from __future__ import annotations

import pytest

from newsroom.fetch import Fetcher, FetchPolicy

from .conftest import UA

ROBOTS = """\
User-agent: newsroom-test
Disallow: /private
Crawl-delay: 2.5

User-agent: *
Disallow: /
"""


def _policy(**kw) -> FetchPolicy:
    base = dict(user_agent=UA, connect_timeout=2.0, read_timeout=2.0, total_timeout=5.0, allow_private_networks=True)
    base.update(kw)
    return FetchPolicy(**base)


def test_disallowed_path_is_refused_and_robots_fetched_once(replay_server, fetcher, requests_log):
    replay_server.add("/robots.txt", body=ROBOTS, content_type="text/plain")
    replay_server.add("/news/1", body=b"one")
    replay_server.add("/private/x", body=b"secret")

    assert fetcher.get(replay_server.url("/news/1"), check_robots=True).body == b"one"
    assert fetcher.get(replay_server.url("/news/1"), check_robots=True).ok
    r = fetcher.get(replay_server.url("/private/x"), check_robots=True)

    assert r.error == "robots" and r.body == b"" and "robots.txt" in r.error_detail
    assert replay_server.hits("/private/x") == 0
    assert replay_server.hits("/robots.txt") == 1
    assert [k for k, *_ in requests_log] == ["robots", "page", "page"]


def test_other_agents_rules_do_not_apply_to_us(replay_server):
    # '*' disallows everything, but our own group only disallows /private.
    replay_server.add("/robots.txt", body=ROBOTS)
    replay_server.add("/a", body=b"a")
    with Fetcher(_policy(user_agent="someone-else/1.0")) as other:
        assert other.get(replay_server.url("/a"), check_robots=True).error == "robots"
    with Fetcher(_policy()) as us:
        assert us.get(replay_server.url("/a"), check_robots=True).ok


def test_robots_only_when_asked(replay_server, fetcher):
    replay_server.add("/robots.txt", body=ROBOTS)
    replay_server.add("/private/x", body=b"x")
    assert fetcher.get(replay_server.url("/private/x")).ok  # check_robots defaults to False
    assert replay_server.hits("/robots.txt") == 0
    with Fetcher(_policy(respect_robots=False)) as f:
        assert f.get(replay_server.url("/private/x"), check_robots=True).ok
    assert replay_server.hits("/robots.txt") == 0


@pytest.mark.parametrize("status", [404, 410, 403, 500, 503])
def test_unreadable_robots_allows(replay_server, fetcher, status):
    replay_server.add("/robots.txt", status=status, body=b"User-agent: *\nDisallow: /\n")
    replay_server.add("/page", body=b"p")
    r = fetcher.get(replay_server.url("/page"), check_robots=True)
    assert r.ok and r.body == b"p"
    assert replay_server.hits("/robots.txt") == 1


def test_robots_timeout_allows(replay_server):
    replay_server.add("/robots.txt", body=b"User-agent: *\nDisallow: /\n", delay_s=1.0)
    replay_server.add("/page", body=b"p")
    with Fetcher(_policy(read_timeout=0.3)) as f:
        r = f.get(replay_server.url("/page"), check_robots=True)
    assert r.ok


def test_robots_cache_expires(replay_server):
    replay_server.add("/robots.txt", body=ROBOTS)
    replay_server.add("/a", body=b"a")
    with Fetcher(_policy(robots_ttl_s=0)) as f:
        f.get(replay_server.url("/a"), check_robots=True)
        f.get(replay_server.url("/a"), check_robots=True)
    assert replay_server.hits("/robots.txt") == 2


def test_robots_redirect_is_followed(replay_server, fetcher):
    replay_server.redirect("/robots.txt", "/static/robots.txt", status=301)
    replay_server.add("/static/robots.txt", body=ROBOTS)
    replay_server.add("/private/x", body=b"x")
    assert fetcher.get(replay_server.url("/private/x"), check_robots=True).error == "robots"


def test_redirect_into_disallowed_path_is_refused(replay_server, fetcher):
    replay_server.add("/robots.txt", body=ROBOTS)
    replay_server.redirect("/short", "/private/long")
    replay_server.add("/private/long", body=b"x")
    r = fetcher.get(replay_server.url("/short"), check_robots=True)
    assert r.error == "robots" and replay_server.hits("/private/long") == 0


def test_crawl_delay_is_exposed(replay_server, fetcher):
    replay_server.add("/robots.txt", body=ROBOTS)
    assert fetcher.crawl_delay(replay_server.url("/anything")) == 2.5
    replay_server.add("/robots.txt", status=404)
    with Fetcher(_policy()) as f:
        assert f.crawl_delay(replay_server.url("/anything")) is None
