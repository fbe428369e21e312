"""Feed ingestion: one source per call, as one Airflow mapped task.

    sync_sources(engine, sources)                 # sources file → ``sources`` rows
    due_feed_sources(engine, sources, now)        # names whose backoff has elapsed
    ingest_feed(name, settings=..., run_id=...)   # conditional GET → parse → articles
    summarize_run(engine, dag_id=..., run_id=...) # ``pipeline_runs`` row for the run

A failing source records its reason in ``sources``/``source_runs``/``fetch_log``
and raises :class:`SourceFailed`, so only its own task fails; the summary reads
the warehouse, not XCom, and so sees failed sources too.

Backoff is per source and counts runs, not attempts: Airflow retries of one run that
fail again are one failure (``consecutive_failures`` is raised once per ``run_id``).
A systemic failure (the extraction pool cannot run) is recorded against the run but
is not the source's fault, so it does not move the source's backoff. Sources that
left the sources file are retired (``retired_at``): never fetched, never failing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from newsroom.captures import CaptureStore
from newsroom.config import SourcesFile, load_sources
from newsroom.dedup.urls import canonicalize_url
from newsroom.pipeline.articles import ArticleCandidate, store_articles
from newsroom.pipeline.outcome import SystemicFailure
from newsroom.records import FetchResult
from newsroom.warehouse.reddit import source_name as reddit_source_name
from newsroom.warehouse import Warehouse, open_warehouse
from newsroom.warehouse import sources as wsources
from newsroom.warehouse.captures import save_capture
from newsroom.warehouse.fetch_log import FetchLogEntry, append_fetch_log
from newsroom.warehouse.runs import PipelineRunSummary, save_pipeline_run
from newsroom.warehouse import utcnow
from newsroom.warehouse.sources import NewFeedEntry, SourceRunRecord, SourceSpec, SourceState

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
BACKOFF_BASE = timedelta(hours=1)
BACKOFF_MAX = timedelta(hours=24)
GONE_LIMIT = 3  # a source answering 410 this many times in a row is disabled
# Reasons that will not fix themselves by retrying the task right away.
PERMANENT_REASONS = ("http_404", "http_410", "http_401", "http_403", "not_a_feed", "malformed_feed",
                     "empty_body", "blocked_address", "blocked_scheme", "host_not_allowed", "too_large",
                     "xml_entities_refused", "invalid_url", "disabled", "too_many_redirects", "redirect_loop")


class SourceFailed(RuntimeError):
    """A source could not be ingested; the reason is already recorded."""

    def __init__(self, name: str, reason: str, detail: str | None = None, retry_after_s: float | None = None,
                 next_due_at: datetime | None = None):
        self.name, self.reason, self.detail = name, reason, detail
        self.retry_after_s, self.next_due_at = retry_after_s, next_due_at
        super().__init__(f"source {name!r} failed: {reason}" + (f" ({detail})" if detail else ""))

    @property
    def permanent(self) -> bool:
        return self.reason.startswith(PERMANENT_REASONS)


def sync_sources(engine: Warehouse, sources: SourcesFile) -> dict[str, int]:
    """Upsert one ``sources`` row per feed of the file; returns name → id.

    A feed whose URL changed forgets its ETag/Last-Modified and failure count,
    since those belonged to the old URL. Feeds and subreddits no longer in the
    file are marked retired (``retired_at``); listing them again un-retires them.
    """
    listed = {f.name for f in sources.feeds} | {reddit_source_name(s.name) for s in sources.reddit.subreddits}
    specs = [SourceSpec(f.name, f.url, f.display_outlet, list(f.tags), f.enabled) for f in sources.feeds]
    return wsources.sync_feed_sources(engine, specs, listed)


def due_feed_sources(engine: Warehouse, sources: SourcesFile, now: datetime | None = None,
                     force: bool = False, ignore_backoff: bool = False) -> list[str]:
    """Enabled feeds of the file whose backoff has elapsed.

    ``ignore_backoff`` (a manual trigger) lists sources in backoff too, but not the ones the
    pipeline disabled (gone after repeated HTTP 410); ``force`` lists every enabled feed.
    """
    now = now or utcnow()
    names = [f.name for f in sources.enabled_feeds()]
    if force:
        return names
    state = wsources.due_state(engine, names)
    out = []
    for n in names:
        s = state.get(n)
        if s is None or (s.disabled_reason is None and (ignore_backoff or s.next_due_at is None
                                                        or s.next_due_at <= now)):
            out.append(n)
    return out


def backoff_delay(consecutive_failures: int, retry_after_s: float | None = None) -> timedelta:
    """How long to leave a failing source alone: doubling from an hour, capped at a day,
    never less than the server's own Retry-After."""
    delay = min(BACKOFF_BASE * (2 ** max(consecutive_failures - 1, 0)), BACKOFF_MAX)
    if retry_after_s:
        delay = max(delay, timedelta(seconds=min(retry_after_s, BACKOFF_MAX.total_seconds())))
    return delay


