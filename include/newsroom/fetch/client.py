"""The fetcher: one place where newsroom makes HTTP requests.

Every request goes through the same defences, because every URL newsroom fetches was
written by someone else: the address guard on every redirect hop (redirects are
followed by hand for that reason), a wall-clock cap that a byte-dripping server cannot
dodge, a cap on the *decompressed* body enforced while streaming (gzip bombs), and
robots.txt when asked. Network trouble never raises: the caller always gets a
:class:`~newsroom.records.FetchResult` whose ``error`` says what went wrong, so a feed
that times out is recorded, not lost.

    with Fetcher(FetchPolicy.from_settings(settings), on_request=log_row) as f:
        r = f.get(feed_url, etag=old_etag, kind="feed")
        pages = f.get_many(article_urls, kind="page")   # robots.txt honoured, per-host limits
"""

from __future__ import annotations

import base64
import email.utils
import functools
import json as _json
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlencode

import httpcore
import httpx

from newsroom.fetch.decoding import BoundedBody, DecodingFailed, TooLarge, accept_encoding
from newsroom.fetch.guard import BlockedURL, GuardedBackend, HostNotFound, check_url
from newsroom.fetch.policy import FetchPolicy
from newsroom.fetch.robots import RobotsCache
from newsroom.records import FetchResult

__all__ = ["Fetcher", "OnRequest", "REDIRECT_STATUSES", "parse_retry_after"]

log = logging.getLogger(__name__)

OnRequest = Callable[[FetchResult, str], None]
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_REFUSED_AT_CONNECT = frozenset({"blocked_address", "blocked_scheme"})
# Headers a caller may pass that must not follow a redirect to another origin.
_ORIGIN_BOUND = ("authorization", "cookie", "proxy-authorization")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Returns ``None`` when absent or unparseable; a date in the past gives ``0.0``.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for all fetchers: loading the CA bundle costs ~40 ms,
    and an SSLContext may be shared by any number of connections and threads."""
    return httpx.create_ssl_context(trust_env=False)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the connection pool rebuilt on :class:`GuardedBackend`,
    so every TCP connection is made to an address the guard has checked."""

    def __init__(self, policy: FetchPolicy, limits: httpx.Limits):
        ctx = _ssl_context()
        super().__init__(verify=ctx, limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ctx,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedBackend(policy.allow_private_networks, policy.allowed_private_hosts),
        )


class _HopError(Exception):
    def __init__(self, error: str, detail: str, status: int | None = None):
        super().__init__(detail)
        self.error, self.detail, self.status = error, detail, status


def _is_tls(exc: BaseException) -> bool:
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 10:
        if isinstance(e, ssl.SSLError):
            return True
        e = e.__cause__ or e.__context__
        seen += 1
    text = str(exc)
    return "SSL" in text or "CERTIFICATE" in text or "TLS" in text


