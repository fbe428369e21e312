"""HTTP for newsroom: conditional GET, caps, per-host limits, robots.txt, address guard.

Public surface:

* :class:`FetchPolicy` — limits and manners (timeouts, byte cap, redirects, concurrency).
* :class:`Fetcher` — ``get`` / ``get_many`` / ``post`` returning :class:`~newsroom.records.FetchResult`;
  the only HTTP client in newsroom (feeds, pages, robots.txt, Reddit, the LLM endpoint, metrics APIs).
* :func:`check_url` / :class:`BlockedURL` — the SSRF guard, usable on its own.
* :func:`get_with_retry` — one or two quick retries for transient errors.

See ``docs/fetch.md`` for the error codes.
"""

from newsroom.fetch.client import Fetcher, parse_retry_after
from newsroom.fetch.guard import BlockedURL, HostNotFound, check_url
from newsroom.fetch.policy import FetchPolicy
from newsroom.fetch.retry import get_with_retry, is_transient

__all__ = [
    "BlockedURL",
    "FetchPolicy",
    "Fetcher",
    "HostNotFound",
    "check_url",
    "get_with_retry",
    "is_transient",
    "parse_retry_after",
]
