"""Feeds in batches (``newsroom.pipeline.feed_batches``): real HTTP servers on loopback
addresses, the warehouse on SQLite and PostgreSQL.

A batch must store exactly what one-feed-at-a-time stores: every source recorded on its
own, one failing source not stopping the others, the same warehouse whatever the order
of the sources, an Airflow retry fetching only what is not finished, and no more requests
in flight at one host than the fetcher's per-host limit.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from newsroom.config.sources import SourcesFile
from newsroom.pipeline.feed_batches import batch_label, ingest_feed_batch, plan_feed_batches
from newsroom.pipeline.ingest import SourceFailed, summarize_run
from newsroom.warehouse.schema import Article, FeedEntryRow, Source, SourceRun
from tests.batch_site import feed as _feed, page as _page, site as _site

T0 = datetime(2026, 4, 8, 10, tzinfo=timezone.utc)


# -- planning -------------------------------------------------------------------------------

def test_batches_keep_the_order_are_balanced_and_capped():
    names = [f"f{i:03d}" for i in range(1000)]
    batches = plan_feed_batches(names, feeds_per_task=20)
    assert len(batches) == 50 and {len(b) for b in batches} == {20}
    assert [n for b in batches for n in b] == names
    b = plan_feed_batches(names[:101], feeds_per_task=20)
    assert len(b) == 6 and sorted({len(x) for x in b}) == [16, 17] and sum(map(len, b)) == 101


def test_a_few_feeds_still_run_in_parallel_tasks_one_each():
    assert plan_feed_batches(["a", "b", "c"], feeds_per_task=20) == [["a"], ["b"], ["c"]]
    assert plan_feed_batches(list("abcdefghij"), feeds_per_task=20) == [
        ["a", "b", "c"], ["d", "e", "f"], ["g", "h"], ["i", "j"]]
    assert plan_feed_batches([], feeds_per_task=20) == []


def test_one_feed_per_task_is_the_per_source_mapping():
    names = [f"f{i}" for i in range(30)]
    assert plan_feed_batches(names, feeds_per_task=1) == [[n] for n in names]
    with pytest.raises(ValueError):
        plan_feed_batches(names, feeds_per_task=0)


def test_the_label_names_the_sources_within_airflows_250_characters():
    assert batch_label(["alpha"]) == "alpha"
    assert batch_label(["alpha", "beta"]) == "alpha, beta"
    long = [f"a-rather-long-source-name-{i:02d}" for i in range(20)]
    label = batch_label(long)
    assert len(label) <= 250 and long[0] in label and long[-1] in label and "20 feeds" in label


# -- ingesting ------------------------------------------------------------------------------

def _sources(feeds: dict[str, str]) -> SourcesFile:
    return SourcesFile.model_validate({"feeds": [{"name": n, "url": u} for n, u in feeds.items()]})


def _snapshot(engine) -> dict:
    """The warehouse's content, by natural keys (no ids, no timestamps)."""
    with engine.connect() as c:
        names = dict(c.execute(select(Source.id, Source.name)).all())
        arts = sorted((a.canonical_url, names.get(a.source_id), a.title, a.published_at, a.text, a.outlet,
                       a.extraction_status)
                      for a in c.execute(select(Article)))
        urls = dict(c.execute(select(Article.id, Article.canonical_url)).all())
        entries = sorted((names[e.source_id], e.guid, urls.get(e.article_id)) for e in c.execute(select(FeedEntryRow)))
        runs = sorted((names[r.source_id], r.status, r.reason, r.entries, r.new_entries)
                      for r in c.execute(select(SourceRun)))
        sources = sorted((s.name, s.last_status, s.last_error, s.consecutive_failures) for s in c.execute(select(Source)))
    return {"articles": arts, "entries": entries, "source_runs": runs, "sources": sources}


def test_one_failing_source_is_recorded_and_the_others_of_its_batch_stored(replay_server, settings, warehouse):
    feeds = _site(replay_server, n_feeds=4, shared=False)
    names = list(feeds)
    feeds["broken"] = replay_server.add("/broken.xml", "gone", status=404)
    names.insert(2, "broken")
    src = _sources({n: feeds[n] for n in names})

    batch = ingest_feed_batch(names, settings=settings, run_id="run-1", sources=src, engine=warehouse, now=T0)

    assert [r["source"] for r in batch.results] == names  # every source by name, in batch order
    assert {r["source"]: r["status"] for r in batch.results} == {**{n: "ok" for n in names if n != "broken"},
                                                                 "broken": "failed"}
    assert list(batch.errors) == ["broken"] and isinstance(batch.errors["broken"], SourceFailed)
    assert batch.errors["broken"].permanent and batch.other_errors == {}
    with warehouse.connect() as c:
        runs = {n: (st, new) for n, st, new in c.execute(
            select(Source.name, SourceRun.status, SourceRun.new_articles).join(SourceRun, SourceRun.source_id == Source.id))}
        last_error = dict(c.execute(select(Source.name, Source.last_error)).all())
    assert runs == {**{n: ("ok", 3) for n in names if n != "broken"}, "broken": ("failed", 0)}
    assert last_error["broken"].startswith("http_404") and all(last_error[n] is None for n in names if n != "broken")
    summary = summarize_run(warehouse, dag_id="newsroom_ingest", run_id="run-1")
    assert (summary["sources_ok"], summary["sources_failed"], summary["new_articles"]) == (4, 1, 12)


