"""Figures about tracked entities over time (owned by the metrics stage, issue 16).

* ``entity_metrics``: one observation per (entity, subject, metric, day) — a rerun of the
  same day overwrites its own rows, the next day adds new ones, so history accumulates and a
  same-day rerun adds nothing. Failures are rows too (status ``failed`` + reason).
* ``metric_responses``: the last good answer of each API URL (ETag, final URL after
  redirects, body), so the next request is conditional and a 304 can be re-read.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class EntityMetric(Base):
    __tablename__ = "entity_metrics"
    __table_args__ = (UniqueConstraint("entity_id", "subject", "metric", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(String(120), index=True)
    service: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300))
    metric: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date, index=True)
    value: Mapped[int | None] = mapped_column(BigInteger)
    value_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(250))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MetricResponse(Base):
    __tablename__ = "metric_responses"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    final_url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
