"""What the operator page reads: source health, pipeline runs and digests, as typed records.

Owns no table: reads ``sources``, ``source_runs``, ``feed_entries``, ``pipeline_runs``,
``digests`` and ``alembic_version``. Every function opens its own connection and closes
it without committing, so the page (``plugins/newsroom_ui``, which never sees SQL) never
writes and never migrates; it works on SQLite and PostgreSQL alike. A warehouse whose
schema is not at this code's head (never migrated, or behind) is reported by
:func:`schema_state` for the page to say so, the same rule tasks follow
(:class:`newsroom.warehouse.SchemaNotAtHead`), rather than failing on a missing table.

    state = schema_state(engine)        # SchemaState(current, head).ready
    source_health(engine)               # [SourceHealth], troubled first
    latest_runs(engine, limit=20)       # [RunSummary], newest first
    digests(engine, limit=90)           # [DigestListing], newest day first
    digest(engine, day, beat)           # DigestNote | None
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from pydantic import BaseModel
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Engine, make_url

from newsroom.warehouse.db import current_revision, head_revision
from newsroom.warehouse.schema.core import FeedEntryRow, PipelineRun, Source, SourceRun
from newsroom.warehouse.schema.digest import Digest

__all__ = ["DigestListing", "DigestNote", "RunSummary", "SchemaState", "SourceHealth", "backend_name", "digest",
           "digests", "latest_runs", "schema_state", "source_health"]


@dataclass(frozen=True)
class SchemaState:
    """The warehouse's Alembic revision (None: never migrated) and the one this code needs."""

    current: str | None
    head: str

    @property
    def ready(self) -> bool:
        return self.current == self.head


@cache
def _head() -> str:
    return head_revision()  # reads the migration scripts: once per process


def schema_state(engine: Engine) -> SchemaState:
    return SchemaState(current=current_revision(engine), head=_head())


def backend_name(url: str) -> str:
    """``sqlite`` / ``postgresql`` for a warehouse URL — never the URL itself, which may hold a password."""
    return make_url(url).get_backend_name()


class SourceHealth(BaseModel):
    """One followed source and how its fetching is going."""

    name: str
    kind: str
    url: str
    outlet: str | None
    enabled: bool
    last_http_status: int | None
    last_run_status: str | None  # ok | not_modified | failed | skipped, from source_runs
    last_run_reason: str | None
    last_error: str | None
    last_fetched_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    next_due_at: datetime | None
    disabled_reason: str | None
    retired_at: datetime | None = None  # no longer in the sources file
    backlog: int = 0  # feed entries with a URL still waiting for their article (the per-run cap)

    @property
    def state(self) -> str:
        """A one-word verdict for the page: retired, disabled, failing (3+ in a row), degraded or ok."""
        if self.retired_at is not None:
            return "retired"
        if not self.enabled or self.disabled_reason:
            return "disabled"
        if self.consecutive_failures >= 3:
            return "failing"
        if self.consecutive_failures or self.last_run_status == "failed":
            return "degraded"
        return "ok"


class RunSummary(BaseModel):
    """One DAG run's counts, as its summary task recorded them."""

    dag_id: str
    run_id: str
    interval_start: datetime | None
    interval_end: datetime | None
    sources_ok: int
    sources_failed: int
    sources_skipped: int
    entries: int
    new_articles: int
    failures_by_reason: list[tuple[str, int]]  # most frequent first
    finished_at: datetime


class DigestListing(BaseModel):
    day: date
    beat: str
    title: str
    feeds_checked: int
    subreddits_checked: int
    articles_count: int
    stories_count: int
    generated_at: datetime


class DigestNote(DigestListing):
    markdown: str
    path: str


