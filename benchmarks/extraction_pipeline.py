"""The whole article path, for the extraction benchmarks.

Serves the benchmark pages with tests/replay_server.py on 127.0.0.1, lists them
in a generated RSS feed (tests/e2e/corpus_site.py), runs
``newsroom.pipeline.ingest.ingest_feed`` on it into a fresh SQLite warehouse
(HTTP fetch → capture → ``extract_many`` → ``articles`` upsert), and reads the
text back from the ``articles`` table, keyed by page id.

The run's warehouse and captures go to a fresh folder under ``scratch``: by
default ``data/benchmark-scratch/`` of the project, beside where ``make run``
keeps them (``NEWSROOM_DATA_DIR`` is ``data/``). The path creates a file per
page (the capture, written to a temporary name and renamed) and, in a fresh
store, a folder per new bucket; on the VMs this was measured on, creating an
inode cost anywhere from 0.02 to 0.95 ms of kernel CPU, varying from one second
to the next whatever the folder (``file_create_ms`` measures it; the throughput
benchmark prints it). That is the whole path's largest source of run-to-run
spread: the baseline creates no files.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (str(ROOT / "include"), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

_PAGE_ID = re.compile(r"/pages/([0-9a-f]{64})\.html")
SCRATCH = ROOT / "data" / "benchmark-scratch"


def file_create_ms(folder: Path, n: int = 40) -> float:
    """Mean wall ms to create (mkstemp) and remove one small file in a fresh subfolder of ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as d:
        t = time.perf_counter()
        for _ in range(n):
            fd, path = tempfile.mkstemp(dir=d)
            os.close(fd)
            os.unlink(path)
        return (time.perf_counter() - t) * 1000 / n


def pipeline_available() -> bool:
    try:
        from newsroom.pipeline.ingest import ingest_feed  # noqa: F401
        from tests.e2e.corpus_site import serve_pages_feed  # noqa: F401
    except ImportError:
        return False
    return True


def run_pipeline(corpus: Path, pages: list[dict], *, workers: int = 2, cpu_clock=None,
                 scratch: Path | None = None) -> tuple[dict[str, str | None], float, dict]:
    """Ingest ``pages`` (extraction manifest records) end to end.

    Returns (page id → article text, wall seconds of ``ingest_feed``, its result).
    With ``cpu_clock`` (a function returning CPU seconds so far), the result also has
    ``cpu_s``: the CPU ``ingest_feed`` alone took by that clock, without the set-up
    around it (server, migrations, temporary folders). ``scratch`` is where the run's
    temporary data folder goes (default :data:`SCRATCH`).
    """
    from sqlalchemy import select

    from newsroom.pipeline.ingest import ingest_feed
    from newsroom.settings import Settings, get_settings
    from newsroom.warehouse import dispose_all, migrate_warehouse
    from newsroom.warehouse.schema import Article
    from tests.e2e.corpus_site import serve_pages_feed, write_sources
    from tests.replay_server import ReplayServer

    scratch = Path(scratch or SCRATCH)
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="newsroom-extraction-bench-", dir=scratch) as tmp, ReplayServer() as srv:
        tmp_path = Path(tmp)
        feed_url = serve_pages_feed(srv, corpus, pages, name="bench")
        sources = write_sources(tmp_path / "sources.yaml", {"bench": feed_url})
        env = {
            "NEWSROOM_SOURCES": str(sources),
            "NEWSROOM_DATA_DIR": str(tmp_path / "data"),
            "NEWSROOM_OUTPUT_DIR": str(tmp_path / "vault"),
            "NEWSROOM_WAREHOUSE_URL": f"sqlite:///{tmp_path / 'warehouse.db'}",
            "NEWSROOM_ALLOW_PRIVATE_NETWORKS": "true",
            "NEWSROOM_ALLOWED_HOSTS": "127.0.0.1",
            "NEWSROOM_MAX_ARTICLES_PER_SOURCE": str(len(pages) + 10),
            "NEWSROOM_EXTRACT_WORKERS": str(workers),
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        get_settings.cache_clear()
        try:
            settings = Settings()
            engine = migrate_warehouse(settings.resolved_warehouse_url)
            c = cpu_clock() if cpu_clock else 0.0
            t = time.perf_counter()
            result = ingest_feed("bench", settings=settings, run_id="extraction-benchmark", engine=engine)
            seconds = time.perf_counter() - t
            if cpu_clock:
                result["cpu_s"] = cpu_clock() - c
            with engine.connect() as conn:
                rows = conn.execute(select(Article.url, Article.text)).all()
            texts: dict[str, str | None] = {}
            for url, text in rows:
                m = _PAGE_ID.search(url or "")
                if m:
                    texts[m.group(1)] = text
            dispose_all()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            get_settings.cache_clear()
    return texts, seconds, result
