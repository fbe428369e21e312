"""Hugging Face Hub: a model's downloads (last 30 days and all time) and likes, or an
organisation's most downloaded models.

``GET /api/models/{repo_id}?expand[]=…`` returns only the listed properties (plus ``id``):
``downloads`` counts the last 30 days, ``downloadsAllTime`` everything. ``GET
/api/models?author=ORG&sort=downloads&limit=N&expand[]=…`` lists an organisation's models by
downloads, paged by the ``Link`` header. Without a token a private, gated-private or missing
model answers 401; with one a missing model answers 404 with ``X-Error-Code: RepoNotFound``;
a gated *public* model still answers with its metadata and ``gated`` set (recorded as the
``gated`` figure). Every failure is recorded with that reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsroom.metrics.client import ApiSession
from newsroom.metrics.github import failed, invalid
from newsroom.metrics.records import FigureSource, Observation

EXPAND = ("downloads", "downloadsAllTime", "likes", "lastModified", "gated")
MODEL_METRICS = ("downloads_30d", "downloads_all_time", "likes", "last_modified", "gated")
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class HFModel(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    downloads: int | None = Field(default=None, ge=0)
    downloadsAllTime: int | None = Field(default=None, ge=0)
    likes: int | None = Field(default=None, ge=0)
    lastModified: str | None = None
    gated: bool | str | None = None


def _expand(props=EXPAND) -> list[tuple[str, str]]:
    return [("expand[]", p) for p in props]


def _observations(src: FigureSource, m: HFModel, url: str, status: str) -> Iterator[Observation]:
    counts = {"downloads_30d": m.downloads, "downloads_all_time": m.downloadsAllTime, "likes": m.likes}
    for metric, value in counts.items():
        if value is None:
            yield Observation(src.entity_id, src.service, m.id, metric, "absent", src.link, url,
                              reason="not in the response")
        else:
            yield Observation(src.entity_id, src.service, m.id, metric, status, src.link, url, value=value)
    yield Observation(src.entity_id, src.service, m.id, "last_modified", status if m.lastModified else "absent",
                      src.link, url, value_text=m.lastModified)
    gated = "false" if m.gated in (None, False) else ("true" if m.gated is True else str(m.gated))
    yield Observation(src.entity_id, src.service, m.id, "gated", status, src.link, url, value_text=gated)


def _reason(reply, subject: str, authorised: bool) -> str:
    if reply.http_status == 401:
        return (f"unauthorized: {subject} is private, gated-private or missing "
                f"({'token refused' if authorised else 'no token'}; {reply.reason})")
    if reply.http_status == 404:
        return f"not_found: {subject} ({reply.reason})"
    return reply.reason or "failed"


def collect(session: ApiSession, src: FigureSource, *, org_models: int = 10) -> Iterator[Observation]:
    if src.kind == "org":
        yield from _org(session, src, org_models)
        return
    org, name = src.subject.split("/", 1)
    url = session.endpoint.url(f"/api/models/{quote(org, safe='')}/{quote(name, safe='')}?" + urlencode(_expand()))
    reply = session.get_json(url)
    if reply.status == "failed":
        yield from failed(src, src.subject, url, MODEL_METRICS, _reason(reply, src.subject, bool(session.endpoint.token)))
        return
    try:
        model = HFModel.model_validate(reply.data)
    except ValidationError as exc:
        yield from failed(src, src.subject, url, MODEL_METRICS, invalid(exc))
        return
    yield from _observations(src, model, url, reply.status)


def _org(session: ApiSession, src: FigureSource, n: int) -> Iterator[Observation]:
    first = session.endpoint.url("/api/models?" + urlencode(
        [("author", src.subject), ("sort", "downloads"), ("direction", "-1"), ("limit", str(min(n, 100))),
         *_expand(("downloads", "downloadsAllTime", "likes"))]))
    url, models, pages = first, [], 0
    while url and len(models) < n and pages < 10:
        pages += 1
        reply = session.get_json(url)
        if reply.status == "failed":
            yield from failed(src, src.subject, first, ("downloads_30d",),
                              _reason(reply, f"organisation {src.subject}", bool(session.endpoint.token)))
            return
        if not isinstance(reply.data, list):
            yield from failed(src, src.subject, first, ("downloads_30d",), "invalid_response: expected a list")
            return
        for item in reply.data:
            try:
                models.append((HFModel.model_validate(item), reply.status))
            except ValidationError:
                continue  # one odd entry does not lose the others
        nxt = _LINK_NEXT.search(reply.headers.get("link", ""))
        url = nxt.group(1) if nxt else None
    if not models:
        yield from failed(src, src.subject, first, ("downloads_30d",), f"no models listed for {src.subject}",
                          status="absent")
        return
    seen = set()
    for m, status in models[:n]:
        if m.id in seen:
            continue
        seen.add(m.id)
        for o in _observations(src, m, first, status):
            if o.metric in ("downloads_30d", "downloads_all_time", "likes"):
                yield o
