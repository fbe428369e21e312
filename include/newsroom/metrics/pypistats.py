"""PyPI downloads through pypistats.org: ``GET /api/packages/{name}/recent`` →
``{"data": {"last_day", "last_week", "last_month"}, "package", "type": "recent_downloads"}``.

Names are looked up in their PEP 503 normal form (``.`` and ``_`` become ``-``, lower case);
an unknown package answers 404, recorded as ``not_found``.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsroom.metrics.client import ApiSession
from newsroom.metrics.github import failed, invalid
from newsroom.metrics.records import FigureSource, Observation

METRICS = ("downloads_last_day", "downloads_last_week", "downloads_last_month")


class _Recent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    last_day: int = Field(ge=0)
    last_week: int = Field(ge=0)
    last_month: int = Field(ge=0)


class PyPIRecent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    data: _Recent
    package: str
    type: str = "recent_downloads"


def collect(session: ApiSession, src: FigureSource) -> Iterator[Observation]:
    url = session.endpoint.url(f"/api/packages/{quote(src.subject, safe='')}/recent")
    reply = session.get_json(url)
    if reply.status == "failed":
        reason = f"not_found: no package {src.subject} ({reply.reason})" if reply.http_status == 404 else reply.reason
        yield from failed(src, src.subject, url, METRICS, reason or "failed")
        return
    try:
        rec = PyPIRecent.model_validate(reply.data)
    except ValidationError as exc:
        yield from failed(src, src.subject, url, METRICS, invalid(exc))
        return
    for metric, value in (("downloads_last_day", rec.data.last_day), ("downloads_last_week", rec.data.last_week),
                          ("downloads_last_month", rec.data.last_month)):
        yield Observation(src.entity_id, src.service, src.subject, metric, reply.status, src.link, url, value=value)
