"""Honest source and run states (issue 11): retries, Retry-After, manual triggers, retired
sources, the run's verdict, and failures no retry can fix — on SQLite and PostgreSQL,
against a real HTTP server."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from newsroom.config.sources import SourcesFile
from newsroom.pipeline.ingest import SourceFailed, due_feed_sources, ingest_feed, summarize_run, sync_sources
from newsroom.pipeline.outcome import ExtractionUnavailable, judge_run, raise_if_extraction_broken
from newsroom.records import Extraction
from newsroom.warehouse.schema import Source, SourceRun

NOW = datetime(2026, 4, 8, 12, tzinfo=timezone.utc)


def _sources(feeds: dict[str, str], subreddits: list[str] = ()) -> SourcesFile:
    return SourcesFile.model_validate({"feeds": [{"name": n, "url": u} for n, u in feeds.items()],
                                       "reddit": {"subreddits": [{"name": s} for s in subreddits]}})


def _source(engine, name: str):
    with engine.connect() as c:
        return c.execute(select(Source).where(Source.name == name)).one()


def test_airflow_retries_of_one_run_count_as_one_failure(replay_server, settings, warehouse):
    replay_server.add("/down.xml", "busy", status=503)
    src = _sources({"down": replay_server.url("/down.xml")})
    sync_sources(warehouse, src)
    for attempt in range(3):  # the first try and two Airflow retries of run r1
        with pytest.raises(SourceFailed):
            ingest_feed("down", settings=settings, sources=src, run_id="r1", engine=warehouse,
                        now=NOW + timedelta(minutes=2 * attempt), ignore_backoff=attempt > 0)
    assert replay_server.hits("/down.xml") == 3
    s = _source(warehouse, "down")
    assert s.consecutive_failures == 1
    assert s.next_due_at == NOW + timedelta(minutes=4) + timedelta(hours=1)  # one failure's backoff
    # the next run that fails again is the second failure
    with pytest.raises(SourceFailed):
        ingest_feed("down", settings=settings, sources=src, run_id="r2", engine=warehouse,
                    now=NOW + timedelta(hours=2))
    assert _source(warehouse, "down").consecutive_failures == 2


def test_retry_after_is_kept_and_manual_triggers_ignore_backoff(replay_server, settings, warehouse):
    replay_server.add("/limited.xml", "slow down", status=429, headers={"Retry-After": "7200"})
    replay_server.add("/gone.xml", "gone", status=410)
    src = _sources({"limited": replay_server.url("/limited.xml"), "gone": replay_server.url("/gone.xml")})
    sync_sources(warehouse, src)
    with pytest.raises(SourceFailed) as info:
        ingest_feed("limited", settings=settings, sources=src, run_id="r1", engine=warehouse, now=NOW)
    assert info.value.retry_after_s == 7200 and not info.value.permanent
    assert info.value.next_due_at == NOW + timedelta(hours=2)
    for n in range(3):  # three runs answering 410: disabled by the pipeline
        with pytest.raises(SourceFailed):
            ingest_feed("gone", settings=settings, sources=src, run_id=f"g{n}", engine=warehouse, now=NOW,
                        force=True)
    later = NOW + timedelta(minutes=30)
    assert due_feed_sources(warehouse, src, now=later) == []  # scheduled run: both wait
    assert due_feed_sources(warehouse, src, now=later, ignore_backoff=True) == ["limited"]  # manual trigger
    assert due_feed_sources(warehouse, src, now=later, force=True) == ["limited", "gone"]
    skipped = ingest_feed("limited", settings=settings, sources=src, run_id="r2", engine=warehouse, now=later)
    assert skipped["status"] == "skipped" and replay_server.hits("/limited.xml") == 1


def test_sources_left_out_of_the_file_are_retired(replay_server, settings, warehouse):
    feed = "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><link>x</link>" \
           "<description>d</description></channel></rss>"
    a = replay_server.add("/a.xml", feed, content_type="application/rss+xml")
    b = replay_server.add("/b.xml", "down", status=503)
    both = _sources({"a": a, "b": b}, subreddits=["LocalLLaMA"])
    sync_sources(warehouse, both)
    with warehouse.begin() as c:  # the subreddit's row, as its first ingest creates it
        c.execute(Source.__table__.insert().values(name="reddit:LocalLLaMA", kind="reddit", url="https://r.example",
                                                   enabled=True, consecutive_failures=0, gone_count=0))
    only_a = _sources({"a": a})
    sync_sources(warehouse, only_a)
    assert _source(warehouse, "a").retired_at is None
    assert _source(warehouse, "b").retired_at is not None
    assert _source(warehouse, "reddit:LocalLLaMA").retired_at is not None
    assert due_feed_sources(warehouse, only_a, force=True) == ["a"]
    res = ingest_feed("b", settings=settings, sources=only_a, run_id="r1", engine=warehouse)
    assert res["status"] == "skipped" and "retired" in res["reason"] and replay_server.hits("/b.xml") == 0
    ingest_feed("a", settings=settings, sources=only_a, run_id="r1", engine=warehouse)
    summary = summarize_run(warehouse, dag_id="d", run_id="r1")
    assert summary["sources_ok"] == 1 and summary["sources_failed"] == 0
    assert judge_run(summary).ok
    sync_sources(warehouse, both)  # listed again: back in service
    assert _source(warehouse, "b").retired_at is None
    assert _source(warehouse, "reddit:LocalLLaMA").retired_at is None


def test_the_run_is_red_when_no_source_succeeded_or_too_many_failed():
    def summary(ok, failed, skipped=0, reasons=None):
        return {"sources_ok": ok, "sources_failed": failed, "sources_skipped": skipped,
                "failures_by_reason": reasons or {}}

    everything = judge_run(summary(0, 21, reasons={"source:timeout": 20, "source:dns_error": 1}))
    assert not everything.ok and "no source succeeded" in everything.message
    assert "20 × timeout" in everything.message and "21 attempted" in everything.message
    assert judge_run(summary(1, 20)).ok  # default threshold: only "all failed" is red
    half = judge_run(summary(2, 3), max_failed_share=0.5)
    assert not half.ok and "max_failed_share=0.5" in half.message and "60%" in half.message
    assert judge_run(summary(2, 2), max_failed_share=0.5).ok  # 50 % does not pass 0.5
    assert judge_run(summary(0, 0, skipped=5)).ok  # nothing was due: not a failure
    assert judge_run(summary(0, 0)).ok  # an empty sources file


def test_a_broken_pool_is_systemic_but_one_bad_page_is_not():
    ok = Extraction(url="u1", status="ok", text="t")
    crash = Extraction(url="u2", status="failed", reason="worker_crashed: the worker process died")
    raise_if_extraction_broken([ok, crash])  # one pathological page: recorded as that page's failure
    raise_if_extraction_broken([crash])  # one page alone proves nothing about the pool
    raise_if_extraction_broken([])
    with pytest.raises(ExtractionUnavailable, match="all 3 pages"):
        raise_if_extraction_broken([crash, crash, crash])


def test_summary_threshold_comes_from_the_sources_file():
    assert SourcesFile.model_validate({}).health.max_failed_share == 1.0
    assert SourcesFile.model_validate({"health": {"max_failed_share": 0.25}}).health.max_failed_share == 0.25
    from newsroom.config import ConfigError, load_sources

    with pytest.raises(ConfigError):
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "sources.yaml"
            p.write_text("health:\n  max_failed_share: 1.5\n")
            load_sources(p)


def test_a_dead_warehouse_fails_fast_with_one_line():
    from newsroom.warehouse import WarehouseUnavailable, open_warehouse
    from tests.backfill.cluster import free_port

    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/newsroom"  # nothing listens there
    start = time.monotonic()
    with pytest.raises(WarehouseUnavailable) as info:
        open_warehouse(url)
    assert time.monotonic() - start < 15
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("warehouse unreachable at postgresql") and "refused" in msg
    assert info.value.__cause__ is None


def test_a_schema_this_code_does_not_know_is_refused(warehouse, warehouse_url):
    from newsroom.warehouse import SchemaNotAtHead, dispose_all, open_warehouse

    with warehouse.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    dispose_all()  # a new task process: nothing cached
    with pytest.raises(SchemaNotAtHead) as info:
        open_warehouse(warehouse_url)
    assert "0099_future" in str(info.value) and "\n" not in str(info.value)


def test_systemic_failures_are_recorded_without_moving_the_backoff(warehouse):
    """What ingest_feed writes when extraction cannot run: a failed source_run for the run's
    summary, the source's failure count and due time untouched."""
    from newsroom.pipeline.ingest import _record_outcome

    sync_sources(warehouse, _sources({"a": "https://a.example/feed"}))
    s = _source(warehouse, "a")
    _record_outcome(warehouse, source_id=s.id, run_id="r1", status="failed", reason="systemic: pool broken")
    after = _source(warehouse, "a")
    assert after.consecutive_failures == 0 and after.next_due_at is None
    with warehouse.connect() as c:
        assert c.execute(select(SourceRun.status)).scalars().all() == ["failed"]
    assert not judge_run(summarize_run(warehouse, dag_id="d", run_id="r1")).ok
