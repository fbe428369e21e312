"""Extract many pages on every core: a reusable, order-preserving process pool.

trafilatura is pure-Python CPU work (lxml parsing aside), so threads would
serialise on the GIL; processes are the way to use more than one core.

Design choices, and why:

* **Workers never import the caller's ``__main__``.** ``spawn`` and
  ``forkserver`` children normally re-run the parent's main script (as
  ``__mp_main__``) so that functions defined there unpickle. Under Airflow the
  main script is the ``airflow`` entry point: re-running it in a worker imports
  ``airflow``, which configures its ORM from the task supervisor's
  ``airflow-db-not-allowed:///`` URL and dies, so every page ended
  ``worker_crashed`` under a real scheduler while ``dag.test()`` and pytest
  (whose ``__main__`` is harmless) passed. Our processes start with a blank
  ``__main__`` instead (:class:`_CleanMainProcess`), exactly as if the parent
  were an interactive interpreter: the work they run is
  :func:`extract_task` or another function of an importable module, never
  something defined in a script. See docs/extraction.md.
* **A pool that cannot run at all is a systemic failure**, not a page's: when
  fresh workers fail a no-op health check, :class:`ExtractionPoolError` is
  raised so the task fails (and Airflow retries it) instead of recording
  every page as ``worker_crashed``.
* **forkserver start method** (spawn where forkserver is unavailable). The
  caller is typically an Airflow task process, itself forked from a
  multi-threaded supervisor with open sockets and signal handlers. ``fork``
  from such a process copies locks held by other threads (deadlock risk) and
  all that state into every worker. A forkserver is a fresh, single-threaded
  interpreter; it imports trafilatura once (``set_forkserver_preload``), warms
  the extractor's caches on a built-in page (:mod:`.forkserver_warmup`) and
  forks cheap, clean workers from that, so workers start in milliseconds, warm,
  instead of re-importing everything as ``spawn`` would. :func:`prestart_pool`
  starts it before the caller fetches, so those imports overlap the network.
* **One lazy pool per process, reused across calls**: starting workers costs
  more than extracting a small batch. It is rebuilt if the worker count
  changes, if it broke, or if this process is a fork of the one that made it.
* **Chunks** (several pages per task) cut pickling/IPC round trips; results
  are put back in input order.
* **In-process** for ``workers=1``, a small batch when no pool is running yet,
  or inside a daemonic process (which may not have children).
* **A crashing or stuck worker loses nothing**: ``BrokenProcessPool`` (or a
  chunk over its time budget, whose workers are then killed) fails every
  outstanding chunk, so those pages are retried one at a time in a fresh
  pool; the page that kills a worker again is recorded as ``failed`` with
  reason ``worker_crashed`` (or ``extractor_timeout``), the others get their
  extraction.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import multiprocessing.context
import os
import sys
import threading
import types
from contextlib import contextmanager
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable

from newsroom.extract.article import extract_article
from newsroom.records import Extraction

log = logging.getLogger(__name__)

__all__ = ["ExtractTask", "ExtractionPoolError", "extract_many", "extract_task", "default_workers",
           "prestart_pool", "shutdown_pool", "warm_pool"]

# Below this many pages, starting a pool costs more than it saves.
MIN_BATCH_FOR_NEW_POOL = 6
MAX_CHUNK = 8
# A page still being extracted after this long is stuck (pathological markup), not slow.
PAGE_TIMEOUT_S = 90.0
CHUNKS_PER_WORKER = 4


@dataclass(frozen=True, slots=True)
class ExtractTask:
    """One page to extract: its final URL, raw bytes and the feed's own content (HTML) if any."""

    url: str
    html: bytes
    feed_fallback: str | None = None
    need_date: bool = True  # False when the source already dated the entry
    page_metadata: bool = True  # False when the source already gave title and date


def extract_task(task: ExtractTask) -> Extraction:
    """The default per-page work: :func:`newsroom.extract.article.extract_article`."""
    return extract_article(task.html, task.url, feed_fallback=task.feed_fallback, need_date=task.need_date,
                           page_metadata=task.page_metadata)