def _source_health(conn: Connection) -> list[SourceHealth]:
    latest = (
        select(SourceRun.source_id, func.max(SourceRun.finished_at).label("at"))
        .group_by(SourceRun.source_id)
        .subquery()
    )
    last_run = (
        select(SourceRun.source_id, SourceRun.status, SourceRun.reason)
        .join(latest, and_(latest.c.source_id == SourceRun.source_id, latest.c.at == SourceRun.finished_at))
        .subquery()
    )
    # The same condition as the ingest's pending entries (a URL, canonicalised, no article yet).
    backlog = (
        select(FeedEntryRow.source_id, func.count().label("n"))
        .where(FeedEntryRow.article_id.is_(None), FeedEntryRow.url.is_not(None),
               FeedEntryRow.canonical_url.is_not(None))
        .group_by(FeedEntryRow.source_id)
        .subquery()
    )
    rows = conn.execute(
        select(Source.__table__, last_run.c.status.label("run_status"), last_run.c.reason.label("run_reason"),
               backlog.c.n.label("backlog"))
        .outerjoin(last_run, last_run.c.source_id == Source.id)
        .outerjoin(backlog, backlog.c.source_id == Source.id)
        .order_by(Source.consecutive_failures.desc(), Source.name)
    ).mappings()
    out: dict[str, SourceHealth] = {}
    for r in rows:  # two runs finishing at the same instant: keep the first
        out.setdefault(r["name"], SourceHealth(
            name=r["name"], kind=r["kind"], url=r["url"], outlet=r["outlet"], enabled=bool(r["enabled"]),
            last_http_status=r["last_status"], last_run_status=r["run_status"], last_run_reason=r["run_reason"],
            last_error=r["last_error"], last_fetched_at=r["last_fetched_at"], last_success_at=r["last_success_at"],
            consecutive_failures=r["consecutive_failures"] or 0, next_due_at=r["next_due_at"],
            disabled_reason=r["disabled_reason"], retired_at=r.get("retired_at"), backlog=r["backlog"] or 0))
    return list(out.values())


def _latest_runs(conn: Connection, limit: int) -> list[RunSummary]:
    rows = conn.execute(
        select(PipelineRun.__table__).order_by(PipelineRun.finished_at.desc(), PipelineRun.id.desc()).limit(limit)
    )
    return [
        RunSummary(
            dag_id=r.dag_id, run_id=r.run_id, interval_start=r.interval_start, interval_end=r.interval_end,
            sources_ok=r.sources_ok or 0, sources_failed=r.sources_failed or 0,
            sources_skipped=r.sources_skipped or 0, entries=r.entries or 0, new_articles=r.new_articles or 0,
            failures_by_reason=_reasons(r.failures_by_reason), finished_at=r.finished_at)
        for r in rows
    ]


def _digests(conn: Connection, limit: int) -> list[DigestListing]:
    rows = conn.execute(
        select(Digest.day, Digest.beat, Digest.title, Digest.feeds_checked, Digest.subreddits_checked,
               Digest.articles_count, Digest.stories_count, Digest.generated_at)
        .order_by(Digest.day.desc(), Digest.beat)
        .limit(limit)
    ).mappings()
    return [DigestListing(**r) for r in rows]


def _digest(conn: Connection, day: date, beat: str) -> DigestNote | None:
    row = conn.execute(
        select(Digest.day, Digest.beat, Digest.title, Digest.feeds_checked, Digest.subreddits_checked,
               Digest.articles_count, Digest.stories_count, Digest.generated_at, Digest.markdown, Digest.path)
        .where(Digest.day == day, Digest.beat == beat)
    ).mappings().first()
    return DigestNote(**row) if row else None


def _reasons(raw) -> list[tuple[str, int]]:
    """``{"http_404": 3, …}`` as (reason, count) pairs, most frequent first; junk values count 0."""
    if not isinstance(raw, dict):
        return []
    pairs = []
    for k, v in raw.items():
        try:
            n = int(v)
        except (TypeError, ValueError):
            n = 0
        pairs.append((str(k), n))
    return sorted(pairs, key=lambda p: (-p[1], p[0]))


def source_health(engine: Engine) -> list[SourceHealth]:
    """Every source, the troubled ones first, with the outcome of its latest run."""
    with engine.connect() as conn:
        return _source_health(conn)


def latest_runs(engine: Engine, limit: int = 20) -> list[RunSummary]:
    """The most recent pipeline runs, newest first."""
    with engine.connect() as conn:
        return _latest_runs(conn, limit)


def digests(engine: Engine, limit: int = 90) -> list[DigestListing]:
    """The latest digests, newest day first."""
    with engine.connect() as conn:
        return _digests(conn, limit)


def digest(engine: Engine, day: date, beat: str) -> DigestNote | None:
    """One day's digest of a beat, with its Markdown."""
    with engine.connect() as conn:
        return _digest(conn, day, beat)
