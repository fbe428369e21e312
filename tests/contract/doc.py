"""Read the machine-readable tables of docs/warehouse.md and compare them with a live schema.

Each documented table or view is a ``### table `name``` / ``### view `name``` heading followed
by a Markdown table ``| column | type | nullable | meaning |``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import types as T

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"
HEADING = re.compile(r"^###\s+(table|view)\s+`([a-z_0-9]+)`\s*$")
ROW = re.compile(r"^\|\s*([a-z_0-9]+)\s*\|\s*([a-z]+)\s*\|\s*(yes|no)\s*\|\s*(.+?)\s*\|\s*$")
FAMILIES = ("integer", "bigint", "smallint", "float", "boolean", "string", "text", "timestamp", "date", "json",
            "binary")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    meaning: str


def parse(text: str) -> dict[tuple[str, str], list[Column]]:
    """``{(kind, name): [Column, …]}`` in document order. Raises on malformed rows."""
    out: dict[tuple[str, str], list[Column]] = {}
    current = None
    for lineno, line in enumerate(text.splitlines(), 1):
        m = HEADING.match(line)
        if m:
            current = (m.group(1), m.group(2))
            if current in out:
                raise ValueError(f"line {lineno}: {current} documented twice")
            out[current] = []
            continue
        if line.startswith("## "):
            current = None
        if current is None or not line.startswith("|") or line.startswith("|---") or line.startswith("| column"):
            continue
        r = ROW.match(line)
        if not r:
            raise ValueError(f"line {lineno}: not a `| column | type | nullable | meaning |` row: {line!r}")
        name, typ, nullable, meaning = r.groups()
        if typ not in FAMILIES:
            raise ValueError(f"line {lineno}: unknown type {typ!r} (one of {', '.join(FAMILIES)})")
        out[current].append(Column(name, typ, nullable == "yes", meaning))
    return out


def load() -> dict[tuple[str, str], list[Column]]:
    return parse(DOC.read_text(encoding="utf-8"))


def family(t) -> str | None:
    """The documented type family of a reflected (or declared) SQLAlchemy type; None if unknown."""
    from newsroom.warehouse.schema.base import UTCDateTime

    if isinstance(t, UTCDateTime):
        return "timestamp"
    for cls, name in ((T.BigInteger, "bigint"), (T.SmallInteger, "smallint"), (T.Integer, "integer"),
                      (T.Boolean, "boolean"), (T.Float, "float"), (T.Numeric, "float"), (T.DateTime, "timestamp"),
                      (T.Date, "date"), (T.JSON, "json"), (T.LargeBinary, "binary"), (T.Text, "text"),
                      (T.String, "string")):
        if isinstance(t, cls):
            return name
    return None


def compare(documented: dict[tuple[str, str], list[Column]], inspector, *, complete: bool = True) -> list[str]:
    """Every difference between the document and the live schema, as readable sentences."""
    problems: list[str] = []
    tables = set(inspector.get_table_names()) - {"alembic_version"}
    views = set(inspector.get_view_names())
    for (kind, name), cols in documented.items():
        live = tables if kind == "table" else views
        if name not in live:
            problems.append(f"{kind} {name} is documented but does not exist")
            continue
        actual = {c["name"]: c for c in inspector.get_columns(name)}
        for col in cols:
            a = actual.get(col.name)
            if a is None:
                problems.append(f"{kind} {name}: documented column {col.name} does not exist")
                continue
            fam = family(a["type"])
            # A view column computed by an expression may carry no type on SQLite: nothing to compare.
            if fam is not None and fam != col.type:
                problems.append(f"{kind} {name}.{col.name}: documented {col.type}, schema has {fam} ({a['type']})")
            if kind == "table" and bool(a["nullable"]) != col.nullable:
                problems.append(f"table {name}.{col.name}: documented nullable={col.nullable}, "
                                f"schema has nullable={bool(a['nullable'])}")
        if complete:
            undocumented = sorted(set(actual) - {c.name for c in cols})
            if undocumented:
                problems.append(f"{kind} {name}: columns not documented: {', '.join(undocumented)}")
    if complete:
        for kind, live in (("table", tables), ("view", views)):
            missing = sorted(live - {n for k, n in documented if k == kind})
            if missing:
                problems.append(f"{kind}s not documented: {', '.join(missing)}")
    return problems
