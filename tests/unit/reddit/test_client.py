"""RedditClient against a real HTTP server on 127.0.0.1 replaying the corpus."""

import email.utils
import logging
import time
from datetime import datetime, timedelta, timezone

import pytest

from newsroom.config.sources import RedditConfig
from newsroom.fetch import FetchPolicy
from newsroom.reddit.auth import RedditCredentials
from newsroom.reddit.client import RateLimited, RedditClient, RedditError, reset_process_state
from tests.reddit_replay import RedditReplay

UA = "newsroom-test/1.0 (by /u/newsroom-tests)"
PAGE1 = "listings/r_all_new_2021-01-18_page1.json"
PAGE2 = "listings/r_all_new_2021-01-18_page2_before.json"
CLIENT_ID, SECRET = "cl1ent-1d-XYZ", "s3cr3t-PQR-value"


@pytest.fixture(autouse=True)
def _fresh_process_state():
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture
def rr(replay_server, corpus):
    return RedditReplay(replay_server, corpus)


def config(server, **kw) -> RedditConfig:
    base = server.base_url
    values = dict(base_url=base, oauth_base_url=base, token_url=f"{base}/api/v1/access_token",
                  requests_per_minute=60000, oauth_requests_per_minute=60000, max_wait_s=2, timeout_s=5)
    values.update(kw)
    return RedditConfig(**values)


#: The replay server is on 127.0.0.1: open loopback the way tests open it for every fetch.
LOOPBACK = FetchPolicy(user_agent=UA, allow_private_networks=True)


def client(server, credentials=None, policy=LOOPBACK, **kw) -> RedditClient:
    return RedditClient(config(server, **kw), user_agent=UA, credentials=credentials, policy=policy,
                        server_error_backoff_s=0.05)


def test_listing_sends_descriptive_user_agent_and_public_json_path(rr, replay_server):
    rr.listing("askreddit", "hot", "listings/r_askreddit_hot_2020-07-10.json")
    with client(replay_server) as c:
        pages = list(c.iter_listing("askreddit", "hot", limit=25))
    assert len(pages) == 1 and len(pages[0][1].posts) == 100  # the recorded page holds 100
    method, full, headers = replay_server.requests[0]
    assert method == "GET" and full.startswith("/r/askreddit/hot.json?") and "limit=25" in full
    assert headers["user-agent"] == UA


def test_pagination_follows_after_up_to_the_limit(rr, replay_server):
    rr.listing("all", "new", PAGE1, next_file=PAGE2)
    with client(replay_server) as c:
        pages = list(c.iter_listing("all", "new", limit=150))
    assert [len(p.posts) for _, p in pages] == [100, 7]
    assert replay_server.hits("/r/all/new.json") == 2
    second = replay_server.requests[1][1]
    assert "after=t3_kzj64n" in second and "limit=50" in second  # only what is still needed
    ids = [post.id for _, p in pages for post in p.posts]
    assert len(ids) == len(set(ids)) == 107


def test_pagination_stops_at_the_limit(rr, replay_server):
    rr.listing("all", "new", PAGE1, next_file=PAGE2)
    with client(replay_server) as c:
        pages = list(c.iter_listing("all", "new", limit=100))
    assert len(pages) == 1 and replay_server.hits("/r/all/new.json") == 1


def test_top_listing_sends_time_filter(rr, replay_server):
    rr.listing("askreddit", "top", "listings/r_askreddit_hot_2020-07-10.json")
    with client(replay_server) as c:
        list(c.iter_listing("askreddit", "top", limit=10, time_filter="week"))
    assert "t=week" in replay_server.requests[0][1]


@pytest.mark.parametrize("file,reason", [
    ("errors/r_tiananmenaquarefalse_new_403_quarantined_2020-07-11.json", "forbidden_quarantined"),
    ("errors/r_ferguson_hot_403_quarantined_2016-12-18.json", "forbidden"),
])
def test_403_bodies_name_their_reason(rr, replay_server, file, reason):
    path = rr.file(file)
    sub, listing = path.split("/")[2], path.split("/")[3].removesuffix(".json")
    with client(replay_server) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing(sub, listing))
    assert exc.value.reason == reason and exc.value.status == 403


