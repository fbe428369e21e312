"""Every read and write of ``sources``, ``source_runs`` and ``feed_entries`` (feeds and subreddits).

A source's row holds its fetch state: the conditional-GET validators (ETag,
Last-Modified), the failure count and backoff (``next_due_at``), the 410 count
that disables it, and ``retired_at`` once it left the sources file. A run's row
per source (``source_runs``) records what that run did with it. The feed entries
are the backlog: an entry without an article waits for a later run.

    ids = sync_feed_sources(engine, [SourceSpec(...), ...], listed={"feed-a", "reddit:r/x"})
    src = source_by_name(engine, "feed-a")                 # SourceState | None
    new = store_feed_entries(engine, src.id, [NewFeedEntry(...), ...])
    todo = pending_entries(engine, src.id, limit=50)       # oldest first
    backlog = link_entries(engine, src.id, {entry_id: article_id})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Engine, bindparam, func, select, update

from newsroom.warehouse.articles import apply_metadata_rule
from newsroom.warehouse.db import insert_ignore, upsert
from newsroom.warehouse.schema import FeedEntryRow, Source, SourceRun, utcnow

__all__ = [
    "NewFeedEntry", "PendingEntry", "SourceRunRecord", "SourceSpec", "SourceState", "backlog",
    "due_state", "link_entries", "mark_source_failed", "mark_source_ok", "pending_entries",
    "pending_entries_query", "record_source_run", "source_by_name", "source_run_status", "source_runs_in_run", "source_runs_of",
    "store_feed_entries", "sync_feed_sources", "upsert_reddit_source", "record_reddit_outcome",
]


@dataclass(frozen=True)
class SourceSpec:
    """A feed as the sources file lists it."""

    name: str
    url: str
    outlet: str | None
    tags: list[str]
    enabled: bool


@dataclass(frozen=True)
class SourceState:
    """A source's row: what it is and its fetch state."""

    id: int
    name: str
    kind: str
    url: str
    outlet: str | None
    enabled: bool
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    gone_count: int
    next_due_at: datetime | None
    disabled_reason: str | None
    retired_at: datetime | None


_STATE_COLUMNS = (Source.id, Source.name, Source.kind, Source.url, Source.outlet, Source.enabled, Source.etag,
                  Source.last_modified, Source.consecutive_failures, Source.gone_count, Source.next_due_at,
                  Source.disabled_reason, Source.retired_at)


def sync_feed_sources(engine: Engine, feeds: Iterable[SourceSpec], listed: set[str]) -> dict[str, int]:
    """Upsert one ``sources`` row per feed; returns feed name → id.

    A feed whose URL changed forgets its ETag/Last-Modified and failure count,
    since those belonged to the old URL. Sources (feeds and subreddits) whose name
    is not in ``listed`` are marked retired; listed again, they are un-retired.
    """
    now = utcnow()
    with engine.begin() as conn:
        current = {r.name: r for r in conn.execute(select(Source.name, Source.url, Source.id, Source.retired_at))}
        rows = []
        for f in feeds:
            row = {"name": f.name, "kind": "feed", "url": f.url, "outlet": f.outlet,
                   "tags": list(f.tags), "enabled": f.enabled, "retired_at": None}
            old = current.get(f.name)
            if old is not None and old.url != f.url:
                row.update(etag=None, last_modified=None, consecutive_failures=0, gone_count=0,
                           next_due_at=None, disabled_reason=None)
            rows.append(row)
        upsert(conn, Source, rows, keys=["name"])
        gone = [n for n, r in current.items() if n not in listed and r.retired_at is None]
        if gone:
            conn.execute(update(Source).where(Source.name.in_(gone)).values(retired_at=now))
        back = [n for n, r in current.items() if n in listed and r.retired_at is not None]
        if back:
            conn.execute(update(Source).where(Source.name.in_(back)).values(retired_at=None))
        return {n: i for n, i in conn.execute(select(Source.name, Source.id).where(Source.kind == "feed"))}


def due_state(engine: Engine, names: list[str]) -> dict[str, SourceState]:
    """The stored state of the named sources (absent: never synced)."""
    with engine.connect() as conn:
        return {r.name: SourceState(*r) for r in conn.execute(select(*_STATE_COLUMNS).where(Source.name.in_(names)))}


def source_by_name(engine: Engine, name: str) -> SourceState | None:
    with engine.connect() as conn:
        r = conn.execute(select(*_STATE_COLUMNS).where(Source.name == name)).first()
    return SourceState(*r) if r is not None else None


def mark_source_failed(engine: Engine, source_id: int, *, status: int | None, error: str, fetched_at: datetime,
                       consecutive_failures: int, gone_count: int, next_due_at: datetime,
                       disabled_reason: str | None = None) -> None:
    """Record a failed fetch and the backoff it earned (and a disabling, when given)."""
    values = {"last_status": status, "last_error": error, "last_fetched_at": fetched_at,
              "consecutive_failures": consecutive_failures, "gone_count": gone_count, "next_due_at": next_due_at}
    if disabled_reason is not None:
        values["disabled_reason"] = disabled_reason
    with engine.begin() as conn:
        conn.execute(update(Source).where(Source.id == source_id).values(**values))


