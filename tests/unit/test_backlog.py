"""Entries past the per-run cap are worked off on later runs, whatever the feed answers.

The case from unseen data: a 75-entry feed with the cap at 20 gave 20/20/20 articles over
three runs, because a 304 returned before the pending entries were looked at.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from sqlalchemy import func, select

from newsroom.config.sources import SourcesFile
from newsroom.pipeline.ingest import ingest_feed, summarize_run
from newsroom.warehouse.schema import Article, FeedEntryRow, SourceRun

N, CAP = 25, 10
T0 = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)


def _page(i: int) -> str:
    para = "".join(f"<p>Paragraph {k} of report {i}: the committee published its findings on the regional "
                   f"rail budget and the timetable for the works.</p>" for k in range(6))
    return f"<html><head><title>Report {i}</title></head><body><article><h1>Report {i}</h1>{para}</article></body></html>"


def _feed(base: str) -> str:
    # Newest first, as feeds list them; entry i is dated T0 + i hours (0 is the oldest).
    items = "".join(
        f"<item><title>Report {i}</title><link>{base}/r/{i}</link><guid>{base}/r/{i}</guid>"
        f"<pubDate>{format_datetime(T0 + timedelta(hours=i))}</pubDate><description>Teaser {i}</description></item>"
        for i in reversed(range(N)))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title><link>{base}/</link>'
            f"<description>d</description>{items}</channel></rss>")


def _backlog_on_the_page(warehouse_url: str) -> int:
    """The backlog the Newsroom page shows for the source, in its JSON and its HTML table."""
    import sys

    from fastapi.testclient import TestClient

    from tests.conftest import PROJECT

    if str(PROJECT / "plugins") not in sys.path:  # as Airflow puts its plugins folder on sys.path
        sys.path.append(str(PROJECT / "plugins"))
    from newsroom_ui import create_app

    with TestClient(create_app(warehouse_url)) as client:
        api = {s["name"]: s for s in client.get("/api/sources").json()}["big"]["backlog"]
        row = client.get("/").text.split('data-source="big"', 1)[1].split("</tr>", 1)[0]
    cell = re.search(r'class="num backlog"[^>]*>(\d+)<', row)
    assert cell and int(cell.group(1)) == api
    return api


def test_three_runs_of_a_feed_larger_than_the_cap_store_every_entry(replay_server, settings, warehouse,
                                                                     warehouse_url):
    base = replay_server.base_url
    replay_server.add("/feed.xml", _feed(base), content_type="application/rss+xml", etag='"big-v1"')
    for i in range(N):
        replay_server.add(f"/r/{i}", _page(i), content_type="text/html")
    capped = settings.model_copy(update={"max_articles_per_source": CAP})
    src = SourcesFile.model_validate({"feeds": [{"name": "big", "url": replay_server.url("/feed.xml")}]})

    results, shown = [], []
    for n in range(1, 4):
        results.append(ingest_feed("big", settings=capped, sources=src, run_id=f"r{n}", engine=warehouse))
        shown.append(_backlog_on_the_page(warehouse_url))
    assert shown == [15, 5, 0]
    assert [r["status"] for r in results] == ["ok", "not_modified", "not_modified"]
    assert [r["new_articles"] for r in results] == [10, 10, 5]
    assert [r["backlog"] for r in results] == [15, 5, 0]
    # Every page requested exactly once, and the first run took the oldest ten.
    assert all(replay_server.hits(f"/r/{i}") == 1 for i in range(N))
    with warehouse.connect() as c:
        assert c.execute(select(func.count()).select_from(Article)).scalar_one() == N
        assert c.execute(select(func.count()).select_from(FeedEntryRow)
                         .where(FeedEntryRow.article_id.is_(None))).scalar_one() == 0
        first_run = c.execute(select(Article.title).where(Article.first_seen_at.is_not(None))
                              .order_by(Article.id).limit(CAP)).scalars().all()
        runs = {r.run_id: r for r in c.execute(select(SourceRun))}
    assert sorted(first_run) == sorted(f"Report {i}" for i in range(CAP))
    assert runs["r2"].status == "not_modified" and runs["r2"].new_articles == 10
    assert summarize_run(warehouse, dag_id="newsroom_ingest", run_id="r3")["new_articles"] == 5

    # A fourth run has nothing left to do and fetches no page.
    replay_server.reset_counts()
    fourth = ingest_feed("big", settings=capped, sources=src, run_id="r4", engine=warehouse)
    assert (fourth["status"], fourth["new_articles"], fourth["backlog"]) == ("not_modified", 0, 0)
    assert replay_server.hits("/feed.xml") == 1 and sum(replay_server.hits(f"/r/{i}") for i in range(N)) == 0
