"""Every read and write of ``captures``: which raw response bodies the capture store holds.

    cap_id = record_capture(conn, store, body, kind="page", url=url, status=200, content_type="text/html")

The bodies themselves live in the capture store (:mod:`newsroom.captures`); a row
names one body per (url, sha256) and is what articles point at (``capture_id``) and
what retention (:mod:`newsroom.warehouse.retention`) ages by ``fetched_at``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from newsroom.warehouse.db import upsert
from newsroom.warehouse.schema import Capture, utcnow

__all__ = ["CaptureMeta", "record_capture", "record_captures", "save_capture", "save_captures"]


@dataclass(frozen=True)
class CaptureMeta:
    """Where a body came from (the ``captures`` row besides the store's reference)."""

    url: str
    status: int | None = None
    content_type: str | None = None


def record_captures(conn: Connection, store, items: list[tuple[bytes, dict | CaptureMeta]], *, kind: str) -> list[int]:
    """Keep each body in the capture store; one ``captures`` row per (url, sha256).

    ``items`` are ``(body, CaptureMeta)`` (or ``(body, {"url", "status", "content_type"})``);
    returns the row ids in the same order. One statement for the batch, not one per page.
    """
    if not items:
        return []
    rows = []
    for body, meta in items:
        if isinstance(meta, dict):
            meta = CaptureMeta(meta["url"], meta.get("status"), meta.get("content_type"))
        ref = store.put(body, kind=kind)
        rows.append({"kind": kind, "url": meta.url, "sha256": ref.sha256, "path": ref.path,
                     "content_type": meta.content_type, "status": meta.status,
                     "bytes": ref.bytes, "fetched_at": utcnow()})
    # fetched_at is the last time these bytes came from that URL: retention
    # (newsroom.warehouse.retention) ages captures by it, so one seen again is fresh.
    upsert(conn, Capture, rows, keys=["url", "sha256"], update=["fetched_at"])
    ids = {(u, h): i for u, h, i in conn.execute(
        select(Capture.url, Capture.sha256, Capture.id).where(Capture.sha256.in_({r["sha256"] for r in rows})))}
    return [ids[(r["url"], r["sha256"])] for r in rows]


def record_capture(conn: Connection, store, body: bytes, *, kind: str, url: str, status: int | None,
                   content_type: str | None) -> int:
    """Keep ``body`` in the capture store and return its ``captures`` row id."""
    return record_captures(conn, store, [(body, CaptureMeta(url, status, content_type))], kind=kind)[0]


def save_captures(engine: Engine, store, items: list[tuple[bytes, dict | CaptureMeta]], *, kind: str) -> list[int]:
    """:func:`record_captures` in a transaction of its own."""
    if not items:
        return []
    with engine.begin() as conn:
        return record_captures(conn, store, items, kind=kind)


def save_capture(engine: Engine, store, body: bytes, *, kind: str, url: str, status: int | None,
                 content_type: str | None) -> int:
    """:func:`record_capture` in a transaction of its own."""
    return save_captures(engine, store, [(body, CaptureMeta(url, status, content_type))], kind=kind)[0]