@pytest.mark.parametrize("status,body,ctype,reason", [
    (403, b'{"reason": "private", "message": "Forbidden", "error": 403}', "application/json", "forbidden_private"),
    (404, b'{"reason": "banned", "message": "Not Found", "error": 404}', "application/json", "banned"),
    (404, b'{"message": "Not Found", "error": 404}', "application/json", "not_found"),
    (403, b"<html><body>blocked</body></html>", "text/html", "forbidden_blocked"),
    (200, b"<!doctype html><html><body>whoa there, pardner!</body></html>", "text/html", "html_not_json"),
    (200, b"{not json", "application/json", "invalid_json"),
])
def test_error_responses(replay_server, status, body, ctype, reason):
    replay_server.add("/r/sub/hot.json", body=body, status=status, content_type=ctype)
    with client(replay_server) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing("sub", "hot"))
    assert exc.value.reason == reason


def test_server_error_is_retried_once_then_reported(replay_server):
    replay_server.add("/r/sub/hot.json", body=b"upstream down", status=503, content_type="text/plain")
    with client(replay_server) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing("sub", "hot"))
    assert exc.value.reason == "http_503"
    assert replay_server.hits("/r/sub/hot.json") == 2


def test_unknown_subreddit_redirect_to_search_is_not_found(replay_server):
    replay_server.redirect("/r/nosuchsub/hot.json", replay_server.url("/subreddits/search.json?q=nosuchsub"))
    replay_server.add("/subreddits/search.json", body=b'{"kind": "Listing", "data": {"children": []}}',
                      content_type="application/json")
    with client(replay_server) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing("nosuchsub", "hot"))
    assert exc.value.reason == "not_found"


def test_429_with_short_retry_after_is_waited_out(rr, replay_server):
    body = rr.body("listings/r_askreddit_hot_2020-07-10.json")
    calls = []

    def handler(req):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return 429, {"Retry-After": "1", "Content-Type": "application/json"}, b'{"message": "Too Many Requests", "error": 429}'
        return 200, {"Content-Type": "application/json"}, body

    replay_server.add("/r/askreddit/hot.json", handler=handler)
    with client(replay_server) as c:
        pages = list(c.iter_listing("askreddit", "hot"))
    assert len(pages[0][1].posts) == 100
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.95  # waited, did not hammer


def test_429_with_long_retry_after_defers_without_hammering(replay_server):
    replay_server.add("/r/a/hot.json", status=429, body=b'{"error": 429}', content_type="application/json",
                      headers={"Retry-After": "600"})
    replay_server.add("/r/b/hot.json", body=b'{"kind": "Listing", "data": {"children": []}}',
                      content_type="application/json")
    with client(replay_server) as c:
        with pytest.raises(RateLimited) as exc:
            list(c.iter_listing("a", "hot"))
        assert exc.value.reason == "rate_limited" and exc.value.retry_after_s == pytest.approx(600)
        # The budget is known to be spent: the next subreddit defers without a request.
        with pytest.raises(RateLimited):
            list(c.iter_listing("b", "hot"))
    # A second client in the same process (the next mapped task) also holds back.
    with client(replay_server) as c2, pytest.raises(RateLimited):
        list(c2.iter_listing("b", "hot"))
    assert replay_server.hits("/r/a/hot.json") == 1 and replay_server.hits("/r/b/hot.json") == 0


def test_ratelimit_headers_short_reset_waits(rr, replay_server):
    """A spent budget with a short reset holds the next request back until the reset.

    Measured where it matters, at the server: the second request must not *arrive* before
    the reset the first response announced (1 s after that response, so more than 1 s
    after the first arrival). Only a lower bound: a loaded machine makes the gap longer,
    never shorter, so the test cannot flake; a client that did not wait sends the second
    request milliseconds after the first and fails it."""
    body = rr.body("listings/r_askreddit_hot_2020-07-10.json")
    arrivals: list[float] = []

    def handler(req):
        arrivals.append(time.monotonic())
        return 200, {"Content-Type": "application/json", "X-Ratelimit-Remaining": "0.0",
                     "X-Ratelimit-Used": "100", "X-Ratelimit-Reset": "1"}, body

    replay_server.add("/r/askreddit/hot.json", handler=handler)
    with client(replay_server) as c:
        list(c.iter_listing("askreddit", "hot"))
        list(c.iter_listing("askreddit", "hot"))
    assert len(arrivals) == 2 and replay_server.hits("/r/askreddit/hot.json") == 2
    assert arrivals[1] - arrivals[0] >= 0.99  # the budget's reset, honoured
    assert c.requests == 2  # waited, did not retry or hammer


