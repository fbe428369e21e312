"""JSON over the guarded fetcher, with ETags and quotas: what every figure source needs.

A daily figure rarely changes its response wholesale, and GitHub does not charge for an
authorised request answered 304. So every good answer is kept (URL, final URL after
redirects, ETag, body — :class:`~newsroom.metrics.records.StoredResponse`); the next day's
request sends ``If-None-Match`` and goes straight to the final URL (a renamed repository's
redirect is paid once), and a 304 re-reads the stored body: same figures, status
``unchanged``, no quota spent.

Failures are answers too: :class:`ApiReply` carries a short reason (``http_404``,
``too_large``, ``invalid_json``…) that ends up in the observation rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from newsroom.fetch import Fetcher
from newsroom.fetch.ratelimit import QuotaGate, get_with_quota
from newsroom.metrics.records import ApiEndpoint, StoredResponse

__all__ = ["ApiReply", "ApiSession", "DEFAULT_MAX_BYTES"]

#: A repository object is ~6 KB, a listing of 100 models with a few properties ~30 KB.
DEFAULT_MAX_BYTES = 2_000_000

_HEADERS = {
    "github": {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    "huggingface": {"Accept": "application/json"},
    "pypistats": {"Accept": "application/json"},
}


@dataclass
class ApiReply:
    """One API answer: ``status`` is ``ok`` (200), ``unchanged`` (304, ``data`` from the stored
    body) or ``failed`` (``reason`` says why; ``http_status`` and ``headers`` as received)."""

    url: str
    status: str
    data: Any = None
    final_url: str | None = None
    http_status: int | None = None
    reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    redirected: bool = False


class ApiSession:
    """Requests for one service: token, headers, byte cap, quota gate and the response cache.

    ``cache`` maps a URL to its :class:`StoredResponse`; the session updates it in place and
    lists what changed in ``updated`` so the caller can store it.
    """

    def __init__(self, fetcher: Fetcher, endpoint: ApiEndpoint, *, gate: QuotaGate,
                 cache: dict[str, StoredResponse] | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.fetcher, self.endpoint, self.gate, self.max_bytes = fetcher, endpoint, gate, max_bytes
        self.cache = cache if cache is not None else {}
        self.updated: dict[str, StoredResponse] = {}
        self.requests = 0
        self.today = None  # the observed day (set by the caller): remembered 404s are dated by it
        headers = dict(_HEADERS.get(endpoint.service, {}))
        if endpoint.token:
            headers["Authorization"] = f"Bearer {endpoint.token}"
        self._headers = headers

    def get_json(self, url: str, *, recheck_days: int = 0, today=None) -> ApiReply:
        """GET ``url`` (conditionally when a good answer is stored); never raises for HTTP trouble.
        :class:`~newsroom.fetch.ratelimit.QuotaExhausted` propagates: the caller stops.

        ``recheck_days`` > 0 remembers a 404 and answers it from memory for that many days
        (a 404 carries no ETag, so asking daily would cost quota every day): used for "this
        repository has no releases", which changes rarely.
        """
        stored = self.cache.get(url)
        if stored is not None and stored.status == 404:
            fetched = stored.fetched_at
            if recheck_days and fetched is not None and today is not None and \
                    (today - fetched.date()).days < recheck_days:
                return ApiReply(url, "failed", None, url, 404, f"http_404 (remembered from {fetched.date()})")
            stored = None
        target = stored.final_url if stored else url
        self.requests += 1
        r = get_with_quota(self.fetcher, self.gate, target, etag=stored.etag if stored else None,
                           last_modified=stored.last_modified if stored else None, headers=self._headers,
                           kind=self.endpoint.service, max_bytes=self.max_bytes)
        final = r.final_url or target
        if r.not_modified and stored is not None:
            return ApiReply(url, "unchanged", json.loads(stored.body), stored.final_url, 304, headers=r.headers,
                            redirected=stored.final_url != url)
        if r.error or not r.ok:
            reason = r.error or f"http_{r.status}"
            if r.error_detail:
                reason += f": {r.error_detail}"
            code = r.headers.get("x-error-code")
            if code:
                reason += f" ({code})"
            if stored is not None and r.status in (301, 302, 404, 410) and stored.final_url != url:
                # the stored redirect target went away: forget it, the next run asks the link's URL
                self.cache.pop(url, None)
            elif recheck_days and r.status == 404:
                from datetime import datetime, timezone

                entry = StoredResponse(url=url, final_url=url, etag=None, last_modified=None, body="", status=404,
                                       fetched_at=datetime.combine(today, datetime.min.time(), timezone.utc)
                                       if today else datetime.now(timezone.utc))
                self.cache[url] = self.updated[url] = entry
            return ApiReply(url, "failed", None, final, r.status, reason, r.headers, bool(r.redirects))
        try:
            data = json.loads(r.body)
        except ValueError as exc:
            return ApiReply(url, "failed", None, final, r.status, f"invalid_json: {exc}", r.headers)
        entry = StoredResponse(url=url, final_url=final, etag=r.etag, last_modified=r.last_modified,
                               body=r.body.decode("utf-8", "replace"), status=r.status or 200)
        if entry.etag or entry.last_modified or stored is not None:
            self.cache[url] = entry
            self.updated[url] = entry
        return ApiReply(url, "ok", data, final, r.status, headers=r.headers, redirected=bool(r.redirects))
