"""HTTP access to Reddit: anonymous public JSON, or app-only OAuth.

Why plain HTTP and not PRAW: see ``docs/reddit.md``. In short, the anonymous
``.json`` path needs no SDK, one HTTP stack is easier to reason about, and every
request can be pointed at a local replay server in tests. That one stack is
:class:`newsroom.fetch.Fetcher`: every request (the token POST included) goes
through its address guard on every redirect hop, host allowlist, timeouts and
body cap, and ``Retry-After`` is read by its one parser
(:func:`newsroom.fetch.parse_retry_after`). A listing redirected to a private or
link-local address is refused like any feed would be; an oversized body fails
with ``too_large`` instead of filling memory.

    with RedditClient(config, user_agent=ua, credentials=creds,
                      policy=FetchPolicy.from_settings(settings)) as client:
        for resp, page in client.iter_listing("LocalLLaMA", "hot", limit=50):
            ...
        resp = client.get_thread("1j7g9uj", limit=200)

Manners, because Reddit blocks clients that have none:

* a descriptive User-Agent on every request;
* a per-process, per-host pace (``requests_per_minute``) shared by every
  client in the process, so consecutive subreddits don't burst;
* ``X-Ratelimit-Remaining`` / ``X-Ratelimit-Reset``: when the budget is spent,
  wait for the reset if it is short (≤ ``max_wait_s``), otherwise stop with
  :class:`RateLimited` so the caller defers the rest of its work;
* ``429`` + ``Retry-After``: the same rule; never more than a couple of retries.

Credentials: the token is fetched once per (token URL, client id), cached in
the process until shortly before it expires, and refetched once on ``401``.
Neither the secret nor the token is ever logged or put in an error message;
:class:`RedditCredentials` masks both in its repr.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from newsroom.config.sources import RedditConfig
from newsroom.fetch import Fetcher, FetchPolicy
from newsroom.records import FetchResult

from .auth import RedditCredentials, cached_token, clear_tokens, forget_token, remember_token
from .parse import Listing, ParseError, parse_listing

log = logging.getLogger("newsroom.reddit")

#: Retry-After assumed when a 429 carries none (Reddit's window is 10 minutes).
DEFAULT_RETRY_AFTER_S = 60.0
MAX_PAGE = 100  # Reddit serves at most 100 items per listing page
MAX_REDIRECTS = 3  # an unknown subreddit redirects once (to a search); more is a misconfiguration
#: Fetcher errors that are timeouts, and those reported under their own name (the rest: network_error).
_TIMEOUTS = frozenset({"timeout", "total_timeout"})
_REDIRECTS = frozenset({"too_many_redirects", "redirect_loop"})
_NAMED = frozenset({"blocked_address", "blocked_scheme", "blocked_credentials", "host_not_allowed",
                    "too_large", "invalid_url", "tls_error", "decoding_error"})


class RedditError(Exception):
    """A request failed; ``reason`` is short and machine-readable
    (``forbidden_quarantined``, ``not_found``, ``http_503``, ``html_not_json``…)."""

    def __init__(self, reason: str, *, status: int | None = None, detail: str | None = None, url: str | None = None):
        self.reason, self.status, self.detail, self.url = reason, status, detail, url
        super().__init__(f"{reason}" + (f" (HTTP {status})" if status else "") + (f": {detail}" if detail else ""))


class RateLimited(RedditError):
    """The rate budget is spent for longer than we are willing to wait."""

    def __init__(self, retry_after_s: float, *, status: int | None = None, url: str | None = None):
        self.retry_after_s = retry_after_s
        super().__init__("rate_limited", status=status, url=url,
                         detail=f"budget spent, resets in {retry_after_s:.0f}s")


@dataclass
class ApiResponse:
    """One successful response: decoded JSON in ``data`` (``None`` for the RSS document).
    ``url`` is the final URL, after redirects; ``headers`` are lower-cased."""

    url: str
    status: int
    body: bytes
    data: Any
    content_type: str
    elapsed_ms: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HostBudget:
    """Request pacing and Reddit's advertised budget for one host, shared by every
    client in the process (an Airflow worker running several mapped tasks in a
    row keeps one budget). Across processes the Airflow pool ``reddit_api``
    bounds concurrency and Reddit's own headers are the shared truth."""

    interval_s: float
    next_slot: float = 0.0
    remaining: float | None = None
    reset_at: float | None = None  # monotonic time the advertised budget resets
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reserve(self) -> float:
        """Seconds to sleep before the next request may go (and claim that slot)."""
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval_s
            return slot - now

    def spent_for(self) -> float:
        """Seconds until the advertised budget resets, 0 when requests may go."""
        with self.lock:
            if self.remaining is None or self.remaining >= 1 or self.reset_at is None:
                return 0.0
            return max(0.0, self.reset_at - time.monotonic())

    def note(self, remaining: float | None, reset_s: float | None) -> None:
        with self.lock:
            if remaining is not None:
                self.remaining = remaining
                self.reset_at = time.monotonic() + (reset_s if reset_s is not None else DEFAULT_RETRY_AFTER_S)
            if self.remaining is not None and self.reset_at is not None and time.monotonic() >= self.reset_at:
                self.remaining = None

    def exhaust(self, for_s: float) -> None:
        """After a 429: nobody in this process asks again before ``for_s``."""
        with self.lock:
            self.remaining = 0
            self.reset_at = time.monotonic() + for_s