def test_ratelimit_headers_long_reset_defers(rr, replay_server):
    body = rr.body("listings/r_askreddit_hot_2020-07-10.json")
    replay_server.add("/r/askreddit/hot.json", body=body, content_type="application/json",
                      headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "300"})
    with client(replay_server) as c:
        list(c.iter_listing("askreddit", "hot"))
        with pytest.raises(RateLimited):
            list(c.iter_listing("askreddit", "hot"))
    assert replay_server.hits("/r/askreddit/hot.json") == 1


def test_pacing_spaces_requests(rr, replay_server):
    rr.listing("askreddit", "hot", "listings/r_askreddit_hot_2020-07-10.json")
    with client(replay_server, requests_per_minute=300) as c:  # one request per 0.2 s
        t0 = time.monotonic()
        for _ in range(4):
            list(c.iter_listing("askreddit", "hot"))
        assert time.monotonic() - t0 >= 0.55


def test_oauth_token_is_fetched_once_cached_and_refreshed_on_401(rr, replay_server):
    rr.token_endpoint(client_id=CLIENT_ID, client_secret=SECRET)
    rr.listing("askreddit", "hot", "listings/r_askreddit_hot_2020-07-10.json")
    creds = RedditCredentials(client_id=CLIENT_ID, client_secret=SECRET)
    with client(replay_server, credentials=creds) as c:
        list(c.iter_listing("askreddit", "hot"))
        list(c.iter_listing("askreddit", "hot"))
    with client(replay_server, credentials=creds) as c2:  # same process: token reused
        list(c2.iter_listing("askreddit", "hot"))
    assert rr.tokens_issued == 1
    # OAuth host form: no .json, bearer token
    paths = [full for _, full, _ in replay_server.requests]
    assert any(p.startswith("/r/askreddit/hot?") for p in paths)
    assert replay_server.requests[1][2]["authorization"] == "bearer token-1"

    rr.revoke_tokens()  # Reddit rejects the cached token: one 401, a new token, the request again
    with client(replay_server, credentials=creds) as c3:
        pages = list(c3.iter_listing("askreddit", "hot"))
    assert len(pages[0][1].posts) == 100 and rr.tokens_issued == 2
    assert replay_server.requests[-1][2]["authorization"] == "bearer token-2"


def test_bad_credentials_fail_with_reason_and_no_secret(rr, replay_server):
    rr.token_endpoint(client_id=CLIENT_ID, client_secret=SECRET)
    rr.listing("askreddit", "hot", "listings/r_askreddit_hot_2020-07-10.json")
    creds = RedditCredentials(client_id=CLIENT_ID, client_secret="wrong-" + SECRET)
    with client(replay_server, credentials=creds) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing("askreddit", "hot"))
    assert exc.value.reason == "oauth_failed" and SECRET not in str(exc.value)
    assert replay_server.hits("/r/askreddit/hot") == 0


def test_credentials_never_logged_or_printed(rr, replay_server, caplog, capsys):
    rr.token_endpoint(client_id=CLIENT_ID, client_secret=SECRET)
    rr.listing("askreddit", "hot", "listings/r_askreddit_hot_2020-07-10.json")
    creds = RedditCredentials(client_id=CLIENT_ID, client_secret=SECRET)
    caplog.set_level(logging.DEBUG)
    with client(replay_server, credentials=creds) as c:
        list(c.iter_listing("askreddit", "hot"))
        rr.revoke_tokens()
        list(c.iter_listing("askreddit", "hot"))
        print(repr(c), repr(creds), str(creds))
        logging.getLogger("test").info("creds=%r client=%r", creds, c)
    out = capsys.readouterr()
    text = caplog.text + out.out + out.err
    assert "token" in caplog.text.lower()  # the log does talk about the token…
    for secret in (CLIENT_ID, SECRET, "token-1", "token-2"):  # …never its value
        assert secret not in text