class _RequestLog:
    """Collects one ``fetch_log`` row per HTTP request made by the fetcher."""

    def __init__(self, run_id: str | None, source_id: int | None):
        self.run_id, self.source_id, self.rows = run_id, source_id, []

    def __call__(self, res: FetchResult, kind: str) -> None:
        self.rows.append(FetchLogEntry(self.run_id, self.source_id, kind, res.url[:4000], res.status,
                                       len(res.body or b""), res.elapsed_ms, res.error, utcnow()))

    def flush(self, engine: Warehouse) -> None:
        append_fetch_log(engine, self.rows)
        self.rows = []


def _record_outcome(engine: Warehouse, *, source_id: int, run_id: str, status: str, reason: str | None = None,
                    counts: dict | None = None, failures: dict | None = None) -> None:
    counts = counts or {}
    wsources.record_source_run(engine, SourceRunRecord(
        run_id=run_id, source_id=source_id, status=status, reason=reason, entries=counts.get("entries", 0),
        new_entries=counts.get("new_entries", 0), new_articles=counts.get("new_articles", 0),
        failures_by_reason=failures or {}, finished_at=utcnow()))


def _failed_earlier_in_run(engine: Warehouse, source_id: int, run_id: str) -> bool:
    return wsources.source_run_status(engine, source_id, run_id) == "failed"


def _record_failure(engine: Warehouse, src: SourceState, run_id: str, res: FetchResult | None, reason: str,
                    detail: str | None, now: datetime) -> SourceFailed:
    # An Airflow retry of the same run failing again is the same failure, not one more.
    repeat = _failed_earlier_in_run(engine, src.id, run_id)
    failures = src.consecutive_failures + (0 if repeat else 1)
    retry_after = res.retry_after_s if res else None
    gone = (src.gone_count + (0 if repeat else 1)) if reason == "http_410" else 0
    next_due_at = now + backoff_delay(max(failures, 1), retry_after)
    disabled = (f"gone: HTTP 410 on {gone} consecutive fetches; fix the URL in the sources file"
                if gone >= GONE_LIMIT else None)
    wsources.mark_source_failed(engine, src.id, status=res.status if res else None,
                                error=f"{reason}: {detail}" if detail else reason, fetched_at=now,
                                consecutive_failures=max(failures, 1), gone_count=gone, next_due_at=next_due_at,
                                disabled_reason=disabled)
    _record_outcome(engine, source_id=src.id, run_id=run_id, status="failed", reason=reason)
    return SourceFailed(src.name, reason, disabled or detail, retry_after_s=retry_after, next_due_at=next_due_at)


def _record_success(engine: Warehouse, src: SourceState, res: FetchResult, now: datetime) -> None:
    wsources.mark_source_ok(engine, src.id, status=res.status, fetched_at=now, etag=res.etag,
                            last_modified=res.last_modified, validators=not res.not_modified)


