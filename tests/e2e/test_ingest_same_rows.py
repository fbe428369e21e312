"""The overlapped article path stores the same rows whatever the timing.

Issue 15 moved per-page work into the extraction workers (charset decoding, the
article's canonical key, the text hash), streams pages into the pool as they are
fetched, and writes rows in batches while later pages are still being extracted.
None of that may change what is stored. One feed of corpus pages (all listed with
the same date, so the feed's order is the order the pages are worked on), plus pages
that exercise the other branches — a windows-1252 page whose charset only the HTTP
header gives, a page whose ``rel=canonical`` names another path of its site, one
reached through a redirect, a 404 and a PDF (stored from the feed's content) — is
ingested into fresh warehouses:

* in-process, one page after another (``workers=1``), the reference;
* on the pool, the feed in two other orders, with extraction batches of 1 and 7
  pages and write batches of 3 and 1,000 rows.

The ``articles`` rows (every column but ids and timestamps; the capture as its
content hash) and the pages' ``captures`` rows must be equal, and article ids must follow
the feed's order in every run, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from email.utils import format_datetime
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from newsroom.config.sources import SourcesFile
from newsroom.pipeline import articles as articles_mod
from newsroom.pipeline.ingest import ingest_feed
from newsroom.warehouse import dispose_all, migrate_warehouse
from newsroom.warehouse.schema import Article, Capture
from tests.conftest import create_pg_database, require_pg
from tests.e2e.corpus_site import extraction_pages

pytestmark = [pytest.mark.corpus]

WHEN = format_datetime(datetime(2026, 4, 8, 9, 0, tzinfo=timezone.utc))
N_CORPUS = 18
# Columns that differ between runs by construction: ids, wall-clock times, the capture row id.
VOLATILE = {"id", "first_seen_at", "updated_at", "processed_at", "capture_id", "source_id"}


def _site(srv, corpus: Path) -> list[tuple[str, str]]:
    """Register the pages; returns (url, title) of every feed item."""
    items = []
    for i, rec in enumerate(extraction_pages(corpus, N_CORPUS)):
        body = (corpus / "extraction" / rec["file"]).read_bytes()
        items.append((srv.add(f"/pages/{rec['id']}.html", body=body, content_type="text/html; charset=utf-8"),
                      f"Corpus page {i}"))
    para = "".join(f"<p>Séance {k} : le conseil régional a voté le plan après avoir entendu les habitants, "
                   f"les ingénieurs et l'autorité des transports lors d'une longue réunion à Besançon.</p>"
                   for k in range(8))
    latin = ("<html><head><title>Café crème</title></head><body><article><h1>Café crème</h1>"
             + para + "</article></body></html>").encode("windows-1252")
    items.append((srv.add("/special/latin.html", body=latin, content_type="text/html; charset=windows-1252"),
                  "Declared in the header only"))
    canon = ("<html><head><title>Canonical</title><link rel='canonical' href='/special/the-article'></head>"
             "<body><article>" + para + "</article></body></html>")
    items.append((srv.add("/special/amp.html", body=canon, content_type="text/html"), "Canonical elsewhere"))
    srv.add("/special/moved-target.html", body=canon.replace("the-article", "moved-article"),
            content_type="text/html")
    items.append((srv.redirect("/special/moved.html", "/special/moved-target.html", status=301), "Redirected"))
    items.append((srv.add("/special/gone.html", body="no", status=404, content_type="text/html"), "A 404"))
    items.append((srv.add("/special/paper.pdf", body=b"%PDF-1.7 not a page", content_type="application/pdf"),
                  "A PDF"))
    srv.add("/robots.txt", body="User-agent: *\nAllow: /\n", content_type="text/plain")
    return items


def _feed_order(items: list[tuple[str, str]], order_seed: int | None) -> list[tuple[str, str]]:
    items = list(items)
    if order_seed is not None:
        random.Random(order_seed).shuffle(items)
    return items


def _serve_feed(srv, items: list[tuple[str, str]], order_seed: int | None) -> str:
    items = _feed_order(items, order_seed)
    xml = "".join(f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid isPermaLink='false'>{escape(u)}"
                  f"</guid><pubDate>{WHEN}</pubDate><description>&lt;p&gt;Feed summary of {escape(t)}.&lt;/p&gt;"
                  f"</description></item>" for u, t in items)
    body = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Same rows</title>"
            f"<link>{srv.base_url}/</link><description>d</description>{xml}</channel></rss>")
    return srv.add(f"/feeds/same-rows-{order_seed}.xml", body=body, content_type="application/rss+xml")


def _fresh_warehouse(backend: str, path: Path, cleanups: list):
    if backend == "sqlite":
        return migrate_warehouse(f"sqlite:///{path / 'warehouse.db'}")
    require_pg()
    url, drop = create_pg_database()
    cleanups.append(drop)
    return migrate_warehouse(url)


def _snapshot(engine) -> tuple[dict, set, list]:
    with engine.connect() as conn:
        caps = {c.id: c for c in conn.execute(select(Capture))}
        arts = conn.execute(select(Article).order_by(Article.id)).all()
    rows = {}
    for a in arts:
        row = {k: v for k, v in a._mapping.items() if k not in VOLATILE}
        cap = caps.get(a.capture_id)
        row["capture"] = (cap.url, cap.sha256, cap.path) if cap is not None else None
        rows[a.canonical_url] = row
    captures = {(c.url, c.sha256, c.path, c.content_type, c.status, c.bytes) for c in caps.values() if c.kind == "page"}
    return rows, captures, [a.url for a in arts]


def test_rows_do_not_depend_on_batching_order_or_workers(warehouse_url, replay_server, corpus, tmp_path,
                                                         monkeypatch, settings):
    backend = "sqlite" if warehouse_url.startswith("sqlite") else "postgresql"
    items = _site(replay_server, corpus)
    runs = [  # (feed order, workers, pages per extraction batch, rows per write)
        (None, 1, articles_mod.EXTRACT_BATCH, articles_mod.WRITE_BATCH),
        (7, 2, 1, 3),
        (11, 2, 7, 1000),
    ]
    snapshots, cleanups = [], []
    try:
        for k, (seed, workers, extract_batch, write_batch) in enumerate(runs):
            feed = _serve_feed(replay_server, items, seed)
            sources = SourcesFile.model_validate({"beat": "AI", "timezone": "UTC",
                                                  "feeds": [{"name": "same", "url": feed, "outlet": "Same"}]})
            run_dir = tmp_path / f"run{k}"
            run_dir.mkdir()
            engine = _fresh_warehouse(backend, run_dir, cleanups)
            s = settings.model_copy(update={"allowed_hosts": ["127.0.0.1"], "data_dir": str(run_dir / "data"),
                                            "extract_workers": workers, "max_articles_per_source": 100})
            monkeypatch.setattr(articles_mod, "EXTRACT_BATCH", extract_batch)
            monkeypatch.setattr(articles_mod, "WRITE_BATCH", write_batch)
            result = ingest_feed("same", settings=s, sources=sources, run_id=f"same-{k}", engine=engine, force=True)
            assert result["status"] == "ok" and result["new_articles"] == len(items), result
            snapshots.append(_snapshot(engine) + ([u for u, _ in _feed_order(items, seed)],))
            engine.dispose()
    finally:
        dispose_all()
        for drop in cleanups:
            drop()

    reference_rows, reference_captures, _, _ = snapshots[0]
    assert len(reference_rows) == len(items)
    by_status = {r["extraction_status"] for r in reference_rows.values()}
    assert {"ok", "feed_content"} <= by_status, by_status  # both branches are exercised
    latin = next(r for r in reference_rows.values() if r["url"].endswith("/special/latin.html"))
    assert "Besançon" in latin["text"] and "\ufffd" not in latin["text"]  # decoded by the header's charset
    assert any(cu.endswith("/special/the-article") for cu in reference_rows)  # the page's own canonical
    assert any(cu.endswith("/special/moved-article") for cu in reference_rows)  # resolved after the redirect
    for _, _, id_order, feed_order in snapshots:
        # Rows are written in candidate order whatever finished first: ids follow the feed.
        assert id_order == feed_order
    for rows, captures, _, _ in snapshots[1:]:
        assert captures == reference_captures
        assert rows.keys() == reference_rows.keys()
        for key, row in rows.items():
            assert row == reference_rows[key], key