def mark_source_ok(engine: Engine, source_id: int, *, status: int | None, fetched_at: datetime,
                   etag: str | None = None, last_modified: str | None = None, validators: bool = True) -> None:
    """Record a successful fetch: failures and backoff cleared; the conditional-GET
    validators replaced when ``validators`` (not on a 304, which keeps the old ones)."""
    values = {"last_status": status, "last_error": None, "last_fetched_at": fetched_at,
              "last_success_at": fetched_at, "consecutive_failures": 0, "gone_count": 0, "next_due_at": None}
    if validators:
        values.update(etag=etag, last_modified=last_modified)
    with engine.begin() as conn:
        conn.execute(update(Source).where(Source.id == source_id).values(**values))


# ---------------------------------------------------------------------------
# source_runs
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceRunRecord:
    """What one run did with one source (unique per run and source: a retry overwrites it)."""

    run_id: str
    source_id: int
    status: str  # ok | not_modified | failed | skipped
    reason: str | None = None
    entries: int = 0
    new_entries: int = 0
    new_articles: int = 0
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    finished_at: datetime | None = None


def record_source_run(engine: Engine, rec: SourceRunRecord) -> None:
    row = asdict(rec)
    row["finished_at"] = rec.finished_at or utcnow()
    with engine.begin() as conn:
        upsert(conn, SourceRun, [row], keys=["run_id", "source_id"])


def source_run_status(engine: Engine, source_id: int, run_id: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(SourceRun.status).where(SourceRun.run_id == run_id,
                                                           SourceRun.source_id == source_id)).scalar()


def source_runs_in_run(engine: Engine, run_id: str, names: list[str]) -> dict[str, tuple[str, str | None]]:
    """Name → (status, reason) of the ``source_runs`` rows of ``run_id`` among ``names``
    (what a retried batch need not fetch again)."""
    with engine.connect() as conn:
        rows = conn.execute(select(Source.name, SourceRun.status, SourceRun.reason)
                            .join(SourceRun, SourceRun.source_id == Source.id)
                            .where(SourceRun.run_id == run_id, Source.name.in_(names)))
        return {r.name: (r.status, r.reason) for r in rows}


def source_runs_of(engine: Engine, run_id: str) -> list[SourceRunRecord]:
    """Every source's record of run ``run_id``."""
    with engine.connect() as conn:
        rows = conn.execute(select(SourceRun.run_id, SourceRun.source_id, SourceRun.status, SourceRun.reason,
                                   SourceRun.entries, SourceRun.new_entries, SourceRun.new_articles,
                                   SourceRun.failures_by_reason, SourceRun.finished_at)
                            .where(SourceRun.run_id == run_id).order_by(SourceRun.id)).all()
    return [SourceRunRecord(r.run_id, r.source_id, r.status, r.reason, r.entries or 0, r.new_entries or 0,
                            r.new_articles or 0, r.failures_by_reason or {}, r.finished_at) for r in rows]


# ---------------------------------------------------------------------------
# feed_entries: what the feeds listed, and the backlog
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NewFeedEntry:
    """An entry to record (once, when first seen)."""

    guid: str
    url: str | None
    canonical_url: str | None
    title: str | None
    author: str | None
    published_at: datetime | None
    summary: str | None
    content: str | None
    tags: list[str]
    first_seen_at: datetime


@dataclass(frozen=True)
class PendingEntry:
    """An entry waiting for its article."""

    id: int
    url: str
    title: str | None
    author: str | None
    published_at: datetime | None
    summary: str | None
    content: str | None


def store_feed_entries(engine: Engine, source_id: int, entries: list[NewFeedEntry]) -> int:
    """Record the entries not seen before (an entry is kept as first seen); returns how many were new.

    One executemany of one cached ``INSERT … ON CONFLICT DO NOTHING RETURNING id``: the
    database says which rows were new, so a concurrent run storing the same entries is
    not counted here too (two counts around the insert would), and a 1,000-entry feed
    costs one statement, not a row-by-row ORM flush.
    """
    if not entries:
        return 0
    rows = [{"source_id": source_id, "guid": e.guid, "url": e.url, "canonical_url": e.canonical_url,
             "title": e.title, "author": e.author, "published_at": e.published_at, "summary": e.summary,
             "content": e.content, "tags": list(e.tags), "first_seen_at": e.first_seen_at} for e in entries]
    with engine.begin() as conn:
        return len(insert_ignore(conn, FeedEntryRow, rows, keys=["source_id", "guid"], returning="id"))


