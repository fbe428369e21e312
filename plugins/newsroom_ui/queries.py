"""Read-only queries behind the operator page, each returning typed rows.

Plain SQLAlchemy Core over the warehouse tables (``newsroom.warehouse.schema``):
the page never writes, never migrates, and works on SQLite and PostgreSQL alike.
A warehouse that is not migrated yet is reported by :func:`missing_tables`
rather than failing with a database error.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import and_, func, inspect, select
from sqlalchemy.engine import Connection, Engine

from newsroom.warehouse.schema.core import FeedEntryRow, PipelineRun, Source, SourceRun
from newsroom.warehouse.schema.digest import Digest

TABLES = ("sources", "source_runs", "pipeline_runs", "digests", "feed_entries")


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


def missing_tables(engine: Engine) -> list[str]:
    """The page's tables that do not exist yet (an unmigrated warehouse)."""
    names = set(inspect(engine).get_table_names())
    return [t for t in TABLES if t not in names]


def source_health(conn: Connection) -> list[SourceHealth]:
    """Every source, the troubled ones first, with the outcome of its latest run."""
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
    # The same condition as newsroom.pipeline.ingest.pending_entries_query.
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


def latest_runs(conn: Connection, limit: int = 20) -> list[RunSummary]:
    """The most recent pipeline runs, newest first."""
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


def digests(conn: Connection, limit: int = 90) -> list[DigestListing]:
    """The latest digests, newest day first."""
    rows = conn.execute(
        select(Digest.day, Digest.beat, Digest.title, Digest.feeds_checked, Digest.subreddits_checked,
               Digest.articles_count, Digest.stories_count, Digest.generated_at)
        .order_by(Digest.day.desc(), Digest.beat)
        .limit(limit)
    ).mappings()
    return [DigestListing(**r) for r in rows]


def digest(conn: Connection, day: date, beat: str) -> DigestNote | None:
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
