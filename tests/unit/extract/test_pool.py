"""extract_many: real worker processes, order kept, pool reused, a crashing worker loses nothing."""

from __future__ import annotations

import os

import pytest

from newsroom.extract import pool as pool_mod
from newsroom.extract.pool import ExtractTask, extract_many, extract_task
from newsroom.records import Extraction
from tests.unit.extract.pages import FEED_CONTENT, PARAGRAPHS, article_page

CRASH = b"<!-- crash-the-worker -->"


def crash_on_marker(task: ExtractTask) -> Extraction:
    """Kill the worker process outright (as a segfault or the OOM killer would) on marked pages."""
    if CRASH in task.html:
        os._exit(13)
    return extract_task(task)


def record_pid(task: ExtractTask) -> Extraction:
    return Extraction(url=task.url, status="ok", text=str(os.getpid()))


def tasks(n: int) -> list[ExtractTask]:
    out = []
    for i in range(n):
        title = f"Story number {i} about the tram network"
        html = article_page(title=title, paragraphs=[f"Paragraph for story {i}. " + p for p in PARAGRAPHS])
        out.append(ExtractTask(url=f"https://daily.example/story/{i}", html=html,
                               feed_fallback=FEED_CONTENT if i % 3 == 0 else None))
    return out


def test_results_in_order_and_equal_to_in_process():
    items = tasks(14) + [ExtractTask(url="https://daily.example/empty", html=b"", feed_fallback=None)]
    parallel = extract_many(items, workers=2)
    serial = [extract_task(t) for t in items]
    assert [r.url for r in parallel] == [t.url for t in items]
    assert [r.model_dump() for r in parallel] == [r.model_dump() for r in serial]
    assert parallel[3].title == "Story number 3 about the tram network"
    assert (parallel[-1].status, parallel[-1].reason) == ("failed", "empty_body")


def test_work_runs_in_other_processes_and_the_pool_is_reused():
    first = extract_many(tasks(12), workers=2, extract_fn=record_pid)
    executor = pool_mod._POOL._executor
    second = extract_many(tasks(12), workers=2, extract_fn=record_pid)
    pids = {int(r.text) for r in first + second}
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2
    assert pool_mod._POOL._executor is executor
    assert executor._mp_context.get_start_method() in ("forkserver", "spawn")


def test_a_crashing_worker_loses_only_its_page():
    items = tasks(12)
    bad = 5
    items[bad] = ExtractTask(url=items[bad].url, html=items[bad].html + CRASH)
    results = extract_many(items, workers=2, extract_fn=crash_on_marker)
    assert len(results) == len(items)
    assert results[bad].status == "failed" and results[bad].reason.startswith("worker_crashed")
    others = [r for i, r in enumerate(results) if i != bad]
    assert all(r.status == "ok" for r in others)
    assert [r.url for r in results] == [t.url for t in items]
    # The pool recovers for the next batch.
    assert all(r.status == "ok" for r in extract_many(tasks(8), workers=2))


def test_small_batches_and_one_worker_stay_in_process():
    pool_mod.shutdown_pool()
    got = extract_many(tasks(2), workers=2, extract_fn=record_pid)
    assert {int(r.text) for r in got} == {os.getpid()}
    got = extract_many(tasks(8), workers=1, extract_fn=record_pid)
    assert {int(r.text) for r in got} == {os.getpid()}
    assert pool_mod._POOL._executor is None
    assert extract_many([], workers=2) == []


def test_default_worker_count_is_the_cores_we_may_use():
    assert pool_mod.default_workers() == len(os.sched_getaffinity(0))


@pytest.fixture(autouse=True, scope="module")
def _stop_pool():
    yield
    pool_mod.shutdown_pool()


HANG = b"<!-- hang-the-worker -->"


def hang_on_marker(task: ExtractTask) -> Extraction:
    """Never return on marked pages, as a pathological page could."""
    if HANG in task.html:
        import time

        time.sleep(3600)
    return extract_task(task)


def raise_on_marker(task: ExtractTask) -> Extraction:
    if CRASH in task.html:
        raise ValueError("bad page")
    return extract_task(task)


def test_a_stuck_page_times_out_and_the_rest_complete():
    items = tasks(10)
    stuck = 7
    items[stuck] = ExtractTask(url=items[stuck].url, html=items[stuck].html + HANG)
    results = extract_many(items, workers=2, page_timeout_s=1, extract_fn=hang_on_marker)
    assert results[stuck].status == "failed" and results[stuck].reason == "extractor_timeout: over 1 s"
    assert all(r.status == "ok" for i, r in enumerate(results) if i != stuck)
    assert all(r.status == "ok" for r in extract_many(tasks(8), workers=2))


def test_an_exception_in_a_worker_fails_only_its_page():
    items = tasks(9)
    items[4] = ExtractTask(url=items[4].url, html=items[4].html + CRASH)
    results = extract_many(items, workers=2, extract_fn=raise_on_marker)
    assert results[4].reason == "extractor_error: ValueError: bad page"
    assert all(r.status == "ok" for i, r in enumerate(results) if i != 4)


def test_warm_pool_starts_workers_that_extract_many_then_reuses():
    from newsroom.extract import pool

    pool.shutdown_pool()
    try:
        assert pool.warm_pool(2) is True
        assert pool._POOL.running(2)
        executor = pool._POOL.get(2)
        html = b"<html><body><article>" + b"<p>Words of a real article body, long enough.</p>" * 40 + b"</article></body></html>"
        out = pool.extract_many([pool.ExtractTask(url=f"http://e.test/{i}", html=html) for i in range(3)], workers=2)
        assert [e.status for e in out] == ["ok"] * 3
        assert pool._POOL.get(2) is executor  # the warmed pool served the small batch
        assert pool.warm_pool(1) is False
    finally:
        pool.shutdown_pool()
