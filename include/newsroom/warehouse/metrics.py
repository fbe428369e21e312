"""Every read and write of the figures tables (``entity_metrics``, ``metric_responses``).

    save_observations(engine, rows)            # upsert on (entity, subject, metric, day)
    done = sources_done(engine, day)           # {(entity_id, link)} that need no retry today
    figures = latest_figures(engine, ["metagpt"], as_of=date(2026, 4, 9))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, case, delete, func, select
from sqlalchemy.engine import Connection

from newsroom.warehouse.db import upsert
from newsroom.warehouse.schema.base import utcnow
from newsroom.warehouse.schema.metrics import EntityMetric, MetricResponse
from newsroom.warehouse.views import v_entity_metrics

__all__ = ["latest_figures", "load_responses", "save_observations", "save_responses", "sources_done"]

KEY = ["entity_id", "subject", "metric", "day"]



@dataclass
class StoredResponse:
    """The last good answer for an API URL: its ETag is sent back, its body re-read on a 304."""

    url: str
    final_url: str
    etag: str | None
    last_modified: str | None
    body: str
    status: int = 200  # 404 for a remembered "not found" (see ApiSession.get_json's recheck_days)
    fetched_at: object | None = None  # datetime of the answer


def save_observations(engine: Engine, rows: Sequence[dict[str, Any]]) -> int:
    """Upsert observation rows; a row for a key already stored today replaces it."""
    if not rows:
        return 0
    # one row per key (an organisation listing and a model link may name the same model)
    unique = {tuple(r[k] for k in KEY): r for r in rows}
    t = EntityMetric.__table__
    with engine.begin() as conn:
        upsert(conn, EntityMetric, list(unique.values()), keys=KEY)
        # A link's rows of the day are replaced as a whole: a failure recorded under the link's
        # old name (a renamed repository, before a spent quota let it be read) does not linger.
        links = {(r["entity_id"], r["link"], r["day"]) for r in unique.values()}
        for entity_id, link, day in links:
            keep = {k[1:3] for k in unique if k[0] == entity_id and k[3] == day}
            stale = [r.id for r in conn.execute(select(t.c.id, t.c.subject, t.c.metric).where(
                t.c.entity_id == entity_id, t.c.link == link, t.c.day == day)) if (r.subject, r.metric) not in keep]
            if stale:
                conn.execute(delete(t).where(t.c.id.in_(stale)))
    return len(unique)


def sources_done(engine: Engine, day: date, service: str | None = None) -> set[tuple[str, str]]:
    """(entity_id, link) pairs with rows on ``day`` and no failure among them: a rerun skips them."""
    t = EntityMetric.__table__
    q = select(t.c.entity_id, t.c.link, func.sum(case((t.c.status == "failed", 1), else_=0))).where(t.c.day == day)
    if service:
        q = q.where(t.c.service == service)
    with engine.connect() as conn:
        return {(e, link) for e, link, failures in conn.execute(q.group_by(t.c.entity_id, t.c.link)) if not failures}


def load_responses(engine: Engine, urls: Iterable[str] | None = None) -> dict[str, StoredResponse]:
    t = MetricResponse.__table__
    q = select(t)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    want = set(urls) if urls is not None else None
    return {r.url: StoredResponse(url=r.url, final_url=r.final_url, etag=r.etag, last_modified=r.last_modified,
                                  body=r.body, status=r.status, fetched_at=r.fetched_at)
            for r in rows if want is None or r.url in want}


def save_responses(engine: Engine, responses: Iterable[StoredResponse]) -> int:
    rows = [{"url": s.url[:2000], "final_url": s.final_url, "etag": s.etag, "last_modified": s.last_modified,
             "status": s.status, "body": s.body, "fetched_at": s.fetched_at or utcnow()} for s in responses]
    if rows:
        with engine.begin() as conn:
            upsert(conn, MetricResponse, rows, keys=["url"])
    return len(rows)


def latest_figures(engine_or_conn: Engine | Connection, entity_ids: Iterable[str],
                   as_of: date | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each entity's newest good figure per (subject, metric) observed on or before ``as_of``
    (rows of ``v_entity_metrics``, the change columns relative to that row's day)."""
    ids = sorted(set(entity_ids))
    if not ids:
        return {}
    v = v_entity_metrics
    newest = select(v.c.entity_id, v.c.subject, v.c.metric, func.max(v.c.day).label("day")).where(
        v.c.entity_id.in_(ids))
    if as_of is not None:
        newest = newest.where(v.c.day <= as_of)
    newest = newest.group_by(v.c.entity_id, v.c.subject, v.c.metric).subquery()
    q = select(v).join(newest, and_(v.c.entity_id == newest.c.entity_id, v.c.subject == newest.c.subject,
                                    v.c.metric == newest.c.metric, v.c.day == newest.c.day)
                       ).order_by(v.c.entity_id, v.c.service, v.c.subject, v.c.metric)

    def run(conn: Connection):
        return [dict(r._mapping) for r in conn.execute(q)]

    if isinstance(engine_or_conn, Connection):
        rows = run(engine_or_conn)
    else:
        with engine_or_conn.connect() as conn:
            rows = run(conn)
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r["entity_id"]].append(r)
    return dict(out)


def status_counts(engine: Engine, day: date) -> dict[str, dict[str, int]]:
    """{service: {status: rows}} of ``day``."""
    t = EntityMetric.__table__
    out: dict[str, dict[str, int]] = defaultdict(dict)
    with engine.connect() as conn:
        for service, status, n in conn.execute(select(t.c.service, t.c.status, func.count()).where(t.c.day == day)
                                               .group_by(t.c.service, t.c.status)):
            out[service][status] = n
    return dict(out)
