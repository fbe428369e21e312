"""The operator page's FastAPI app over a seeded warehouse, on SQLite and PostgreSQL
(in-process HTTP through Starlette's TestClient; the browser tests are in tests/ui)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from newsroom_ui import create_app
from newsroom_ui.app import SECURITY_HEADERS
from tests.ui.htmlcheck import live_markup
from tests.ui.seed import HOSTILE_TITLE, XSS_IMG, XSS_SCRIPT, seed


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def client(request, tmp_path_factory):
    """One seeded warehouse per backend for the whole module: the page only reads."""
    from newsroom.warehouse import dispose_all, migrate_warehouse

    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('ui') / 'warehouse.db'}"
    else:
        from tests.conftest import create_pg_database, require_pg

        require_pg()
        url, drop = create_pg_database()
    try:
        expected = seed(migrate_warehouse(url))
        with TestClient(create_app(url)) as c:
            c.expected = expected
            yield c
    finally:
        dispose_all()
        if drop:
            drop()


def _rows(html: str, table_id: str) -> list[str]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr data-\w+=\"([^\"]*)\"", body)


def test_overview_shows_sources_troubled_first_runs_newest_first_and_digests(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    sources = _rows(html, "source-health")
    assert sources[:3] == ["Broken Feed", "Gone Feed", "Evil &lt;script&gt;window.__pwned=1&lt;/script&gt;"]
    assert sorted(sources[3:]) == ["Example Tech Feed", "r/MachineLearning"]
    assert _rows(html, "pipeline-runs") == client.expected["runs"][::-1]
    # failures by reason, most frequent first, with the counts
    reasons = re.findall(r"<li>([^<]*?): (\d+)</li>", html.split('id="pipeline-runs"')[1])
    assert reasons[:2] == [("extractor_timeout", "7"), ("http_500", "3")]
    for needle in ("http_500: server error after 3 retries", "gone: HTTP 410 twice", "state-failing",
                   "state-disabled", "(HTTP 410)", 'href="digests/2026-04-09/ai"', 'href="digests/2026-04-10/pwn"'):
        assert needle in html, needle
    assert "5 sources (3 need attention)" in html


def test_latest_source_run_outcome_is_shown(client):
    api = {s["name"]: s for s in client.get("/api/sources").json()}
    assert api["Broken Feed"]["last_run_status"] == "failed" and api["Broken Feed"]["last_run_reason"] == "http_500"
    assert api["Example Tech Feed"]["last_run_status"] == "ok"
    assert api["Broken Feed"]["consecutive_failures"] == 4 and api["Gone Feed"]["enabled"] is False


def test_digest_page_renders_markdown(client):
    html = client.get("/digests/2026-04-09/ai").text
    body = html.split('id="digest-body">', 1)[1]
    assert "<h1>AI digest — Thursday 9 April 2026</h1>" in body
    assert "<h2>1. Meta launches Muse Spark</h2>" in body and "<strong>TL;DR</strong>" in body
    assert '<span class="wikilink" title="Muse Spark">Muse Spark (model)</span>' in body
    assert '<a href="https://www.theverge.com/ai/muse-spark" target="_blank" rel="noopener noreferrer nofollow">' in body
    assert "title: 2026-04-09" not in html  # front matter is not shown as text


def test_hostile_content_is_escaped_everywhere(client):
    pages = [client.get("/").text, client.get("/digests/2026-04-10/pwn").text]
    for html in pages:
        assert XSS_SCRIPT not in html and XSS_IMG not in html
        assert live_markup(html) == []
    digest = pages[1]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in digest  # shown as text, not dropped
    assert HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in digest
    assert 'href="https://example.com/article?id=1"' in digest  # a safe link still works


def test_security_headers_forbid_scripts(client):
    for path in ("/", "/digests/2026-04-09/ai", "/api/digests", "/digests/1999-01-01/none"):
        r = client.get(path)
        for k, v in SECURITY_HEADERS.items():
            assert r.headers[k] == v, (path, k)
    assert "script-src" not in SECURITY_HEADERS["Content-Security-Policy"]  # falls back to default-src 'none'


def test_unknown_digest_is_404_and_bad_day_is_422(client):
    assert client.get("/digests/1999-01-01/ai").status_code == 404
    assert client.get("/digests/not-a-day/ai").status_code == 422


def test_json_api(client):
    digests = client.get("/api/digests").json()
    assert [(d["day"], d["beat"]) for d in digests] == client.expected["digests"][::-1]
    assert len(client.get("/api/runs", params={"limit": 1}).json()) == 1


def test_unmigrated_warehouse_says_so_instead_of_failing(tmp_path):
    from newsroom.warehouse.db import head_revision

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with TestClient(create_app(url)) as c:
        r = c.get("/")
        assert r.status_code == 503 and "not migrated" in r.text and "never migrated" in r.text
        assert head_revision() in r.text and "python -m newsroom migrate" in r.text
        api = c.get("/api/sources")
        assert api.status_code == 503 and head_revision() in api.json()["detail"]


def test_warehouse_behind_the_code_says_so_too(tmp_path):
    """Every table there but the schema one revision behind: the page says so (as a task
    would, with SchemaNotAtHead) instead of reading tables that may lack columns."""
    from alembic.script import ScriptDirectory

    from newsroom.warehouse import connect, dispose_all, migrate
    from newsroom.warehouse.db import alembic_config, head_revision

    url = f"sqlite:///{tmp_path / 'behind.db'}"
    previous = ScriptDirectory.from_config(alembic_config(url)).get_revision(head_revision()).down_revision
    migrate(connect(url), revision=previous)
    try:
        with TestClient(create_app(url)) as c:
            r = c.get("/")
            assert r.status_code == 503 and previous in r.text and head_revision() in r.text
            assert c.get("/api/digests").status_code == 503
        migrate(connect(url))
        with TestClient(create_app(url)) as c:
            assert c.get("/").status_code == 200 and c.get("/api/digests").json() == []
    finally:
        dispose_all()


def test_page_does_not_show_the_warehouse_password(tmp_path):
    """A PostgreSQL URL with a password: the page names the backend only (no connection is made
    for the footer; the request fails to connect and the error page must not echo the URL)."""
    app = create_app("postgresql+psycopg://newsroom:hunter2-SECRET@127.0.0.1:1/none")
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/")
    assert r.status_code == 500 and "hunter2-SECRET" not in r.text


def test_retired_sources_are_listed_apart_and_not_as_trouble(tmp_path):
    """A source gone from the sources file is retired by the next run: the page lists it
    under "Retired sources", not in the health table, and does not count it as trouble."""
    from newsroom.config.sources import SourcesFile
    from newsroom.pipeline.ingest import sync_sources
    from newsroom.warehouse import dispose_all, migrate_warehouse

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = migrate_warehouse(url)
    feeds = [{"name": "Kept Feed", "url": "https://kept.example/feed"},
             {"name": "Dropped Feed", "url": "https://dropped.example/feed"}]
    sync_sources(engine, SourcesFile.model_validate({"feeds": feeds}))
    sync_sources(engine, SourcesFile.model_validate({"feeds": feeds[:1]}))
    try:
        with TestClient(create_app(url)) as c:
            html = c.get("/").text
            api = {s["name"]: s for s in c.get("/api/sources").json()}
    finally:
        dispose_all()
    assert _rows(html, "source-health") == ["Kept Feed"]
    assert _rows(html, "retired-sources") == ["Dropped Feed"]
    assert "1 sources (0 need attention) · 1 retired" in html
    assert api["Dropped Feed"]["retired_at"] and api["Kept Feed"]["retired_at"] is None