def pending_entries_query(source_id: int):
    """Entries of a source that have a (canonicalisable) URL and no article yet, oldest first.

    "Oldest" is the entry's own date, else when it was first seen (undated
    entries wait in arrival order); the id breaks ties, so the order — and so
    which entries one capped run takes — is the same on every run and backend.
    """
    when = func.coalesce(FeedEntryRow.published_at, FeedEntryRow.first_seen_at)
    return (select(FeedEntryRow.id, FeedEntryRow.url, FeedEntryRow.title, FeedEntryRow.author,
                   FeedEntryRow.published_at, FeedEntryRow.summary, FeedEntryRow.content)
            .where(FeedEntryRow.source_id == source_id, FeedEntryRow.article_id.is_(None),
                   FeedEntryRow.url.is_not(None),
                   # a URL that cannot be canonicalised never becomes an article: it must not
                   # sit at the head of the queue and take the cap on every run
                   FeedEntryRow.canonical_url.is_not(None))
            .order_by(when.asc(), FeedEntryRow.id.asc()))


def pending_entries(engine: Engine, source_id: int, limit: int) -> list[PendingEntry]:
    """Up to ``limit`` entries of the source waiting for an article, oldest first."""
    with engine.connect() as conn:
        return [PendingEntry(*r) for r in conn.execute(pending_entries_query(source_id).limit(limit))]


def _backlog(conn, source_id: int) -> int:
    return conn.execute(select(func.count()).select_from(pending_entries_query(source_id).subquery())).scalar_one()


def backlog(engine: Engine, source_id: int) -> int:
    """How many entries of the source wait for an article."""
    with engine.connect() as conn:
        return _backlog(conn, source_id)


def link_entries(engine: Engine, source_id: int, article_of: dict[int, int]) -> int:
    """Point entries at their articles ({entry id: article id}), re-apply the metadata rule
    to those articles (this feed may name them better than whoever stored them) and
    return the source's backlog, in one transaction.

    One executemany of one cached UPDATE, in entry-id order (two runs linking overlapping
    entries on PostgreSQL take their row locks in the same order)."""
    with engine.begin() as conn:
        if article_of:
            stmt = (update(FeedEntryRow.__table__).where(FeedEntryRow.__table__.c.id == bindparam("entry_id"))
                    .values(article_id=bindparam("linked_article_id")))
            conn.execute(stmt, [{"entry_id": e, "linked_article_id": a} for e, a in sorted(article_of.items())])
        apply_metadata_rule(conn, article_of.values())
        return _backlog(conn, source_id)


# ----------------------------------------------------------------------------- subreddits
def upsert_reddit_source(engine: Engine, name: str, *, url: str, outlet: str, enabled: bool = True) -> int:
    """Upsert a subreddit's ``sources`` row (kind ``reddit``); returns its id.
    Only identity columns are updated, so the fetch state survives."""
    with engine.begin() as conn:
        upsert(conn, Source, [{"name": name, "kind": "reddit", "url": url, "outlet": outlet,
                               "tags": ["reddit"], "enabled": enabled, "consecutive_failures": 0, "gone_count": 0}],
               keys=["name"], update=["kind", "url", "outlet", "enabled"])
        return conn.execute(select(Source.id).where(Source.name == name)).scalar_one()


def record_reddit_outcome(engine: Engine, source_id: int, run_key: str, *, status: str, reason: str | None,
                             http_status: int | None = None, counts: Mapping | None = None,
                             failures: Mapping | None = None, now: datetime | None = None) -> None:
    """Fetch state on ``sources`` and this run's row in ``source_runs``.

    ``status`` is ``ok``, ``failed`` or ``skipped``. A rate limit is not the
    subreddit's fault: it is recorded but does not count as a failure in a row.
    """
    now = now or utcnow()
    counts = counts or {}
    with engine.begin() as conn:
        cur = conn.execute(select(Source.consecutive_failures).where(Source.id == source_id)).scalar_one()
        # An Airflow retry of the same run failing again is the same failure, not one more.
        earlier = conn.execute(select(SourceRun.status).where(SourceRun.run_id == run_key,
                                                              SourceRun.source_id == source_id)).scalar()
        values: dict = {"last_fetched_at": now, "last_status": http_status, "last_error": reason}
        if status == "ok":
            values.update(last_success_at=now, consecutive_failures=0)
        elif status == "failed" and reason != "rate_limited":
            values.update(consecutive_failures=(cur or 0) + (0 if earlier == "failed" else 1))
        if status != "skipped":
            conn.execute(update(Source).where(Source.id == source_id).values(**values))
        upsert(conn, SourceRun, [{"run_id": run_key, "source_id": source_id, "status": status, "reason": reason,
                                  "entries": counts.get("posts", 0), "new_entries": counts.get("new_posts", 0),
                                  "new_articles": counts.get("articles", 0), "failures_by_reason": dict(failures or {}),
                                  "finished_at": now}],
               keys=["run_id", "source_id"])
