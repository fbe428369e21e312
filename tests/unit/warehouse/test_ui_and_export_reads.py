"""warehouse/ui_reads.py and warehouse/export_reads.py on SQLite and PostgreSQL: the typed
records the operator page and the day's export are built from."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from newsroom.warehouse import connect, dispose_all, upsert
from newsroom.warehouse import export_reads, ui_reads
from newsroom.warehouse.db import head_revision
from newsroom.warehouse.schema.core import FeedEntryRow, PipelineRun, Source, SourceRun
from newsroom.warehouse.schema.digest import Digest
from newsroom.warehouse.views import CONSUMER_VIEWS

T0 = datetime(2026, 4, 10, 6, tzinfo=timezone.utc)


def test_schema_state_and_revision_of_an_empty_and_a_migrated_warehouse(tmp_path, warehouse):
    empty = connect(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert ui_reads.schema_state(empty) == ui_reads.SchemaState(current=None, head=head_revision())
        assert not ui_reads.schema_state(empty).ready and export_reads.schema_revision(empty) is None
    finally:
        empty.dispose()
    assert ui_reads.schema_state(warehouse).ready and export_reads.schema_revision(warehouse) == head_revision()


def test_backend_name_never_shows_the_url():
    assert ui_reads.backend_name("postgresql+psycopg://u:s3cret@db:5432/w") == "postgresql"
    assert ui_reads.backend_name("sqlite:////tmp/w.db") == "sqlite"


def _sources(engine):
    with engine.begin() as conn:
        upsert(conn, Source, [
            {"name": "ok feed", "kind": "feed", "url": "https://a.example/feed", "consecutive_failures": 0},
            {"name": "bad feed", "kind": "feed", "url": "https://b.example/feed", "consecutive_failures": 3},
            {"name": "old feed", "kind": "feed", "url": "https://c.example/feed", "consecutive_failures": 0,
             "retired_at": T0},
        ], keys=["name"])
        return dict(conn.execute(select(Source.name, Source.id)).all())


def test_source_health_troubled_first_with_latest_run_and_backlog(warehouse):
    ids = _sources(warehouse)
    with warehouse.begin() as conn:
        upsert(conn, SourceRun, [
            {"run_id": "r1", "source_id": ids["bad feed"], "status": "ok", "finished_at": T0},
            {"run_id": "r2", "source_id": ids["bad feed"], "status": "failed", "reason": "http_500",
             "finished_at": T0 + timedelta(hours=1)},
            {"run_id": "r2", "source_id": ids["ok feed"], "status": "ok", "finished_at": T0},
        ], keys=["run_id", "source_id"])
        upsert(conn, FeedEntryRow, [
            {"source_id": ids["ok feed"], "guid": f"e{i}", "url": f"https://a.example/{i}",
             "canonical_url": f"https://a.example/{i}" if i < 3 else None, "first_seen_at": T0}
            for i in range(4)], keys=["source_id", "guid"])
    health = ui_reads.source_health(warehouse)
    assert [h.name for h in health] == ["bad feed", "ok feed", "old feed"]
    by = {h.name: h for h in health}
    assert (by["bad feed"].last_run_status, by["bad feed"].last_run_reason, by["bad feed"].state) == (
        "failed", "http_500", "failing")
    assert by["ok feed"].backlog == 3 and by["ok feed"].state == "ok"  # the entry without a canonical URL waits
    assert by["old feed"].state == "retired" and by["old feed"].last_run_status is None


def test_runs_and_digests_newest_first(warehouse):
    with warehouse.begin() as conn:
        upsert(conn, PipelineRun, [
            {"dag_id": "newsroom_ingest", "run_id": f"run-{i}", "finished_at": T0 + timedelta(hours=i),
             "sources_ok": i, "failures_by_reason": {"http_404": 1, "timeout": 5, "junk": "x"} if i == 2 else None}
            for i in range(3)], keys=["dag_id", "run_id"])
        upsert(conn, Digest, [
            {"day": date(2026, 4, d), "beat": beat, "title": f"{beat} {d}", "markdown": f"# {beat} {d}",
             "path": f"Digests/{d}.md", "content_hash": f"h{d}{beat}", "feeds_checked": 1, "subreddits_checked": 0, "articles_count": 2,
             "stories_count": 1, "generated_at": T0}
            for d in (8, 9) for beat in ("ai", "climate")], keys=["day", "beat"])
    runs = ui_reads.latest_runs(warehouse, limit=2)
    assert [r.run_id for r in runs] == ["run-2", "run-1"]
    assert runs[0].failures_by_reason == [("timeout", 5), ("http_404", 1), ("junk", 0)]
    listed = ui_reads.digests(warehouse, limit=3)
    assert [(d.day.day, d.beat) for d in listed] == [(9, "ai"), (9, "climate"), (8, "ai")]
    note = ui_reads.digest(warehouse, date(2026, 4, 8), "climate")
    assert note is not None and (note.markdown, note.path) == ("# climate 8", "Digests/8.md")
    assert ui_reads.digest(warehouse, date(2026, 4, 7), "ai") is None


def test_export_columns_follow_the_views_declared_types():
    assert export_reads.consumer_views() == list(CONSUMER_VIEWS)
    kinds = {c.name: c.kind for c in export_reads.view_columns("v_digest_items")}
    assert [c.name for c in export_reads.view_columns("v_digest_items")] == [
        c.name for c in CONSUMER_VIEWS["v_digest_items"].columns]
    assert (kinds["day"], kinds["rank"], kinds["featured"], kinds["score"], kinds["sources"], kinds["headline"],
            kinds["generated_at"]) == ("date", "int", "bool", "float", "json", "text", "timestamp")
    assert {c.kind for c in export_reads.view_columns("v_entity_metrics") if c.name == "value"} == {"int"}


def test_view_day_rows_of_a_quiet_day_are_empty(warehouse):
    for view in export_reads.consumer_views():
        assert export_reads.view_day_rows(warehouse, view, date(2026, 4, 9), "Europe/London") == []
    dispose_all()
