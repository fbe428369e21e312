"""Feeds in batches: one Airflow task ingests several feeds, concurrently.

    plan_feed_batches(names, feeds_per_task=20)     # due names → balanced batches
    ingest_feed_batch(names, settings=..., run_id=...)  # each one through ingest_feed

Why batches: under a scheduler every task is a fresh process that pays the task
runner's start-up (~1-2 s of CPU) and its own cold extraction pool. One task per
feed is fine for a dozen feeds and costs most of an hour for a thousand on two
cores (``benchmarks/scale_sources.py``). A batch pays that once for many feeds and
shares the warm pool and the warehouse connections between them.

What stays true per source: each feed still goes through
:func:`newsroom.pipeline.ingest.ingest_feed`, so it gets its own ``source_runs``
row, ``sources.last_error``, backoff and ``fetch_log`` rows; one source's failure
(or bug) is recorded and never stops the others of its batch; the result lists
every source by name. A batch of one is exactly the per-source task of old.

Politeness: at most ``concurrency`` feeds of a batch are in flight, and at most one
per feed host, so the per-host limit a feed's own page fetches keep
(``FetchPolicy.per_host`` in ``Fetcher.get_many``) is not multiplied by the batch.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from newsroom.config import load_sources
from newsroom.pipeline.ingest import PERMANENT_REASONS, SourceFailed, ingest_feed
from newsroom.warehouse import open_warehouse
from newsroom.warehouse.sources import source_runs_in_run

log = logging.getLogger(__name__)

#: Feed tasks of one run that may run at once (the DAG's ``max_active_tis_per_dagrun``):
#: a small run is split into at least this many batches so it still uses them all.
FEED_TASKS_IN_FLIGHT = 4


def plan_feed_batches(names: list[str], *, feeds_per_task: int,
                      min_batches: int = FEED_TASKS_IN_FLIGHT) -> list[list[str]]:
    """Split ``names`` (in their given order) into contiguous batches of at most
    ``feeds_per_task``, balanced in size, and never fewer than ``min(len(names),
    min_batches)`` so a few feeds still run in parallel tasks, one each.

    ``feeds_per_task=1`` is one task per feed.
    """
    if feeds_per_task < 1:
        raise ValueError(f"feeds_per_task must be at least 1, not {feeds_per_task}")
    n = len(names)
    if n == 0:
        return []
    k = max(math.ceil(n / feeds_per_task), min(n, max(min_batches, 1)))
    size, extra = divmod(n, k)
    out, start = [], 0
    for i in range(k):
        end = start + size + (1 if i < extra else 0)
        out.append(list(names[start:end]))
        start = end
    return out


def batch_label(names: list[str], limit: int = 250) -> str:
    """The batch's name in the UI (Airflow's rendered map index holds 250 characters):
    its sources, or the first and last of them when they do not fit."""
    full = ", ".join(names)
    if len(full) <= limit:
        return full
    short = f"{names[0]} … {names[-1]} ({len(names)} feeds)"
    return short if len(short) <= limit else short[: limit - 1] + "…"


@dataclass
class FeedBatch:
    """What a batch did: one result per source, in batch order (``source``, ``status``,
    counts or ``reason``), and the exception of every source that did not succeed."""

    results: list[dict] = field(default_factory=list)
    errors: dict[str, BaseException] = field(default_factory=dict)

    @property
    def failed(self) -> dict[str, SourceFailed]:
        return {n: e for n, e in self.errors.items() if isinstance(e, SourceFailed)}

    @property
    def other_errors(self) -> dict[str, BaseException]:
        """Systemic failures and bugs: not a source's own fault."""
        return {n: e for n, e in self.errors.items() if not isinstance(e, SourceFailed)}


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except Exception:
        return ""


def ingest_feed_batch(names: list[str], *, settings, run_id: str, force: bool = False,
                      ignore_backoff: bool = False, resume: bool = False, concurrency: int | None = None,
                      now: datetime | None = None, engine=None, sources=None) -> FeedBatch:
    """Ingest ``names`` with :func:`ingest_feed`, up to ``concurrency`` at once and one per
    feed host, and return every source's outcome; never raises for one source.

    ``resume`` (an Airflow retry of the batch) leaves alone the sources that already
    finished in ``run_id`` (ok, not modified, skipped): re-fetching them would overwrite
    their ``source_runs`` counts with a 304's zeros; nor does it ask again a source that
    failed for good (404, not a feed, …), which stays failed. The others run again.
    """
    from newsroom.fetch.policy import FetchPolicy

    sources = sources or load_sources(settings.sources)
    engine = engine or open_warehouse(settings.resolved_warehouse_url)
    policy = FetchPolicy.from_settings(settings)
    concurrency = max(1, concurrency or policy.concurrency)
    url_of = {f.name: f.url for f in sources.feeds}
    outcome: dict[str, dict | BaseException] = {}
    for n, (status, reason) in (source_runs_in_run(engine, run_id, names) if resume else {}).items():
        if status in ("ok", "not_modified", "skipped"):
            outcome[n] = {"source": n, "status": status, "reason": "finished earlier in this run"}
        elif status == "failed" and (reason or "").startswith(PERMANENT_REASONS):
            outcome[n] = SourceFailed(n, reason, "failed earlier in this run; a retry cannot fix it")

    queues: dict[str, deque[str]] = {}
    for n in names:
        if n not in outcome:
            queues.setdefault(_host(url_of.get(n)), deque()).append(n)
    busy: set[str] = set()
    running: dict[Future, tuple[str, str]] = {}

    def one(name: str) -> dict:
        return ingest_feed(name, settings=settings, run_id=run_id, sources=sources, engine=engine, force=force,
                           ignore_backoff=ignore_backoff, now=now)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="newsroom-feed") as pool:
        while queues or running:
            for host in list(queues):
                if len(running) >= concurrency:
                    break
                if host in busy:
                    continue
                name = queues[host].popleft()
                if not queues[host]:
                    del queues[host]
                busy.add(host)
                running[pool.submit(one, name)] = (host, name)
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                host, name = running.pop(fut)
                busy.discard(host)
                try:
                    outcome[name] = fut.result()
                except SourceFailed as exc:  # recorded by ingest_feed already
                    outcome[name] = exc
                except Exception as exc:  # systemic, or a bug: this source's, the others go on
                    log.error("feed %r: %s: %s", name, type(exc).__name__, exc,
                              exc_info=not _is_expected(exc))
                    outcome[name] = exc

    batch = FeedBatch()
    for n in names:
        got = outcome[n]
        if isinstance(got, BaseException):
            batch.errors[n] = got
            reason = got.reason if isinstance(got, SourceFailed) else f"{type(got).__name__}: {got}"[:500]
            batch.results.append({"source": n, "status": "failed", "reason": reason})
        else:
            batch.results.append(got)
    return batch


def _is_expected(exc: BaseException) -> bool:
    from newsroom.pipeline.outcome import is_permanent, is_systemic

    return is_permanent(exc) or is_systemic(exc)