# -- the one HTTP stack: the fetcher's guard, caps and Retry-After parser apply to Reddit too --

def test_redirect_to_a_link_local_address_is_refused(replay_server):
    """Even with private networks open (as in tests), the metadata address stays refused."""
    replay_server.redirect("/r/sub/hot.json", "http://169.254.169.254/latest/meta-data/")
    with client(replay_server) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing("sub", "hot"))
    assert exc.value.reason == "blocked_address" and "metadata" in exc.value.detail
    assert replay_server.hits("/r/sub/hot.json") == 1


def test_redirect_to_a_private_address_is_refused_when_only_reddit_is_exempt(replay_server):
    """Production shape: private networks closed, only the API host exempt (here the replay
    server, as NEWSROOM_ALLOWED_PRIVATE_HOSTS would list it). A redirect into the LAN fails
    before anything is sent there."""
    policy = FetchPolicy(user_agent=UA, allowed_private_hosts=[f"127.0.0.1:{replay_server.port}"])
    replay_server.redirect("/r/sub/hot.json", "http://10.0.0.1/admin")
    with client(replay_server, policy=policy) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing("sub", "hot"))
    assert exc.value.reason == "blocked_address" and "10.0.0.1" in exc.value.detail
    # and with no exemption at all, the loopback API itself is refused: the guard is on
    with client(replay_server, policy=FetchPolicy(user_agent=UA)) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing("sub", "hot"))
    assert exc.value.reason == "blocked_address"
    assert replay_server.hits("/r/sub/hot.json") == 1


def test_oversized_body_fails_with_a_clear_error(rr, replay_server):
    rr.listing("askreddit", "hot", "listings/r_askreddit_hot_2020-07-10.json")
    small = LOOPBACK.model_copy(update={"max_bytes": 50_000})
    with client(replay_server, policy=small) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing("askreddit", "hot"))
    assert exc.value.reason == "too_large" and "50,000-byte cap" in exc.value.detail
    with client(replay_server) as c:  # the default cap (10 MB) takes the same page
        assert len(next(c.iter_listing("askreddit", "hot"))[1].posts) == 100


def test_retry_after_as_an_http_date_is_read_by_the_shared_parser(replay_server):
    """RFC 9110 allows an HTTP date; the fetcher's parser reads it (Reddit's own copy is gone)."""
    when = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=600), usegmt=True)
    replay_server.add("/r/a/hot.json", status=429, body=b'{"error": 429}', content_type="application/json",
                      headers={"Retry-After": when})
    with client(replay_server) as c, pytest.raises(RateLimited) as exc:
        list(c.iter_listing("a", "hot"))
    assert exc.value.retry_after_s == pytest.approx(600, abs=5)
    assert replay_server.hits("/r/a/hot.json") == 1


def test_token_request_goes_through_the_guard(rr, replay_server):
    creds = RedditCredentials(client_id=CLIENT_ID, client_secret=SECRET)
    with client(replay_server, credentials=creds, token_url="http://169.254.169.254/api/v1/access_token") as c, \
            pytest.raises(RedditError) as exc:
        list(c.iter_listing("askreddit", "hot"))
    assert exc.value.reason == "oauth_failed" and "blocked_address" in exc.value.detail
    assert SECRET not in str(exc.value) and replay_server.requests == []


def test_token_redirect_is_not_followed(rr, replay_server):
    """A token endpoint answering 307 would have the credentials re-sent elsewhere: refused."""
    replay_server.redirect("/api/v1/access_token", replay_server.url("/elsewhere"), status=307)
    creds = RedditCredentials(client_id=CLIENT_ID, client_secret=SECRET)
    with client(replay_server, credentials=creds) as c, pytest.raises(RedditError) as exc:
        list(c.iter_listing("askreddit", "hot"))
    assert exc.value.reason == "oauth_failed" and "redirect_not_followed" in exc.value.detail
    assert replay_server.hits("/elsewhere") == 0