_budgets: dict[tuple[str, float], HostBudget] = {}
_budgets_lock = threading.Lock()


def host_budget(host: str, per_minute: float) -> HostBudget:
    with _budgets_lock:
        key = (host, per_minute)
        if key not in _budgets:
            _budgets[key] = HostBudget(interval_s=60.0 / per_minute)
        return _budgets[key]


def reset_process_state() -> None:
    """Forget cached tokens and budgets (tests; a fresh worker process)."""
    with _budgets_lock:
        _budgets.clear()
    clear_tokens()


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_reason(status: int, body: bytes, content_type: str) -> tuple[str, str | None]:
    """Name a 403/404 the way an operator needs it: quarantined, private, banned…"""
    data: Any = None
    if body[:1] in (b"{", b"["):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    why = str(data.get("reason") or "").lower() if isinstance(data, dict) else ""
    msg = str(data.get("message") or "") if isinstance(data, dict) else ""
    if status == 403:
        if why:
            return f"forbidden_{why}", msg or None  # quarantined | private | gold_only | banned …
        if data is None and ("html" in content_type or body.lstrip()[:1] == b"<"):
            return "forbidden_blocked", "HTML 403 (network-level block)"
        return "forbidden", msg or None
    if status == 404:
        return ("banned", msg or None) if why == "banned" else ("not_found", msg or None)
    if status == 451:
        return "unavailable_legal", msg or None
    return f"http_{status}", msg or None


def _raise_for_fetch_error(resp: FetchResult, url: str) -> None:
    """Turn a request that got no HTTP answer (refused by the guard, timed out, too large…)
    into a :class:`RedditError`; an HTTP error status is left to the caller."""
    if resp.error is None or (resp.status is not None and resp.error.startswith("http_")):
        return
    if resp.error in _TIMEOUTS:
        raise RedditError("timeout", url=url, detail=resp.error_detail)
    if resp.error in _REDIRECTS:
        raise RedditError("too_many_redirects", url=url, detail=resp.error_detail)
    if resp.error in _NAMED:
        raise RedditError(resp.error, status=resp.status, url=url, detail=resp.error_detail)
    raise RedditError("network_error", url=url, detail=f"{resp.error}: {resp.error_detail}")