def test_shuffled_source_order_gives_the_same_warehouse(replay_server, settings, warehouse, warehouse_url, tmp_path):
    """Same feeds, listed and batched in other orders, fetched concurrently: same rows."""
    from newsroom.warehouse import migrate_warehouse

    feeds = _site(replay_server, n_feeds=8, per_feed=3, shared=True)
    names = list(feeds)
    ingest_feed_batch(names, settings=settings, run_id="run-1", sources=_sources(feeds), engine=warehouse, now=T0)
    expected = _snapshot(warehouse)
    assert len(expected["articles"]) == 8 * 3 + 1

    for seed in (1, 2):
        order = names[:]
        random.Random(seed).shuffle(order)
        if warehouse_url.startswith("sqlite"):
            other_url, drop = f"sqlite:///{tmp_path / f'other{seed}.db'}", (lambda: None)
        else:
            from tests.conftest import create_pg_database

            other_url, drop = create_pg_database()
        try:
            other = migrate_warehouse(other_url)
            shuffled = _sources({n: feeds[n] for n in order})
            for batch in plan_feed_batches(order, feeds_per_task=3):
                ingest_feed_batch(batch, settings=settings, run_id="run-1", sources=shuffled, engine=other, now=T0)
            assert _snapshot(other) == expected, f"order {order}"
            other.dispose()
        finally:
            drop()


def test_a_retried_batch_fetches_only_the_sources_not_finished(replay_server, settings, warehouse):
    feeds = _site(replay_server, n_feeds=3, shared=False)
    flaky = replay_server.add("/flaky.xml", "busy", status=503)
    feeds["flaky"] = flaky
    feeds["gone"] = replay_server.add("/gone.xml", "gone", status=404)
    names = list(feeds)
    src = _sources(feeds)
    first = ingest_feed_batch(names, settings=settings, run_id="run-1", sources=src, engine=warehouse, now=T0)
    assert list(first.errors) == ["flaky", "gone"] and not first.errors["flaky"].permanent

    _feed(replay_server, "flaky", [replay_server.add("/flaky/0.html", _page("flaky", 0), content_type="text/html")])
    replay_server.reset_counts()
    again = ingest_feed_batch(names, settings=settings, run_id="run-1", sources=src, engine=warehouse, now=T0,
                              ignore_backoff=True, resume=True)
    assert list(again.errors) == ["gone"] and again.errors["gone"].permanent  # still failed, not asked again
    assert {r["source"]: r["status"] for r in again.results} == {"feed0": "ok", "feed1": "ok", "feed2": "ok",
                                                                 "flaky": "ok", "gone": "failed"}
    # the finished feeds were not asked again, so their counts of the run still stand
    assert [replay_server.hits(f"/feed{i}.xml") for i in range(3)] == [0, 0, 0]
    assert replay_server.hits("/flaky.xml") == 1 and replay_server.hits("/gone.xml") == 0
    summary = summarize_run(warehouse, dag_id="newsroom_ingest", run_id="run-1")
    assert (summary["sources_ok"], summary["sources_failed"], summary["new_articles"]) == (4, 1, 10)


def test_a_bug_in_one_source_does_not_stop_the_others(replay_server, settings, warehouse):
    feeds = _site(replay_server, n_feeds=3, shared=False)
    names = ["feed0", "not-in-the-file", "feed1", "feed2"]
    batch = ingest_feed_batch(names, settings=settings, run_id="run-1", sources=_sources(feeds), engine=warehouse,
                              now=T0)
    assert [r["status"] for r in batch.results] == ["ok", "failed", "ok", "ok"]
    assert batch.errors["not-in-the-file"].reason == "unknown_source"


def _counting(srv, stats: dict, lock: threading.Lock, body: str, content_type: str, delay: float):
    host = srv.host

    def handler(_req):
        with lock:
            stats["now"][host] = stats["now"].get(host, 0) + 1
            stats["max"][host] = max(stats["max"].get(host, 0), stats["now"][host])
            stats["all"] += 1
            stats["max_all"] = max(stats["max_all"], stats["all"])
        time.sleep(delay)
        with lock:
            stats["now"][host] -= 1
            stats["all"] -= 1
        return 200, {"Content-Type": content_type}, body.encode()
    return handler


def test_requests_in_flight_at_one_host_stay_within_the_per_host_limit(settings, warehouse):
    """Six feeds on each of two hosts, every request slow: the batch fetches the two hosts
    at once, but never more than the fetcher's per-host limit at either."""
    from newsroom.fetch.policy import FetchPolicy
    from tests.replay_server import ReplayServer

    per_host = FetchPolicy.from_settings(settings).per_host
    stats, lock = {"now": {}, "max": {}, "all": 0, "max_all": 0}, threading.Lock()
    servers = [ReplayServer(host=f"127.0.0.{h}").start() for h in (2, 3)]
    try:
        feeds = {}
        for h, srv in enumerate(servers):
            srv.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
            for f in range(6):
                name = f"h{h}f{f}"
                links = []
                for i in range(4):
                    srv.add(f"/{name}/{i}.html", handler=_counting(srv, stats, lock, _page(name, i), "text/html", 0.05))
                    links.append(srv.url(f"/{name}/{i}.html"))
                items = "".join(f"<item><title>{name} {k}</title><link>{u}</link><guid>{name}-{k}</guid></item>"
                                for k, u in enumerate(links))
                xml = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'
                srv.add(f"/{name}.xml", handler=_counting(srv, stats, lock, xml, "application/rss+xml", 0.05))
                feeds[name] = srv.url(f"/{name}.xml")
        names = sorted(feeds)
        batch = ingest_feed_batch(names, settings=settings, run_id="run-1", sources=_sources(feeds), engine=warehouse,
                                  now=T0)
    finally:
        for srv in servers:
            srv.stop()
    assert batch.errors == {}, batch.errors
    assert all(r["new_articles"] == 4 for r in batch.results)
    assert max(stats["max"].values()) <= per_host, stats["max"]
    assert stats["max_all"] >= 2, "the two hosts were never fetched at the same time"
