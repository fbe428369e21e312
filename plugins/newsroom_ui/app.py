"""The operator page as a small FastAPI app (no Airflow imports).

    uvicorn --factory newsroom_ui.app:create_app        # standalone, NEWSROOM_* settings

Pages (all GET, all read-only):

- ``/``                      source health, latest pipeline runs, digest list
- ``/digests/{day}/{beat}``  one digest, its Markdown rendered safely
- ``/api/sources``, ``/api/runs``, ``/api/digests``  the same rows as JSON

Everything shown comes from the warehouse and, through it, from the open web,
so templates autoescape every value, digest Markdown goes through
:mod:`newsroom_ui.markdown`, links are relative (the app lives under a prefix
in Airflow and behind proxies), and a strict Content-Security-Policy forbids
scripts, remote images and framing by other sites as a second line of defence.
The page never writes: it opens no transaction that commits and never migrates; what it
shows comes from :mod:`newsroom.warehouse.ui_reads` (the page holds no SQL). A warehouse
not at this code's schema revision gets a 503 page saying so.
Authentication is the caller's: ``newsroom_plugin`` passes Airflow's login
check as ``dependencies``; standalone there is none (bind it to localhost).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from newsroom.warehouse import ui_reads as reads

from .markdown import render_markdown

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: No scripts at all; inline <style> only; images from this origin only; framed only by
#: the same origin (Airflow's UI shows the page in an iframe).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["segment"] = lambda v: quote(str(v), safe="")  # one path segment, even with "/" in it
    return env


class _Warehouse:
    """The warehouse engine, opened on first use (importing the plugin must not connect)."""

    def __init__(self, url: str | None):
        self._url = url
        self._engine = None

    @property
    def url(self) -> str:
        if self._url is None:
            from newsroom.settings import get_settings

            self._url = get_settings().resolved_warehouse_url
        return self._url

    def engine(self):
        if self._engine is None:
            from newsroom.warehouse import connect

            self._engine = connect(self.url)
        return self._engine

    def backend(self) -> str:
        return reads.backend_name(self.url)  # never the URL itself: it may hold a password


def create_app(warehouse_url: str | None = None, *, dependencies: Sequence[Any] = (),
               run_limit: int = 20, digest_limit: int = 90) -> FastAPI:
    """The operator page over ``warehouse_url`` (default: ``NEWSROOM_*`` settings).

    ``dependencies`` apply to every route (e.g. ``Depends(requires_authenticated())``).
    """
    warehouse = _Warehouse(warehouse_url)
    env = _templates()
    app = FastAPI(title="newsroom", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=list(dependencies))

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    def page(name: str, status: int = 200, **context) -> HTMLResponse:
        html = env.get_template(name).render(backend=warehouse.backend(), **context)
        return HTMLResponse(html, status_code=status)

    def not_ready() -> HTMLResponse | None:
        state = reads.schema_state(warehouse.engine())
        if not state.ready:
            return page("not_ready.html", status=503, state=state)
        return None

    def read(fn, *args):
        return fn(warehouse.engine(), *args)  # each read closes its connection without commit

    @app.get("/", response_class=HTMLResponse)
    def overview() -> HTMLResponse:
        if (r := not_ready()) is not None:
            return r
        everything = read(reads.source_health)
        # Retired sources (gone from the sources file) are history, not trouble: listed apart.
        sources = [s for s in everything if s.state != "retired"]
        retired = [s for s in everything if s.state == "retired"]
        return page("overview.html", sources=sources, retired=retired, runs=read(reads.latest_runs, run_limit),
                    digests=read(reads.digests, digest_limit),
                    troubled=sum(1 for s in sources if s.state != "ok"))

    @app.get("/digests/{day}/{beat}", response_class=HTMLResponse)
    def digest_page(day: date, beat: str) -> HTMLResponse:
        if (r := not_ready()) is not None:
            return r
        note = read(reads.digest, day, beat)
        if note is None:
            raise HTTPException(404, "no such digest")
        return page("digest.html", note=note, body=Markup(render_markdown(note.markdown)))

    @app.get("/api/sources")
    def api_sources() -> list[reads.SourceHealth]:
        _ready_or_503()
        return read(reads.source_health)

    @app.get("/api/runs")
    def api_runs(limit: int = run_limit) -> list[reads.RunSummary]:
        _ready_or_503()
        return read(reads.latest_runs, max(1, min(limit, 500)))

    @app.get("/api/digests")
    def api_digests(limit: int = digest_limit) -> list[reads.DigestListing]:
        _ready_or_503()
        return read(reads.digests, max(1, min(limit, 1000)))

    def _ready_or_503() -> None:
        state = reads.schema_state(warehouse.engine())
        if not state.ready:
            raise HTTPException(503, f"warehouse not migrated: at schema revision {state.current or '(none)'}, "
                                     f"this code needs {state.head}")

    return app