def ingest_feed(name: str, *, settings, run_id: str, sources: SourcesFile | None = None, force: bool = False,
                ignore_backoff: bool = False, now: datetime | None = None, engine: Warehouse | None = None) -> dict:
    """Ingest one feed: conditional GET, parse, new entries' pages → articles.

    Returns counts (``status``, ``entries``, ``new_entries``, ``new_articles``,
    ``failures_by_reason``). Raises :class:`SourceFailed` after recording the
    reason when the feed itself can't be used; lets :class:`SystemicFailure`
    through (recorded for the run, the source's backoff untouched). ``force``
    fetches a disabled source too; ``ignore_backoff`` (manual triggers, retries)
    fetches a source in backoff.
    """
    from newsroom.extract.pool import ExtractionPoolError, prestart_pool

    # The extraction forkserver's imports (a fifth of a second of CPU) run on the other core
    # while this process imports the fetch and feed modules, reads the sources file, looks
    # the source up and fetches the feed, not after: a new task's first pages then find it
    # ready. No worker is started until there are pages. A source that turns out to be
    # skipped leaves an idle forkserver for the task's other sources (or none): cheaper
    # than making every task's first batch wait for one.
    prestart_pool(settings.extract_workers)
    from newsroom.feeds.parse import parse_feed
    from newsroom.fetch.client import Fetcher
    from newsroom.fetch.policy import FetchPolicy

    now = now or utcnow()
    sources = sources or load_sources(settings.sources)
    engine = engine or open_warehouse(settings.resolved_warehouse_url)
    src = wsources.source_by_name(engine, name)
    if src is None:
        sync_sources(engine, sources)
        src = wsources.source_by_name(engine, name)
    if src is None:
        raise SourceFailed(name, "unknown_source", "not in the sources file")
    if src.disabled_reason and not force:
        _record_outcome(engine, source_id=src.id, run_id=run_id, status="skipped", reason="disabled")
        return {"source": name, "status": "skipped", "reason": src.disabled_reason}
    if src.retired_at is not None:
        return {"source": name, "status": "skipped", "reason": "retired: not in the sources file"}
    if not (force or ignore_backoff) and src.next_due_at is not None and src.next_due_at > now:
        _record_outcome(engine, source_id=src.id, run_id=run_id, status="skipped", reason="backoff")
        return {"source": name, "status": "skipped", "reason": f"backoff until {src.next_due_at.isoformat()}"}

    log = _RequestLog(run_id, src.id)
    store = CaptureStore(settings.data_dir)
    try:
        if not settings.host_allowed(src.url):
            raise _record_failure(engine, src, run_id, None, "host_not_allowed", src.url, now)
        with Fetcher(FetchPolicy.from_settings(settings), on_request=log) as fetcher:
            res = fetcher.get(src.url, etag=src.etag, last_modified=src.last_modified, accept=FEED_ACCEPT,
                              kind="feed")
            if res.not_modified:
                # Nothing new in the feed, but entries past the cap of earlier runs still wait.
                counts = _work_off_pending(engine, fetcher, store, settings, src, run_id)
                _record_success(engine, src, res, now)
                _record_outcome(engine, source_id=src.id, run_id=run_id, status="not_modified",
                                counts={"entries": 0, "new_entries": 0, **counts},
                                failures=counts["failures_by_reason"])
                return {"source": name, "status": "not_modified", "entries": 0, "new_entries": 0, **counts}
            if res.error or not res.ok:
                raise _record_failure(engine, src, run_id, res, res.error or f"http_{res.status}",
                                      res.error_detail, now)
            save_capture(engine, store, res.body, kind="feed", url=src.url, status=res.status,
                         content_type=res.content_type or None)
            parsed = parse_feed(res.body, url=res.final_url or src.url,
                                content_type=res.headers.get("content-type"))
            if parsed.error:
                reason, _, detail = parsed.error.partition(":")
                raise _record_failure(engine, src, run_id, res, reason.strip(), detail.strip() or None, now)
            try:
                counts = _load_entries(engine, fetcher, store, settings, src, parsed.entries, run_id, now)
            except (SystemicFailure, ExtractionPoolError) as exc:
                # Not the source's fault: the run knows, the backoff does not move. The entries
                # are kept without articles, so the retry (or the next run) extracts them.
                _record_outcome(engine, source_id=src.id, run_id=run_id, status="failed",
                                reason=f"systemic: {exc}"[:500])
                raise
        _record_success(engine, src, res, now)
        # A recoverable problem (truncated XML, a guessed charset) is kept with the run, not
        # only in the task's return value: the warehouse is where operators look.
        _record_outcome(engine, source_id=src.id, run_id=run_id, status="ok", reason=parsed.warning,
                        counts=counts, failures=counts["failures_by_reason"])
        return {"source": name, "status": "ok", "warning": parsed.warning, **counts}
    finally:
        log.flush(engine)


