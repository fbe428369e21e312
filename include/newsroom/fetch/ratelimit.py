"""API quotas: read rate-limit headers, wait when a limit is spent, stop when waiting is too long.

Feeds and pages are fetched once per run and politeness is per host; JSON APIs (GitHub,
the Hugging Face Hub, pypistats) instead hand out a *quota* and say in every response how
much is left. Hammering a spent quota only earns a ban, so a caller asks a
:class:`QuotaGate` before each request and tells it every response:

    gate = QuotaGate(max_wait_s=900)
    result = get_with_quota(fetcher, gate, url, etag=stored_etag, kind="github")

* **Headers understood** (whichever are present): GitHub's ``x-ratelimit-limit / -remaining /
  -used / -reset`` (reset = epoch seconds) and ``-resource``; the IETF draft's
  ``ratelimit-limit / -remaining / -reset`` (reset = seconds from now); the structured
  ``ratelimit: "api";r=0;t=42`` form (the Hugging Face Hub's); ``Retry-After``.
* **Primary limit spent** (403/429 with ``remaining: 0``, or a 2xx that says ``remaining: 0``):
  the next request to that host waits until the reset, if that is within ``max_wait_s``;
  otherwise :class:`QuotaExhausted` is raised with the reason and the reset time — the caller
  records it and stops, it never sends a request it knows will be refused.
* **Secondary limit** (403/429 with a Retry-After, or a 429/403 whose body speaks of a rate
  limit without ``remaining: 0``): wait Retry-After, else at least ``min_backoff_s`` (60 s,
  GitHub's advice), doubling on each repeat, within ``max_wait_s`` and ``max_attempts``.

The gate is per process and thread-safe; state is per host (and per ``-resource`` when the
server names one), so two services never share a budget.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx

from newsroom.records import FetchResult

__all__ = ["QuotaExhausted", "QuotaGate", "RateLimit", "get_with_quota", "limit_kind", "parse_rate_limit"]

_STRUCTURED = re.compile(r"(?:^|;)\s*(r|t)\s*=\s*(\d+)")
_LIMIT_WORDS = re.compile(rb"rate.?limit|too many requests|abuse", re.I)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value).split(",")[0].strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class RateLimit:
    """What a response said about the quota. ``reset_at`` is epoch seconds (None: unknown)."""

    limit: int | None
    remaining: int | None
    used: int | None
    reset_at: float | None
    resource: str | None = None

    def reset_label(self) -> str:
        if self.reset_at is None:
            return "an unknown time"
        return datetime.fromtimestamp(self.reset_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def parse_rate_limit(headers: dict[str, str], now: float | None = None) -> RateLimit | None:
    """The quota a response announced, from whichever rate-limit headers it carries; None if none."""
    now = time.time() if now is None else now
    h = {k.lower(): v for k, v in headers.items()}
    if "x-ratelimit-remaining" in h or "x-ratelimit-limit" in h:
        reset = _int(h.get("x-ratelimit-reset"))
        return RateLimit(_int(h.get("x-ratelimit-limit")), _int(h.get("x-ratelimit-remaining")),
                         _int(h.get("x-ratelimit-used")), float(reset) if reset is not None else None,
                         h.get("x-ratelimit-resource"))
    if "ratelimit-remaining" in h:
        delta = _int(h.get("ratelimit-reset"))
        return RateLimit(_int(h.get("ratelimit-limit")), _int(h.get("ratelimit-remaining")), None,
                         now + delta if delta is not None else None)
    if "ratelimit" in h:
        fields = dict(_STRUCTURED.findall(h["ratelimit"]))
        if "r" in fields:
            t = fields.get("t")
            policy = _int((re.search(r"q\s*=\s*(\d+)", h.get("ratelimit-policy", "")) or [None, None])[1])
            return RateLimit(policy, int(fields["r"]), None, now + int(t) if t is not None else None)
    return None


def limit_kind(result: FetchResult) -> str | None:
    """``"primary"`` (quota spent), ``"secondary"`` (slow down) or None for a response that is
    not a rate-limit refusal."""
    if result.status not in (403, 429):
        return None
    rl = parse_rate_limit(result.headers)
    if rl is not None and rl.remaining == 0:
        return "primary"
    if result.retry_after_s is not None or result.status == 429 or _LIMIT_WORDS.search(result.body or b""):
        return "secondary"
    return None  # a plain 403: forbidden, not throttled


class QuotaExhausted(Exception):
    """The quota is spent and the wait would exceed the caller's limit: nothing more is sent."""

    def __init__(self, host: str, reason: str, wait_s: float | None):
        super().__init__(reason)
        self.host, self.reason, self.wait_s = host, reason, wait_s


