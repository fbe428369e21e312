"""HTTP for newsroom: conditional GET, caps, per-host limits, robots.txt, address guard.

Public surface:

* :class:`FetchPolicy` — limits and manners (timeouts, byte cap, redirects, concurrency).
* :class:`Fetcher` — ``get`` / ``get_many`` / ``post`` returning :class:`~newsroom.records.FetchResult`;
  the only HTTP client in newsroom (feeds, pages, robots.txt, Reddit, the LLM endpoint, metrics APIs).
* :func:`check_url` / :class:`BlockedURL` — the SSRF guard, usable on its own.
* :func:`get_with_retry` — one or two quick retries for transient errors.

See ``docs/fetch.md`` for the error codes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsroom.fetch.client import Fetcher, parse_retry_after
    from newsroom.fetch.guard import BlockedURL, HostNotFound, check_url
    from newsroom.fetch.policy import FetchPolicy
    from newsroom.fetch.retry import get_with_retry, is_transient

# Loaded on first use (PEP 562), so that importing a light submodule such as
# ``newsroom.fetch.charset`` (the extraction workers decode pages with it) does not
# import httpx, tenacity and the client: that was ~110 ms of the extraction
# forkserver's start-up, which a new task's first batch waits for.
_EXPORTS = {
    "Fetcher": "client", "parse_retry_after": "client",
    "BlockedURL": "guard", "HostNotFound": "guard", "check_url": "guard",
    "FetchPolicy": "policy",
    "get_with_retry": "retry", "is_transient": "retry",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