def _run_one(fn: Callable[[ExtractTask], Extraction], task: ExtractTask) -> Extraction:
    try:
        return fn(task)
    except Exception as exc:  # extract_article never raises; a custom fn might
        return Extraction(url=task.url, status="failed", reason=f"extractor_error: {type(exc).__name__}: {exc}"[:500])


def _run_chunk(fn: Callable[[ExtractTask], Extraction], tasks: list[ExtractTask]) -> list[Extraction]:
    return [_run_one(fn, t) for t in tasks]


def exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: the worker exits as soon as the process that owns the pool is gone.

    A ``ProcessPoolExecutor`` worker holds both ends of its call queue, so when its owner
    dies without shutting the pool down (an Airflow task process killed on timeout, a
    SIGKILL, an OOM kill) the worker never sees EOF and waits forever — and the forkserver
    stays with it, since every worker keeps the forkserver's "alive" pipe open. Seen here as
    forkservers and workers orphaned for hours after killed tasks. So each worker watches its
    owner: a pidfd (readable when that process exits, immune to pid reuse) where the kernel
    has one, else a poll of the pid. When the workers go, the forkserver sees EOF and exits.
    """
    import gc
    import select

    # The worker inherits every module object the forkserver imported (trafilatura, lxml,
    # htmldate, …): frozen, the cyclic collector stops walking them on every full collection.
    gc.freeze()

    def watch() -> None:
        try:
            fd = os.pidfd_open(parent_pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                try:
                    os.kill(parent_pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:  # a different process took the pid: ours is gone
                    break
                threading.Event().wait(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="newsroom-exit-with-parent", daemon=True).start()


def default_workers() -> int:
    """CPU cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class ExtractionPoolError(RuntimeError):
    """The worker processes cannot run even a no-op: a fault of the machine or the
    environment (every page would fail), not of any page. Callers let it fail the task."""


# Swapping ``sys.modules['__main__']`` must not interleave between two starting processes.
_MAIN_SWAP = threading.Lock()


@contextmanager
def _blank_main():
    """While a worker process starts, ``__main__`` is an empty module.

    ``multiprocessing.spawn.get_preparation_data`` reads ``sys.modules['__main__']``
    when a ``spawn``/``forkserver`` process starts and tells the child to re-run
    that script (``init_main_from_path``). An empty module has neither
    ``__file__`` nor ``__spec__``, so the child runs no main-script code at all.
    """
    with _MAIN_SWAP:
        real = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if real is not None:
                sys.modules["__main__"] = real


class _CleanMainForkServerProcess(multiprocessing.context.ForkServerProcess):
    """A forkserver process started under :func:`_blank_main` (module level: the child unpickles it)."""

    def start(self) -> None:
        with _blank_main():
            super().start()


class _CleanMainSpawnProcess(multiprocessing.context.SpawnProcess):
    """A spawn process started under :func:`_blank_main`."""

    def start(self) -> None:
        with _blank_main():
            super().start()


class _CleanMainForkServerContext(multiprocessing.context.ForkServerContext):
    # Hooking the Process class (rather than wrapping our submit calls) also covers
    # processes the executor starts by itself, e.g. to replace a dead worker.
    Process = _CleanMainForkServerProcess


class _CleanMainSpawnContext(multiprocessing.context.SpawnContext):
    Process = _CleanMainSpawnProcess


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        base = multiprocessing.get_context("forkserver")
        # Only effective before the forkserver starts; harmless afterwards. Without
        # "__main__" in the list the forkserver itself never imports the main script.
        base.set_forkserver_preload(["newsroom.extract.article", "newsroom.extract.page",
                                     "newsroom.extract.forkserver_warmup"])
        return _CleanMainForkServerContext()
    return _CleanMainSpawnContext()