def _flat_headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in headers.keys():
        out[key.lower()] = ", ".join(headers.get_list(key))
    return out


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class Fetcher:
    """Synchronous, thread-safe HTTP client for feeds, pages and robots.txt.

    One ``httpx.Client`` (connection pool) is shared by all threads. Cookies are not
    kept: each fetch is stateless, so results do not depend on what was fetched
    before. Proxies from the environment are ignored on purpose: a proxy would make
    the address guard check the proxy rather than the destination.

    ``on_request(result, kind)`` is called once per HTTP request actually sent —
    every redirect hop and every robots.txt fetch (kind ``"robots"``) — so the
    pipeline can write one ``fetch_log`` row per request. For a hop, ``result.url`` is
    the URL of that hop. Refusals made before any request (address guard, robots
    disallow, bad URL) send nothing and call nothing: the caller sees them in the
    returned result.
    """

    def __init__(self, policy: FetchPolicy, on_request: OnRequest | None = None):
        self.policy = policy
        self._on_request = on_request
        limits = httpx.Limits(
            max_connections=max(100, policy.concurrency * 4),
            max_keepalive_connections=max(20, policy.concurrency * 2),
        )
        self._client = httpx.Client(
            transport=_GuardedTransport(policy, limits),
            follow_redirects=False,
            trust_env=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": accept_encoding()},
        )
        self.robots = RobotsCache(self, ttl_s=policy.robots_ttl_s)

    # -- lifecycle ----------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- public API ---------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        headers: dict[str, str] | None = None,
        kind: str = "page",
        check_robots: bool = False,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """GET ``url`` following redirects by hand; never raises for network problems.

        ``etag`` / ``last_modified`` make it a conditional GET (a 304 gives
        ``not_modified=True`` and no error). ``check_robots`` consults the host's
        robots.txt (cached) before every hop. ``max_bytes`` overrides the policy cap.
        """
        started = time.monotonic()
        deadline = started + self.policy.total_timeout
        cap = max_bytes if max_bytes is not None else self.policy.max_bytes
        result = FetchResult(url=url)
        try:
            self._follow(result, url, deadline, cap, etag, last_modified, accept, headers, kind, check_robots)
        finally:
            result.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        return result

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        kind: str = "api",
        max_bytes: int | None = None,
    ) -> FetchResult:
        """POST to ``url`` once; never raises for network problems.

        For API calls (an OAuth token request, a model endpoint), not for crawling: the
        same address guard, host allowlist, timeouts and body cap as :meth:`get`, but the
        request is sent exactly once and a redirect is *not* followed — re-sending a body
        (and credentials) to wherever a ``Location`` points is how secrets leak, so a 3xx
        comes back with ``error="redirect_not_followed"``. ``json`` sends a JSON body,
        ``data`` a form body (``application/x-www-form-urlencoded``); at most one of them.
        ``auth`` is ``(user, password)`` for HTTP Basic. robots.txt is not consulted.
        """
        if json is not None and data is not None:
            raise ValueError("post() takes json= or data=, not both")
        req_headers = httpx.Headers({"Accept": "*/*"})
        content: bytes | None = None
        if json is not None:
            content = _json.dumps(json, ensure_ascii=False).encode("utf-8")
            req_headers["Content-Type"] = "application/json"
        elif data is not None:
            content = urlencode(list(data.items())).encode("ascii")
            req_headers["Content-Type"] = "application/x-www-form-urlencoded"
        req_headers.update(dict(headers or {}))
        if auth is not None:
            pair = f"{auth[0]}:{auth[1]}".encode("utf-8")
            req_headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        started = time.monotonic()
        deadline = started + self.policy.total_timeout
        cap = max_bytes if max_bytes is not None else self.policy.max_bytes
        result = FetchResult(url=url)
        try:
            parsed = self._guard(result, url, url)
            location = None if parsed is None else \
                self._hop(result, url, parsed, "POST", req_headers, content, deadline, cap, kind)
            if location is not None:
                self._fail(result, "redirect_not_followed",
                           f"HTTP {result.status} to {location!r}: a POST is never re-sent to another location")
        finally:
            result.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        return result

    def get_many(
        self,
        urls: Iterable[str],
        *,
        kind: str = "page",
        check_robots: bool = True,
        accept: str | None = None,
        on_result: Callable[[str, FetchResult], None] | None = None,
    ) -> dict[str, FetchResult]:
        """Fetch ``urls`` concurrently: at most ``policy.concurrency`` requests in flight
        overall and ``policy.per_host`` per host. Duplicates are fetched once.

        Hosts are served round-robin, so one site with hundreds of URLs cannot starve the
        others: a worker is only handed a URL whose host has a free slot.

        ``on_result(url, result)`` is called in the calling thread as each fetch completes,
        so a caller can start working on a page (extraction) while the others are still in
        flight; an exception it raises stops the fetching and propagates.
        """
        queues: dict[str, deque[str]] = {}
        for u in dict.fromkeys(urls):
            queues.setdefault(self._host_key(u), deque()).append(u)
        results: dict[str, FetchResult] = {}
        in_flight: dict[str, int] = {h: 0 for h in queues}
        running: dict[Future, tuple[str, str]] = {}
        per_host = self.policy.per_host
        with ThreadPoolExecutor(max_workers=self.policy.concurrency, thread_name_prefix="newsroom-fetch") as pool:
            while queues or running:
                progressed = True
                while progressed and len(running) < self.policy.concurrency:
                    progressed = False
                    for host in list(queues):
                        if len(running) >= self.policy.concurrency:
                            break
                        if in_flight[host] >= per_host:
                            continue
                        u = queues[host].popleft()
                        if not queues[host]:
                            del queues[host]
                        in_flight[host] += 1
                        fut = pool.submit(self.get, u, kind=kind, check_robots=check_robots, accept=accept)
                        running[fut] = (host, u)
                        progressed = True
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    host, u = running.pop(fut)
                    in_flight[host] -= 1
                    try:
                        results[u] = fut.result()
                    except Exception as exc:  # a bug for one URL must not lose the whole batch
                        log.exception("fetching %s failed unexpectedly", u)
                        results[u] = FetchResult(
                            url=u, error="internal_error", error_detail=f"{type(exc).__name__}: {exc}"
                        )
                    if on_result is not None:
                        on_result(u, results[u])
        return results

    def crawl_delay(self, url: str) -> float | None:
        """The robots.txt ``Crawl-delay`` for our user agent on ``url``'s host, if any."""
        return self.robots.crawl_delay(url)

    # -- internals ----------------------------------------------------------
    @staticmethod
    def _host_key(url: str) -> str:
        try:
            return httpx.URL(url).host.lower()
        except Exception:
            return ""

    def _emit(self, result: FetchResult, kind: str) -> None:
        if self._on_request is None:
            return
        try:
            self._on_request(result, kind)
        except Exception:  # a logging hiccup must not lose the fetch itself
            log.exception("on_request callback failed for %s", result.url)

    def _follow(self, result, url, deadline, cap, etag, last_modified, accept, headers, kind, check_robots) -> None:
        req_headers = httpx.Headers({"Accept": "*/*"})
        req_headers.update(headers or {})  # case-insensitive: a caller's "accept" replaces ours
        if accept:
            req_headers["Accept"] = accept
        if etag:
            req_headers["If-None-Match"] = etag
        if last_modified:
            req_headers["If-Modified-Since"] = last_modified
        robots = check_robots and self.policy.respect_robots and kind != "robots"

        current = url
        visited: set[str] = set()
        first_origin = None
        while True:
            parsed = self._guard(result, url, current)
            if parsed is None:
                return None
            visited.add(str(parsed))
            if first_origin is None:
                first_origin = _origin(parsed)
            elif _origin(parsed) != first_origin:
                for h in _ORIGIN_BOUND:
                    req_headers.pop(h, None)
            if robots and not self.robots.allowed(current):
                return self._fail(result, "robots", f"{current} is disallowed by robots.txt for our user agent")
            location = self._hop(result, current, parsed, "GET", req_headers, None, deadline, cap, kind)
            if location is None:
                return None
            try:
                nxt = str(parsed.join(location))
            except Exception as exc:
                return self._fail(result, "invalid_url", f"redirect to an invalid Location {location!r}: {exc}")
            if nxt in visited:
                result.redirects.append(nxt)
                return self._fail(result, "redirect_loop", f"redirect loop: {current} → {nxt} was already visited")
            if len(result.redirects) >= self.policy.max_redirects:
                return self._fail(
                    result, "too_many_redirects", f"more than {self.policy.max_redirects} redirects (next: {nxt})"
                )
            result.redirects.append(nxt)
            current = nxt

    def _guard(self, result: FetchResult, first: str, current: str) -> httpx.URL | None:
        """Check one hop against the address guard and the host allowlist. Returns the
        parsed URL, or None after recording the refusal in ``result``."""
        try:
            # Names are resolved and checked by GuardedBackend when it connects (one DNS
            # lookup, and the address checked is the address used).
            check_url(
                current,
                self.policy.allow_private_networks,
                allow_hosts=self.policy.allowed_private_hosts,
                resolve=False,
            )
        except BlockedURL as exc:
            self._fail(result, exc.reason, exc.detail)
            return None
        except HostNotFound as exc:
            self._fail(result, "connection_error", str(exc))
            return None
        parsed = httpx.URL(current)
        if not self.policy.host_allowed(parsed.host):
            # Checked on every hop: an allowed feed must not redirect the fetcher to a
            # host the operator did not list.
            where = "redirect to" if current != first else "host of"
            self._fail(result, "host_not_allowed",
                       f"{where} {current}: host {parsed.host!r} is not in NEWSROOM_ALLOWED_HOSTS")
            return None
        return parsed

    def _hop(self, result: FetchResult, current: str, parsed: httpx.URL, method: str, req_headers: httpx.Headers,
             content: bytes | None, deadline: float, cap: int, kind: str) -> str | None:
        """Send one request to ``current`` (a URL :meth:`_guard` passed) and copy its outcome
        into ``result``. Returns the Location of a redirect, else None (``result`` is then
        final: a body, or an error)."""
        if time.monotonic() >= deadline:
            self._fail(result, "total_timeout", f"gave up after {self.policy.total_timeout:g}s in total")
            return None
        hop = FetchResult(url=current)
        hop_started = time.monotonic()
        location = None
        try:
            location = self._request(hop, parsed, req_headers, deadline, cap, method, content)
        except _HopError as exc:
            hop.error, hop.error_detail = exc.error, exc.detail
        if hop.error in _REFUSED_AT_CONNECT:  # the guard refused the address: nothing was sent
            self._fail(result, hop.error, hop.error_detail or hop.error)
            return None
        hop.elapsed_ms = round((time.monotonic() - hop_started) * 1000, 1)
        result.final_url = current
        result.status = hop.status
        result.headers = hop.headers
        if location is None:
            result.body = hop.body
            result.not_modified = hop.not_modified
            result.error, result.error_detail = hop.error, hop.error_detail
            result.retry_after_s = hop.retry_after_s
            hop.final_url = current
            self._emit(hop, kind)
            return None
        hop.final_url = location
        self._emit(hop, kind)
        return location

    @staticmethod
    def _fail(result: FetchResult, error: str, detail: str) -> None:
        result.error, result.error_detail = error, detail
        result.body = b""
        result.not_modified = False

    def _request(self, hop: FetchResult, url: httpx.URL, headers, deadline: float, cap: int,
                 method: str = "GET", content: bytes | None = None) -> str | None:
        """Send one request; fill ``hop``. Returns the Location when it is a redirect."""
        p = self.policy
        remaining = deadline - time.monotonic()
        clamped_read = remaining < p.read_timeout
        timeout = httpx.Timeout(
            connect=min(p.connect_timeout, remaining),
            read=min(p.read_timeout, remaining),
            write=min(p.read_timeout, remaining),
            pool=min(p.connect_timeout, remaining),
        )
        try:
            request = self._client.build_request(method, url, headers=headers, content=content, timeout=timeout)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            raise _HopError("invalid_url", f"invalid URL: {exc}") from exc
        try:
            response = self._client.send(request, stream=True)
        except httpx.ConnectTimeout as exc:
            raise _HopError("timeout", f"connect timed out after {timeout.connect:g}s") from exc
        except httpx.TimeoutException as exc:
            if clamped_read or time.monotonic() >= deadline:
                raise _HopError("total_timeout", f"gave up after {p.total_timeout:g}s in total") from exc
            raise _HopError("timeout", f"no response within {p.read_timeout:g}s ({type(exc).__name__})") from exc
        except BlockedURL as exc:  # raised by GuardedBackend at connect time (rebinding)
            raise _HopError(exc.reason, exc.detail) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise _HopError("invalid_url", f"invalid URL: {exc}") from exc
        except httpx.LocalProtocolError as exc:
            raise _HopError("invalid_request", f"could not send the request: {exc}") from exc
        except httpx.ConnectError as exc:
            if _is_tls(exc):
                raise _HopError("tls_error", f"TLS failed: {exc}") from exc
            raise _HopError("connection_error", f"could not connect: {exc or type(exc).__name__}") from exc
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            if _is_tls(exc):
                raise _HopError("tls_error", f"TLS failed: {exc}") from exc
            raise _HopError("connection_error", f"{type(exc).__name__}: {exc}") from exc

        try:
            hop.status = response.status_code
            hop.headers = _flat_headers(response.headers)
            status = response.status_code
            if status >= 400:
                hop.error = f"http_{status}"
                hop.error_detail = f"HTTP {status} {response.reason_phrase}".strip()
                hop.retry_after_s = parse_retry_after(response.headers.get("retry-after"))
            if status in REDIRECT_STATUSES and response.headers.get("location"):
                return response.headers["location"]
            if status == 304:
                hop.not_modified = True
                return None
            self._read_body(hop, response, deadline, cap)
            return None
        finally:
            response.close()

    def _read_body(self, hop: FetchResult, response: httpx.Response, deadline: float, cap: int) -> None:
        p = self.policy
        is_error = response.status_code >= 400
        limit = p.max_error_body_bytes if is_error else cap
        declared = response.headers.get("content-length")
        if not is_error and declared and declared.isdigit() and int(declared) > limit:
            raise _HopError("too_large", f"Content-Length {int(declared):,} is above the {limit:,}-byte cap")
        try:
            body = BoundedBody(response.headers.get("content-encoding"), limit, truncate=is_error)
        except DecodingFailed as exc:
            raise _HopError("decoding_error", str(exc)) from exc
        try:
            for chunk in response.iter_raw():
                body.feed(chunk)
                if time.monotonic() > deadline:
                    raise _HopError(
                        "total_timeout",
                        f"body still arriving after {p.total_timeout:g}s ({body.size:,} bytes so far)",
                    )
            hop.body = body.finish()
        except TooLarge:
            if is_error:  # error bodies are informational: keep a truncated prefix
                hop.body = body.body
                return
            raise _HopError("too_large", f"decoded body is above the {limit:,}-byte cap") from None
        except DecodingFailed as exc:
            raise _HopError("decoding_error", str(exc)) from exc
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline - 0.05:
                raise _HopError("total_timeout", f"gave up after {p.total_timeout:g}s in total") from exc
            raise _HopError("timeout", f"no data for {p.read_timeout:g}s while reading the body") from exc
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            if _is_tls(exc):
                raise _HopError("tls_error", f"TLS failed while reading: {exc}") from exc
            raise _HopError("connection_error", f"connection broke while reading the body: {exc}") from exc
