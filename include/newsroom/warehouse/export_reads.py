"""What a day's export reads: the consumer views' columns and rows, and the schema revision.

Owns no table: it reads the consumer views (:mod:`newsroom.warehouse.views`, created
by migration ``0006_views``) and ``alembic_version``. :mod:`newsroom.export` turns the
records below into files and never sees SQLAlchemy: each column comes with a
:data:`ColumnKind` that says how to type it in a file, decided here from the view's
declared SQLAlchemy type, so the files keep the views' types on a quiet day too.

    for view in consumer_views():
        cols, rows = view_columns(view), view_day_rows(engine, view, day, tz, beat)
    revision = schema_revision(engine)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Boolean, Date, Engine, Float, Integer

from newsroom.warehouse.db import current_revision
from newsroom.warehouse.schema.base import UTCDateTime
from newsroom.warehouse.views import CONSUMER_VIEWS, day_rows

__all__ = ["ColumnKind", "ViewColumn", "consumer_views", "schema_revision", "view_columns", "view_day_rows"]

#: How a value is typed in an exported file. ``json`` values are parsed JSON (lists, dicts).
ColumnKind = Literal["timestamp", "bool", "int", "float", "date", "json", "text"]


@dataclass(frozen=True)
class ViewColumn:
    name: str
    kind: ColumnKind


def _kind(t) -> ColumnKind:
    if isinstance(t, UTCDateTime):
        return "timestamp"
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, Integer):  # BigInteger too
        return "int"
    if isinstance(t, Float):
        return "float"
    if isinstance(t, Date):
        return "date"
    if isinstance(t, JSON):
        return "json"
    return "text"  # Text, String


def consumer_views() -> list[str]:
    """The consumer views, in the order an export writes them."""
    return list(CONSUMER_VIEWS)


def view_columns(view: str) -> list[ViewColumn]:
    """The columns of ``view`` in their declared order, each with its kind."""
    return [ViewColumn(c.name, _kind(c.type)) for c in CONSUMER_VIEWS[view].columns]


def view_day_rows(engine: Engine, view: str, day: date, tz: ZoneInfo | str,
                  beat: str | None = None) -> list[dict[str, Any]]:
    """The rows of ``view`` that belong to local day ``day`` (the rule is
    :func:`newsroom.warehouse.views.day_query`'s), as dicts of typed values."""
    return day_rows(engine, view, day, tz, beat)


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the warehouse is at (None: never migrated)."""
    return current_revision(engine)