class _Pool:
    """The module's one executor, created on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._workers = 0
        self._pid = 0

    def running(self, workers: int) -> bool:
        return self._executor is not None and self._workers == workers and self._pid == os.getpid()

    def get(self, workers: int) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is not None and self._pid != os.getpid():
                # Inherited through fork: the workers belong to the parent. Forget, don't shut down.
                self._executor = None
            if self._executor is not None and self._workers != workers:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            if self._executor is None:
                self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=_context(),
                                                     initializer=exit_with_parent, initargs=(os.getpid(),))
                self._workers, self._pid = workers, os.getpid()
            return self._executor

    def discard(self, executor: ProcessPoolExecutor, *, kill: bool = False) -> None:
        """Drop ``executor``; with ``kill``, stop its workers now (a page is stuck in one)."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
        if kill:
            # ProcessPoolExecutor cannot cancel a running call; killing the workers is the
            # only way to reclaim them (Python 3.14 has executor.kill_workers() for this).
            for proc in list((getattr(executor, "_processes", None) or {}).values()):
                try:
                    proc.kill()
                except Exception:
                    pass
        executor.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None and self._pid == os.getpid():
            executor.shutdown(wait=True, cancel_futures=True)


_POOL = _Pool()


def warm_pool(workers: int = 0, *, background: bool = False) -> bool:
    """Start the worker processes now, without waiting for them to run anything.

    Start-up (a fresh interpreter importing trafilatura) takes about a second;
    a caller that knows a large batch is coming calls this before fetching, so
    the start-up overlaps the network instead of delaying the first batch.
    Returns whether a pool is (being) started; from then on :func:`extract_many`
    sends even small batches to it.

    Starting a worker blocks until the forkserver has finished its imports; with
    ``background`` that wait happens in a helper thread, so a caller that is about
    to fetch is not held up by it (the pool counts as running at once).
    """
    workers = default_workers() if workers <= 0 else workers
    if workers <= 1 or multiprocessing.current_process().daemon:
        return False
    executor = _POOL.get(workers)

    def spawn() -> None:
        try:
            for _ in range(workers):
                executor.submit(os.getpid)  # each submit lets the executor spawn one more worker
        except Exception as exc:  # a broken pool is found (and reported) by extract_many
            log.debug("starting extraction workers failed: %r", exc)

    if background:
        threading.Thread(target=spawn, name="newsroom-pool-start", daemon=True).start()
    else:
        spawn()
    return True


def prestart_pool(workers: int = 0) -> bool:
    """Start the forkserver now, so its imports (trafilatura, lxml, htmldate: about a second of
    CPU) run while the caller fetches, not when the first pages are ready.

    Cheaper than :func:`warm_pool` when it is not yet known whether there will be pages to
    extract: no worker process is made, and small batches still run in-process. Returns
    whether a forkserver is (being) started.
    """
    import multiprocessing.forkserver

    workers = default_workers() if workers <= 0 else workers
    if workers <= 1 or multiprocessing.current_process().daemon:
        return False
    if not isinstance(_context(), multiprocessing.context.ForkServerContext):
        return False
    with _blank_main():  # as when a worker starts it: the forkserver never sees the caller's __main__
        multiprocessing.forkserver.ensure_running()
    return True


def shutdown_pool() -> None:
    """Stop the worker processes (they are also stopped at interpreter exit)."""
    _POOL.shutdown()


def _crashed(task: ExtractTask, detail: str) -> Extraction:
    return Extraction(url=task.url, status="failed", reason=f"worker_crashed: {detail}"[:500])


def _timed_out(task: ExtractTask, seconds: float) -> Extraction:
    return Extraction(url=task.url, status="failed", reason=f"extractor_timeout: over {seconds:g} s")


def _in_process(items: list[ExtractTask], fn: Callable[[ExtractTask], Extraction]) -> list[Extraction]:
    return [_run_one(fn, t) for t in items]