class QuotaGate:
    """Per-host quota bookkeeping: waits before a request that would be refused, raises when
    the wait is longer than ``max_wait_s``. ``sleep``/``clock`` are injectable for benchmarks."""

    def __init__(self, *, max_wait_s: float = 900.0, min_backoff_s: float = 60.0, max_attempts: int = 4,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time):
        self.max_wait_s, self.min_backoff_s, self.max_attempts = max_wait_s, min_backoff_s, max_attempts
        self._sleep, self._clock = sleep, clock
        self._lock = threading.Lock()
        self._blocked_until: dict[str, float] = {}
        self._why: dict[str, str] = {}
        self.last: dict[str, RateLimit] = {}
        self.waited_s = 0.0

    @staticmethod
    def host_of(url: str) -> str:
        try:
            return httpx.URL(url).netloc.decode("ascii").lower()
        except Exception:
            return ""

    def before(self, url: str) -> None:
        """Wait for the host's quota to come back, or raise :class:`QuotaExhausted`."""
        host = self.host_of(url)
        with self._lock:
            until = self._blocked_until.get(host)
            why = self._why.get(host, "rate limited")
        if until is None:
            return
        wait = until - self._clock()
        if wait <= 0:
            return
        if wait > self.max_wait_s:
            raise QuotaExhausted(host, why, wait)
        self._sleep(wait)
        self.waited_s += wait

    def observe(self, url: str, result: FetchResult, attempt: int = 1) -> float | None:
        """Record a response; for a rate-limit refusal returns how long to wait before retrying
        (None: not a refusal). Raises :class:`QuotaExhausted` when that is too long."""
        host = self.host_of(url)
        now = self._clock()
        rl = parse_rate_limit(result.headers, now)
        kind = limit_kind(result)
        with self._lock:
            if rl is not None:
                self.last[host] = rl
            if kind is None:
                if rl is not None and rl.remaining == 0 and rl.reset_at is not None:
                    # the last request of the quota succeeded: the next one would be refused
                    self._block(host, rl.reset_at, f"rate_limited: quota of {host} spent until {rl.reset_label()}")
                else:
                    self._blocked_until.pop(host, None)
                return None
            if kind == "primary":
                reset = rl.reset_at if rl and rl.reset_at is not None else now + self.min_backoff_s
                wait = max(0.0, reset - now)
                reason = (f"rate_limited: {host} quota spent ({rl.used if rl else '?'}/{rl.limit if rl else '?'}"
                          f"{' ' + rl.resource if rl and rl.resource else ''}) until {rl.reset_label() if rl else '?'}")
            else:
                wait = result.retry_after_s if result.retry_after_s is not None else \
                    self.min_backoff_s * 2 ** max(attempt - 1, 0)
                reason = f"rate_limited: {host} secondary limit (HTTP {result.status}), asked to wait {wait:.0f}s"
            self._block(host, now + wait, reason)
        if attempt >= self.max_attempts or wait > self.max_wait_s:
            raise QuotaExhausted(host, reason, wait)
        return wait

    def _block(self, host: str, until: float, why: str) -> None:
        self._blocked_until[host] = max(until, self._blocked_until.get(host, 0.0))
        self._why[host] = why


def get_with_quota(fetcher, gate: QuotaGate, url: str, **get_kwargs) -> FetchResult:
    """``fetcher.get(url, **get_kwargs)`` within the host's quota: waits as the server asks,
    retries a throttled request, raises :class:`QuotaExhausted` instead of hammering."""
    attempt = 0
    while True:
        attempt += 1
        gate.before(url)
        result = fetcher.get(url, **get_kwargs)
        if gate.observe(url, result, attempt) is None:
            return result