class RedditClient:
    """A small, polite Reddit API client (see the module docstring)."""

    def __init__(self, config: RedditConfig, *, user_agent: str, credentials: RedditCredentials | None = None,
                 policy: FetchPolicy | None = None, max_retries: int = 2, server_error_backoff_s: float = 1.0):
        """``policy`` is the deployment's fetch policy (``FetchPolicy.from_settings``): its
        address guard, allowlist and body cap apply; the user agent, timeouts and redirect
        limit are Reddit's (``config``). Without one, the guard's defaults (public
        addresses only)."""
        self.config = config
        self.credentials = credentials
        self.base_url = (config.oauth_base_url if credentials else config.base_url).rstrip("/")
        self.public_url = config.base_url.rstrip("/")
        per_minute = config.oauth_requests_per_minute if credentials else config.requests_per_minute
        api = urlsplit(self.base_url)
        self.budget = host_budget(f"{api.hostname}:{api.port}", per_minute)
        self.max_wait_s = config.max_wait_s
        self.max_retries = max_retries
        self.server_error_backoff_s = server_error_backoff_s
        self.requests = 0  # every HTTP request this client made (token requests included)
        self.token_requests = 0
        self.waited_s = 0.0
        base = policy or FetchPolicy(user_agent=user_agent)
        self.policy = base.model_copy(update={
            "user_agent": config.user_agent or user_agent,
            "connect_timeout": config.timeout_s,
            "read_timeout": config.timeout_s,
            "total_timeout": max(base.total_timeout, config.timeout_s),
            "max_redirects": min(base.max_redirects, MAX_REDIRECTS),
        })
        self._http = Fetcher(self.policy)

    def __repr__(self) -> str:
        return f"RedditClient(base_url={self.base_url!r}, oauth={self.credentials is not None})"

    # -- lifecycle --------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RedditClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- OAuth ------------------------------------------------------------
    def _token(self, *, refresh: bool = False) -> str:
        assert self.credentials is not None
        key = self.credentials.cache_key(self.config.token_url)
        if refresh:
            forget_token(key)
        else:
            cached = cached_token(key)
            if cached:
                return cached
        self.requests += 1
        self.token_requests += 1
        resp = self._http.post(
            self.config.token_url,
            data={"grant_type": "client_credentials"},
            auth=(self.credentials.client_id.get_secret_value(), self.credentials.client_secret.get_secret_value()),
            kind="reddit_token",
        )
        if resp.error is not None and not resp.error.startswith("http_"):
            # No usable answer (refused by the guard, timed out, above the cap, a redirect): say which.
            raise RedditError("oauth_failed", status=resp.status, detail=f"{resp.error}: {resp.error_detail}")
        if resp.status != 200:
            # The body of a failed token request is not echoed: it may quote what we sent.
            raise RedditError("oauth_failed", status=resp.status, detail="token endpoint refused the credentials")
        try:
            payload = json.loads(resp.body)
            token = str(payload["access_token"])
            expires_in = float(payload.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise RedditError("oauth_failed", status=resp.status, detail="token response without access_token") from None
        remember_token(key, token, expires_in)
        log.info("reddit: obtained an app-only OAuth token (expires in %.0fs)", expires_in)
        return token

    # -- requests ---------------------------------------------------------
    def _wait_for_budget(self, url: str) -> None:
        spent = self.budget.spent_for()
        if spent > 0:
            if spent > self.max_wait_s:
                raise RateLimited(spent, url=url)
            log.info("reddit: rate budget spent, waiting %.1fs for the reset", spent)
            self._sleep(spent)
        pause = self.budget.reserve()
        if pause > 0:
            self._sleep(pause)

    def _sleep(self, seconds: float) -> None:
        self.waited_s += seconds
        time.sleep(seconds)

    def get_json(self, path: str, params: dict[str, Any] | None = None, *, public: bool = False) -> ApiResponse:
        """GET ``path`` (relative to the API host) and decode JSON, or raise :class:`RedditError`."""
        resp = self._get(path, params, public=public)
        body = resp.body
        head = body.lstrip()[:1]
        if head == b"<" or resp.content_type in ("text/html", "application/xhtml+xml"):
            raise RedditError("html_not_json", status=resp.status, url=resp.url,
                              detail=f"got {resp.content_type or 'HTML'} instead of JSON")
        try:
            resp.data = json.loads(body)
        except ValueError:
            raise RedditError("invalid_json", status=resp.status, url=resp.url,
                              detail=f"{len(body)} bytes of {resp.content_type or 'unknown type'}") from None
        return resp

    def get_bytes(self, path: str, params: dict[str, Any] | None = None) -> ApiResponse:
        """GET a non-JSON document (the RSS fallback) from the public host (``data`` is None)."""
        return self._get(path, params, public=True)

    def _get(self, path: str, params: dict[str, Any] | None, *, public: bool) -> ApiResponse:
        base = self.public_url if public or not self.credentials else self.base_url
        url = f"{base}{path}"
        target = f"{url}?{urlencode(list(params.items()))}" if params else url
        use_oauth = self.credentials is not None and not public
        refreshed = False
        attempt = 0
        while True:
            self._wait_for_budget(url)
            headers = {"Authorization": f"bearer {self._token()}"} if use_oauth else {}
            self.requests += 1
            resp = self._http.get(target, headers=headers, kind="reddit")
            _raise_for_fetch_error(resp, url)
            self.budget.note(_float(resp.headers.get("x-ratelimit-remaining")),
                             _float(resp.headers.get("x-ratelimit-reset")))
            status = resp.status
            final = resp.final_url or target
            log.debug("reddit: GET %s → %s (remaining %s)", final.split("?", 1)[0], status,
                      resp.headers.get("x-ratelimit-remaining", "?"))
            if status == 200 and urlsplit(final).path.rstrip("/").removesuffix(".json").endswith("/subreddits/search") \
                    and "/subreddits/search" not in path:
                # Reddit answers an unknown subreddit by redirecting to a search.
                raise RedditError("not_found", status=404, url=url, detail="redirected to subreddit search")
            if 200 <= status < 300:
                return ApiResponse(url=final, status=status, body=resp.body, data=None,
                                   content_type=resp.content_type, elapsed_ms=resp.elapsed_ms, headers=resp.headers)
            if status == 401 and use_oauth and not refreshed:
                log.info("reddit: token rejected (401), fetching a new one")
                self._token(refresh=True)
                refreshed = True
                continue
            if status == 429:
                wait = resp.retry_after_s  # the fetcher's one Retry-After parser
                if wait is None:
                    wait = _float(resp.headers.get("x-ratelimit-reset")) or DEFAULT_RETRY_AFTER_S
                self.budget.exhaust(wait)
                if wait > self.max_wait_s or attempt >= self.max_retries:
                    raise RateLimited(wait, status=429, url=url)
                attempt += 1
                log.info("reddit: 429, waiting %.1fs (Retry-After) before retry %d", wait, attempt)
                continue  # _wait_for_budget sleeps until the reset
            if status >= 500 and attempt < min(1, self.max_retries):
                attempt += 1
                self._sleep(self.server_error_backoff_s)
                continue
            if status == 401:
                raise RedditError("unauthorized", status=401, url=url)
            # The fetcher keeps at most policy.max_error_body_bytes (64 KiB) of an error body.
            reason, detail = _error_reason(status, resp.body, resp.headers.get("content-type", "").lower())
            raise RedditError(reason, status=status, url=url, detail=detail)

    # -- Reddit endpoints -------------------------------------------------
    def _path(self, path: str) -> str:
        # The public host wants ".json"; the OAuth host serves JSON without it.
        return path if self.credentials else f"{path}.json"

    def iter_listing(self, subreddit: str, listing: str = "hot", *, limit: int = 25,
                     time_filter: str | None = None) -> Iterator[tuple[ApiResponse, Listing]]:
        """Listing pages of ``/r/SUB/LISTING`` following ``after`` until ``limit`` posts."""
        got, after = 0, None
        while got < limit:
            params: dict[str, Any] = {"limit": min(MAX_PAGE, limit - got), "raw_json": 1}
            if listing in ("top", "controversial") and time_filter:
                params["t"] = time_filter
            if after:
                params["after"] = after
                params["count"] = got
            resp = self.get_json(self._path(f"/r/{subreddit}/{listing}"), params)
            try:
                page = parse_listing(resp.data)
            except ParseError as exc:
                raise RedditError(exc.reason, status=resp.status, url=resp.url, detail=str(exc)) from None
            yield resp, page
            got += len(page.posts) + page.skipped
            after = page.after
            if not after or not page.posts:
                break

    def get_thread(self, post_id: str, *, limit: int = 200, sort: str = "top") -> ApiResponse:
        """``/comments/ID``: the submission and (up to ``limit``) comments, best first."""
        return self.get_json(self._path(f"/comments/{post_id}"), {"limit": limit, "sort": sort, "raw_json": 1})

    def get_rss(self, subreddit: str, *, limit: int = 25) -> ApiResponse:
        """``/r/SUB/.rss`` from the public host (the OAuth host has no RSS)."""
        return self.get_bytes(f"/r/{subreddit}/.rss", {"limit": min(MAX_PAGE, limit)})
