"""robots.txt: fetched once per origin, cached with a TTL, parsed with protego.

What counts as "allowed" when robots.txt cannot be read:

* 2xx — the rules apply (for our user agent, else ``*``).
* 4xx (404, 410, even 401/403) — allow everything, as RFC 9309 §2.3.1.3 says.
* 5xx, timeouts, connection errors — **allow everything** too. RFC 9309 asks crawlers
  to assume full disallow here; newsroom fetches a handful of article pages per site
  that a human-facing feed linked to, and treats an unreachable robots.txt like a
  missing one so a broken robots endpoint does not silently empty the digest. Such
  outcomes are cached only briefly (``_FAILURE_TTL_S``), so the real rules are picked
  up once the server recovers.
* A robots.txt above ``policy.robots_max_bytes`` counts as unreadable (allow).

Concurrent callers for the same origin wait for a single fetch (one lock per origin),
which is what makes "robots.txt fetched once per host" hold under ``get_many``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from protego import Protego

if TYPE_CHECKING:  # pragma: no cover
    from newsroom.fetch.client import Fetcher

__all__ = ["RobotsCache", "RobotsEntry"]

_FAILURE_TTL_S = 600.0


@dataclass(frozen=True)
class RobotsEntry:
    """The rules of one origin, or ``rules=None`` meaning "everything allowed"."""

    rules: Protego | None
    fetched_at: float
    expires_at: float
    status: int | None
    error: str | None


class RobotsCache:
    """Per-origin robots.txt rules for one :class:`Fetcher` (and its user agent)."""

    def __init__(self, fetcher: "Fetcher", ttl_s: float):
        self._fetcher = fetcher
        self.ttl_s = ttl_s
        self._entries: dict[str, RobotsEntry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @staticmethod
    def origin(url: str) -> str:
        u = httpx.URL(url)
        default = 443 if u.scheme == "https" else 80
        port = f":{u.port}" if u.port and u.port != default else ""
        host = f"[{u.host}]" if ":" in u.host else u.host
        return f"{u.scheme}://{host}{port}"

    def entry(self, url: str) -> RobotsEntry:
        """The cached rules for ``url``'s origin, fetching robots.txt when missing or stale."""
        key = self.origin(url)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._entries.get(key)
            if cached is not None and cached.expires_at > time.monotonic():
                return cached
            entry = self._fetch(key)
            self._entries[key] = entry
            return entry

    def allowed(self, url: str) -> bool:
        rules = self.entry(url).rules
        return True if rules is None else bool(rules.can_fetch(url, self._fetcher.policy.user_agent))

    def crawl_delay(self, url: str) -> float | None:
        rules = self.entry(url).rules
        if rules is None:
            return None
        delay = rules.crawl_delay(self._fetcher.policy.user_agent)
        return float(delay) if delay is not None else None

    def _fetch(self, origin: str) -> RobotsEntry:
        p = self._fetcher.policy
        r = self._fetcher.get(
            f"{origin}/robots.txt",
            kind="robots",
            accept="text/plain, */*;q=0.1",
            check_robots=False,
            max_bytes=p.robots_max_bytes,
        )
        now = time.monotonic()
        if r.error is None and r.status is not None and 200 <= r.status < 300:
            rules = Protego.parse(r.body.decode("utf-8", errors="replace"))
            return RobotsEntry(rules, now, now + self.ttl_s, r.status, None)
        client_error = r.status is not None and 400 <= r.status < 500
        ttl = self.ttl_s if client_error else min(self.ttl_s, _FAILURE_TTL_S)
        return RobotsEntry(None, now, now + ttl, r.status, r.error)

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