def extract_many(
    items: list[ExtractTask],
    workers: int = 0,
    *,
    page_timeout_s: float = PAGE_TIMEOUT_S,
    extract_fn: Callable[[ExtractTask], Extraction] = extract_task,
) -> list[Extraction]:
    """Extract every task, in order, on ``workers`` processes (0: one per core).

    A page still running after ``page_timeout_s`` is recorded as failed
    (``extractor_timeout``) and its worker killed; pages processed in-process
    are not timed. ``extract_fn`` must be a module-level (picklable) function;
    the default is :func:`extract_task`. Always returns one
    :class:`Extraction` per task.
    """
    items = list(items)
    if not items:
        return []
    # The pool keeps its configured size whatever the batch, so it is not rebuilt per batch.
    workers = default_workers() if workers <= 0 else workers
    if (
        workers <= 1
        or multiprocessing.current_process().daemon
        # A running pool takes even one page: the caller's process has other work to do.
        or (len(items) < MIN_BATCH_FOR_NEW_POOL and not _POOL.running(workers))
    ):
        return _in_process(items, extract_fn)

    chunk = max(1, min(MAX_CHUNK, math.ceil(len(items) / (workers * CHUNKS_PER_WORKER))))
    results: list[Extraction | None] = [None] * len(items)
    retry: list[int] = []
    executor = _POOL.get(workers)
    futures: list[tuple[range, Future]] = []
    try:
        for start in range(0, len(items), chunk):
            span = range(start, min(start + chunk, len(items)))
            futures.append((span, executor.submit(_run_chunk, extract_fn, [items[i] for i in span])))
    except (BrokenProcessPool, RuntimeError):
        # Broken, or shut down by another thread's batch ("cannot schedule new futures
        # after shutdown"): the unsubmitted rest is retried below.
        pass
    submitted = {i for span, _ in futures for i in span}
    retry.extend(i for i in range(len(items)) if i not in submitted)
    broken = False
    for span, fut in futures:
        try:
            # Earlier chunks are done by now, so this one is running or about to.
            for i, res in zip(span, fut.result(timeout=page_timeout_s * len(span))):
                results[i] = res
        except (BrokenProcessPool, FuturesTimeout, CancelledError) as exc:
            # Cancelled: the pool was discarded (a stuck chunk, here or in another thread's
            # batch) before this chunk ran; like a broken pool's chunks, it is retried.
            if isinstance(exc, FuturesTimeout) and not broken:
                _POOL.discard(executor, kill=True)  # fails the other outstanding chunks too
            broken = True
            retry.extend(span)
        except Exception as exc:  # e.g. a result that could not be pickled
            for i in span:
                results[i] = Extraction(url=items[i].url, status="failed",
                                        reason=f"extractor_error: {type(exc).__name__}: {exc}"[:500])
    if broken or retry:
        _POOL.discard(executor)
        _check_workers_start(workers)  # a pool that cannot run a no-op is the machine's fault, not a page's
        log.warning("extraction pool broke (crash or timeout); retrying %d pages one at a time", len(retry))
        for i in sorted(retry):
            results[i] = _retry_alone(items[i], workers, extract_fn, page_timeout_s)
    return [r if r is not None else _crashed(items[i], "no result") for i, r in enumerate(results)]


def _check_workers_start(workers: int, timeout_s: float = 60.0) -> None:
    """Raise :class:`ExtractionPoolError` unless fresh workers can run ``os.getpid``."""
    executor = _POOL.get(workers)
    try:
        executor.submit(os.getpid).result(timeout=timeout_s)
    except (BrokenProcessPool, FuturesTimeout) as exc:
        _POOL.discard(executor, kill=True)
        raise ExtractionPoolError(
            f"extraction worker processes cannot start ({type(exc).__name__}: {exc or 'no detail'}); "
            "no page was at fault") from exc


def _retry_alone(task: ExtractTask, workers: int, fn: Callable[[ExtractTask], Extraction],
                 timeout_s: float) -> Extraction:
    """Run one page by itself so a crash or a hang is attributed to the page that causes it."""
    executor = _POOL.get(workers)
    try:
        try:
            return executor.submit(_run_chunk, fn, [task]).result(timeout=timeout_s)[0]
        except (CancelledError, RuntimeError):  # another thread discarded the pool first: once more
            executor = _POOL.get(workers)
            return executor.submit(_run_chunk, fn, [task]).result(timeout=timeout_s)[0]
    except FuturesTimeout:
        _POOL.discard(executor, kill=True)
        return _timed_out(task, timeout_s)
    except BrokenProcessPool:
        _POOL.discard(executor)
        return _crashed(task, "the worker process died while extracting this page")
    except Exception as exc:
        return Extraction(url=task.url, status="failed", reason=f"extractor_error: {type(exc).__name__}: {exc}"[:500])
