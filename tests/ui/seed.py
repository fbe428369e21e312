"""A small warehouse for the operator page: healthy and broken sources, runs with
failures, and digests — one of them hostile — loaded through the package's upserts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.engine import Engine

from newsroom.warehouse import upsert
from newsroom.warehouse.schema.core import PipelineRun, Source, SourceRun
from newsroom.warehouse.schema.digest import Digest

NOW = datetime(2026, 4, 10, 6, 0, tzinfo=timezone.utc)
XSS_SCRIPT = "<script>window.__pwned=1</script>"
XSS_IMG = '<img src=x onerror="window.__pwned=2">'
HOSTILE_TITLE = f"Pwn digest {XSS_SCRIPT}{XSS_IMG}"
HOSTILE_MARKDOWN = f"""---
title: "{XSS_SCRIPT}"
tags: [digest]
---
# Hostile day {XSS_SCRIPT}

{XSS_IMG}

<a href="javascript:window.__pwned=3">raw anchor</a>

[click me](javascript:window.__pwned=4) · [tabbed](java\tscript:window.__pwned=5) ·
<javascript:window.__pwned=6> · [data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD03PC9zY3JpcHQ+)

[[Entity|<b onmouseover="window.__pwned=8">alias</b>]] and [[x" onmouseover="window.__pwned=9]]

![tracker](https://tracker.invalid/pixel.png)

[A real source](https://example.com/article?id=1)
"""
GOOD_MARKDOWN = """---
title: 2026-04-09 AI Digest
---
# AI digest — Thursday 9 April 2026

Checked 3 feeds and 1 subreddits: 5 articles in 1 stories.

## 1. Meta launches Muse Spark

*models* · 5 outlets · 5 sources

**TL;DR** Meta launched Muse Spark, the first model from its Superintelligence Labs.

**Entities:** [[Meta]] · [[Muse Spark|Muse Spark (model)]]

**Sources**

[1] The Verge — [Meta's new model](https://www.theverge.com/ai/muse-spark)
"""

SOURCES = [
    # name, kind, consecutive_failures, last_status, last_error, disabled_reason, enabled
    ("Example Tech Feed", "feed", 0, 200, None, None, True),
    ("Broken Feed", "feed", 4, 500, "http_500: server error after 3 retries", None, True),
    ("Gone Feed", "feed", 2, 410, "http_410", "gone: HTTP 410 twice", False),
    ("r/MachineLearning", "reddit", 0, 200, None, None, True),
    (f"Evil {XSS_SCRIPT}", "feed", 1, 200, f"parse error {XSS_IMG}", None, True),
]


def seed(engine: Engine) -> dict[str, object]:
    """Load the rows; returns what the page is expected to show."""
    with engine.begin() as conn:
        upsert(conn, Source, [
            {"name": name, "kind": kind, "url": f"https://feeds.example/{i}.xml", "outlet": f"Outlet {i}",
             "enabled": enabled, "last_status": status, "last_error": err,
             "last_fetched_at": NOW - timedelta(minutes=5), "last_success_at": NOW - timedelta(hours=failures),
             "consecutive_failures": failures, "next_due_at": NOW + timedelta(hours=2 ** failures),
             "disabled_reason": disabled}
            for i, (name, kind, failures, status, err, disabled, enabled) in enumerate(SOURCES)
        ], keys=["name"])
        ids = dict(conn.execute(select(Source.name, Source.id)).all())
        for n, run in enumerate(("scheduled__2026-04-10T04:00", "scheduled__2026-04-10T05:00")):
            upsert(conn, SourceRun, [
                {"run_id": run, "source_id": ids[name],
                 "status": "failed" if failures and n == 1 else "ok",
                 "reason": "http_500" if failures and n == 1 else None,
                 "entries": 10, "new_entries": 2 - n, "new_articles": 1,
                 "finished_at": NOW - timedelta(hours=1 - n)}
                for name, _kind, failures, *_ in SOURCES
            ], keys=["run_id", "source_id"])
        upsert(conn, PipelineRun, [
            {"dag_id": "newsroom_ingest", "run_id": "scheduled__2026-04-10T04:00",
             "interval_start": NOW - timedelta(hours=3), "interval_end": NOW - timedelta(hours=2),
             "sources_ok": 5, "sources_failed": 0, "sources_skipped": 0, "entries": 50, "new_articles": 9,
             "failures_by_reason": {}, "finished_at": NOW - timedelta(hours=1)},
            {"dag_id": "newsroom_ingest", "run_id": "scheduled__2026-04-10T05:00",
             "interval_start": NOW - timedelta(hours=2), "interval_end": NOW - timedelta(hours=1),
             "sources_ok": 2, "sources_failed": 2, "sources_skipped": 1, "entries": 31, "new_articles": 4,
             "failures_by_reason": {"http_500": 3, "extractor_timeout": 7, f"odd {XSS_SCRIPT}": 1},
             "finished_at": NOW},
        ], keys=["dag_id", "run_id"])
        upsert(conn, Digest, [
            {"day": date(2026, 4, 9), "beat": "ai", "title": "2026-04-09 AI Digest", "markdown": GOOD_MARKDOWN,
             "feeds_checked": 3, "subreddits_checked": 1, "articles_count": 5, "stories_count": 1,
             "path": "Digests/2026-04-09-AI-Digest.md", "content_hash": "a" * 64, "generated_at": NOW},
            {"day": date(2026, 4, 10), "beat": "pwn", "title": HOSTILE_TITLE, "markdown": HOSTILE_MARKDOWN,
             "feeds_checked": 1, "subreddits_checked": 0, "articles_count": 1, "stories_count": 1,
             "path": f"Digests/{XSS_IMG}.md", "content_hash": "b" * 64, "generated_at": NOW},
        ], keys=["day", "beat"])
    return {"sources": [s[0] for s in SOURCES], "runs": ["scheduled__2026-04-10T04:00", "scheduled__2026-04-10T05:00"],
            "digests": [("2026-04-09", "ai"), ("2026-04-10", "pwn")]}