def _load_entries(engine: Warehouse, fetcher, store, settings, src: SourceState, entries, run_id: str,
                  now: datetime) -> dict:
    """Record the feed's entries, then work off the pending ones (new and left from earlier runs)."""
    rows, seen = [], set()
    for e in entries:
        if e.guid in seen:
            continue
        seen.add(e.guid)
        canonical = None
        if e.url:
            try:
                canonical = canonicalize_url(e.url)
            except Exception:
                canonical = None
        rows.append(NewFeedEntry(guid=e.guid[:2000], url=e.url, canonical_url=canonical, title=e.title,
                                 author=e.author, published_at=e.published_at, summary=e.summary,
                                 content=e.content, tags=e.tags, first_seen_at=now))
    new_entries = wsources.store_feed_entries(engine, src.id, rows)
    counts = _work_off_pending(engine, fetcher, store, settings, src, run_id)
    return {"entries": len(rows), "new_entries": new_entries, **counts}


def _work_off_pending(engine: Warehouse, fetcher, store, settings, src: SourceState, run_id: str) -> dict:
    """Turn up to ``max_articles_per_source`` pending entries of ``src`` into articles, oldest first.

    Runs whatever the feed answered (200 or 304): entries past the cap wait
    for the next run, and the next run takes them even when the feed is
    unchanged. Returns ``new_articles``, ``failures_by_reason`` and
    ``backlog`` (entries still waiting afterwards).
    """
    batch = wsources.pending_entries(engine, src.id, settings.max_articles_per_source)
    failures: Counter[str] = Counter()
    new_articles = 0
    ids: dict[str, int | None] = {}
    cands = [ArticleCandidate(url=p.url, title=p.title, author=p.author, published_at=p.published_at,
                              feed_content=p.content or p.summary, outlet=src.outlet, source_name=src.name)
             for p in batch]
    if cands:
        stored = store_articles(engine, cands, settings=settings, fetcher=fetcher, store=store,
                                source_id=src.id, run_id=run_id)
        ids.update(stored.ids)
        new_articles += stored.new_articles
        failures.update(stored.failures_by_reason)
    linked = {p.id: ids[p.url] for p in batch if ids.get(p.url) is not None}
    backlog = wsources.link_entries(engine, src.id, linked)
    return {"new_articles": new_articles, "failures_by_reason": dict(failures), "backlog": backlog}


def summarize_run(engine: Warehouse, *, dag_id: str, run_id: str, interval_start: datetime | None = None,
                  interval_end: datetime | None = None) -> dict:
    """Aggregate ``source_runs`` of ``run_id`` into one ``pipeline_runs`` row (upsert)."""
    rows = wsources.source_runs_of(engine, run_id)
    by_status = Counter(r.status for r in rows)
    failures: Counter[str] = Counter()
    for r in rows:
        if r.status == "failed" and r.reason:
            failures[f"source:{r.reason}"] += 1
        for k, v in (r.failures_by_reason or {}).items():
            failures[f"article:{k}"] += v
    summary = PipelineRunSummary(
        dag_id=dag_id, run_id=run_id, interval_start=interval_start, interval_end=interval_end,
        sources_ok=by_status["ok"] + by_status["not_modified"], sources_failed=by_status["failed"],
        sources_skipped=by_status["skipped"], entries=sum(r.entries for r in rows),
        new_articles=sum(r.new_articles for r in rows), failures_by_reason=dict(failures), finished_at=utcnow())
    save_pipeline_run(engine, summary)
    return {"dag_id": dag_id, "run_id": run_id, "sources_ok": summary.sources_ok,
            "sources_failed": summary.sources_failed, "sources_skipped": summary.sources_skipped,
            "entries": summary.entries, "new_articles": summary.new_articles,
            "failures_by_reason": summary.failures_by_reason}
