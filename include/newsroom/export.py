"""Export a day's consumer views as Parquet or CSV, for teams that don't query the warehouse.

    result = export_day(engine, date(2026, 4, 9), out_dir="exports", fmt="parquet", tz="Europe/London")
    # exports/2026-04-09/articles.parquet, stories.parquet, digest_items.parquet,
    # entity_mentions.parquet, reddit_threads.parquet, manifest.json

The same from a shell (``python -m newsroom export --day 2026-04-09 --format csv --out exports``)
or from a task (the example consumer DAG). Files carry the views' columns and
types from :mod:`newsroom.warehouse.export_reads` — an empty day still gives files with
the full, typed header, so a consumer's loader does not break on a quiet day.
JSON columns (sources, entities, key figures…) are written as JSON text, which
both formats hold and every reader can parse. Timestamps are UTC.

Files are written to a temporary name and renamed, so a reader polling the
folder never sees half a file; ``manifest.json`` is written last and lists the
row counts and the warehouse schema revision the export was taken at.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from newsroom.warehouse.export_reads import (
    ViewColumn,
    consumer_views,
    schema_revision,
    view_columns,
    view_day_rows,
)

Format = Literal["parquet", "csv"]


class ExportedFile(BaseModel):
    view: str
    path: str
    rows: int


class ExportResult(BaseModel):
    day: str
    format: str
    directory: str
    schema_revision: str | None
    files: dict[str, ExportedFile]

    @property
    def counts(self) -> dict[str, int]:
        return {name: f.rows for name, f in self.files.items()}


def file_stem(view: str) -> str:
    """``v_articles`` → ``articles``: the file name a consumer sees."""
    return view.removeprefix("v_")


def arrow_schema(columns: list[ViewColumn]):
    """The pyarrow schema of a view, from its columns' kinds (JSON is written as JSON text)."""
    import pyarrow as pa

    types = {"timestamp": pa.timestamp("us", tz="UTC"), "bool": pa.bool_(), "int": pa.int64(),
             "float": pa.float64(), "date": pa.date32()}
    return pa.schema([pa.field(c.name, types.get(c.kind, pa.string()), nullable=True) for c in columns])


def _cell(value: Any, is_json: bool) -> Any:
    if is_json:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def rows_to_arrow(columns: list[ViewColumn], rows: list[dict[str, Any]]):
    import pyarrow as pa

    data = {c.name: [_cell(r.get(c.name), c.kind == "json") for r in rows] for c in columns}
    return pa.Table.from_pydict(data, schema=arrow_schema(columns))


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def export_day(engine, day: date, out_dir: str | os.PathLike, *, fmt: Format = "parquet",
               tz: ZoneInfo | str = "UTC", beat: str | None = None) -> ExportResult:
    """Write every consumer view's rows of local day ``day`` under ``out_dir/YYYY-MM-DD/``.

    Rerunning a day overwrites its files with the current warehouse content.
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown export format {fmt!r}: use parquet or csv")
    folder = Path(out_dir) / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, ExportedFile] = {}
    for name in consumer_views():
        data = rows_to_arrow(view_columns(name), view_day_rows(engine, name, day, tz, beat))
        path = folder / f"{file_stem(name)}.{fmt}"
        if fmt == "parquet":
            _atomic_write(path, lambda tmp: pq.write_table(data, tmp))
        else:
            _atomic_write(path, lambda tmp: pacsv.write_csv(data, tmp))
        files[file_stem(name)] = ExportedFile(view=name, path=str(path), rows=data.num_rows)
    result = ExportResult(day=day.isoformat(), format=fmt, directory=str(folder), schema_revision=schema_revision(engine),
                          files=files)
    manifest = folder / "manifest.json"
    payload = {**result.model_dump(), "exported_at": datetime.now(timezone.utc).isoformat()}
    _atomic_write(manifest, lambda tmp: Path(tmp).write_text(json.dumps(payload, indent=2, sort_keys=True)))
    return result
