"""Faults: a load killed half-way, two loads of one source at once, the warehouse gone,
the output folder unwritable, the disk full. Real mechanisms throughout: SIGKILL of a
real process, real threads on PostgreSQL, a closed port, a read-only mount, a full tmpfs
(or ``RLIMIT_FSIZE`` where mounting is not allowed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from newsroom.config.sources import FeedSource, SourcesFile
from newsroom.digest.vault import Vault, VaultError
from newsroom.pipeline.digest import build_daily_digest
from newsroom.pipeline.ingest import SourceFailed, ingest_feed
from newsroom.warehouse import connect
from newsroom.warehouse.schema import Article, Capture, FeedEntryRow, SourceRun
from newsroom.warehouse.schema.digest import Digest
from tests.conftest import PROJECT
from tests.reliability.helpers import T0, article_html, count, rss, rss_item

N_ITEMS = 6


def _feed(srv, n: int = N_ITEMS, delay: float = 0.0) -> str:
    items = []
    for i in range(n):
        page = srv.add(f"/p/{i}.html", body=article_html(f"Story {i}", seed=i) + f"<!-- {i} -->".encode(),
                       content_type="text/html", delay_s=delay)
        items.append(rss_item(f"Story {i} about trams", page, guid=f"g{i}", description=f"Summary {i}",
                              published=T0 - timedelta(minutes=i)))
    srv.add("/robots.txt", body="User-agent: *\nAllow: /\n", content_type="text/plain")
    return srv.add("/feed.xml", body=rss(items), content_type="application/rss+xml")


def _consistency(engine) -> dict:
    """Row counts and duplicate checks on the natural keys."""
    with engine.connect() as c:
        dup_articles = c.execute(select(Article.canonical_url).group_by(Article.canonical_url)
                                 .having(func.count() > 1)).all()
        dup_entries = c.execute(select(FeedEntryRow.source_id, FeedEntryRow.guid)
                                .group_by(FeedEntryRow.source_id, FeedEntryRow.guid).having(func.count() > 1)).all()
        dup_caps = c.execute(select(Capture.url, Capture.sha256).group_by(Capture.url, Capture.sha256)
                             .having(func.count() > 1)).all()
        unlinked = c.execute(select(func.count()).select_from(FeedEntryRow)
                             .where(FeedEntryRow.article_id.is_(None))).scalar_one()
    return {"entries": count(engine, FeedEntryRow), "articles": count(engine, Article),
            "duplicates": len(dup_articles) + len(dup_entries) + len(dup_caps), "unlinked": unlinked}


_CHILD = textwrap.dedent("""
    import sys
    from newsroom.config.sources import FeedSource, SourcesFile
    from newsroom.pipeline.ingest import ingest_feed
    from newsroom.settings import Settings
    sources = SourcesFile(feeds=[FeedSource(name="feed", url=sys.argv[1])])
    print("started", flush=True)
    ingest_feed("feed", settings=Settings(), run_id="run-1", sources=sources)
    print("finished", flush=True)
""")


def test_load_killed_half_way_then_rerun(replay_server, fast, warehouse, warehouse_url, record):
    url = _feed(replay_server, delay=0.7)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT / "include"), str(PROJECT)]),
           "NEWSROOM_WAREHOUSE_URL": warehouse_url, "NEWSROOM_DATA_DIR": fast.data_dir,
           "NEWSROOM_ALLOW_PRIVATE_NETWORKS": "true", "NEWSROOM_EXTRACT_WORKERS": "1"}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, url], env=env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        # Kill it while it is fetching the article pages: entries stored, articles not yet.
        while sum(replay_server.hits(f"/p/{i}.html") for i in range(N_ITEMS)) < 2:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never reached the article pages"
            time.sleep(0.02)
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the child's own process group, started above
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    half = _consistency(warehouse)
    assert half["entries"] == N_ITEMS and half["articles"] < N_ITEMS and half["duplicates"] == 0

    # The retry (same run id, as Airflow's retry has) completes the load; a second rerun adds nothing.
    for i in range(N_ITEMS):
        replay_server.routes[f"/p/{i}.html"].delay_s = 0.0
    sources = SourcesFile(feeds=[FeedSource(name="feed", url=url)])
    out = ingest_feed("feed", settings=fast, run_id="run-1", sources=sources, engine=warehouse, now=T0)
    assert out["status"] == "ok"
    again = ingest_feed("feed", settings=fast, run_id="run-1", sources=sources, engine=warehouse, now=T0)
    assert again["new_entries"] == 0 and again["new_articles"] == 0
    final = _consistency(warehouse)
    assert final == {"entries": N_ITEMS, "articles": N_ITEMS, "duplicates": 0, "unlinked": 0}, final
    assert count(warehouse, SourceRun) == 1
    lost = N_ITEMS - final["articles"]
    assert lost == 0
    record("Faults", "ingest process SIGKILLed while fetching article pages, then rerun (same run id)",
           f"killed run left {half['entries']} entries and {half['articles']} articles, no partial rows; rerun "
           f"completed to {final['entries']} entries / {final['articles']} articles, 0 duplicates, "
           "every entry linked; a further rerun added nothing", lost=lost)


@pytest.mark.parametrize("warehouse_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("same_run", [True, False], ids=["same-run", "different-runs"])
def test_two_ingests_of_one_source_at_once(same_run, replay_server, fast, warehouse, record):
    url = _feed(replay_server, delay=0.2)
    sources = SourcesFile(feeds=[FeedSource(name="feed", url=url)])
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def run(k: int) -> None:
        try:
            barrier.wait()
            results[k] = ingest_feed("feed", settings=fast, run_id="run-1" if same_run else f"run-{k}",
                                     sources=sources, engine=warehouse, now=T0)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 2, errors
    assert replay_server.hits("/feed.xml") == 2  # both really ran
    final = _consistency(warehouse)
    assert final == {"entries": N_ITEMS, "articles": N_ITEMS, "duplicates": 0, "unlinked": 0}, final
    assert count(warehouse, SourceRun) == (1 if same_run else 2)
    assert sum(r["new_articles"] for r in results.values()) == N_ITEMS  # each article counted once
    lost = N_ITEMS - final["articles"]
    assert lost == 0
    label = "the same run (a retried task overlapping)" if same_run else "two different runs"
    record("Faults", f"two ingests of one source at once, {label}",
           f"both succeeded; {final['entries']} entries, {final['articles']} articles, 0 duplicates "
           "(unique keys + `ON CONFLICT` upserts)", lost=lost)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("warehouse_url", ["postgresql"], indirect=True)  # the URL used is a dead one
def test_warehouse_unreachable(replay_server, fast, record, tmp_path):
    url = _feed(replay_server, n=1)
    bad = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/newsroom"
    settings = fast.model_copy(update={"warehouse_url": bad})
    sources = SourcesFile(feeds=[FeedSource(name="feed", url=url)])
    from newsroom.pipeline.outcome import is_permanent, is_systemic
    from newsroom.warehouse import WarehouseUnavailable

    with pytest.raises(WarehouseUnavailable) as err:
        ingest_feed("feed", settings=settings, run_id="run-1", sources=sources)
    # systemic, not "permanent": the task fails with this one line and Airflow retries it
    assert is_systemic(err.value) and not is_permanent(err.value) and not isinstance(err.value, SourceFailed)
    assert "\n" not in str(err.value) and "refused" in str(err.value)
    assert replay_server.hits("/feed.xml") == 0  # nothing fetched that could not be stored
    record("Faults", "warehouse unreachable during ingest (PostgreSQL URL on a closed port)",
           f"`ingest_feed` raises `{type(err.value).__name__}` with one line (connection refused; a silent host "
           "times out after 10 s) before fetching: the task fails and Airflow retries it", lost=0)


def test_warehouse_unreachable_leaves_the_digest_untouched(warehouse, fast, record):
    sources = SourcesFile(beat="AI", timezone="UTC")
    day = date(2026, 4, 9)
    first = build_daily_digest(warehouse, day, settings=fast, sources=sources)
    note = Path(fast.output_dir) / first["path"]
    before = note.read_bytes()
    files_before = sorted(p.relative_to(fast.output_dir) for p in Path(fast.output_dir).rglob("*"))
    dead = connect(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/newsroom")
    with pytest.raises(OperationalError):
        build_daily_digest(dead, day, settings=fast, sources=sources)
    assert note.read_bytes() == before
    assert sorted(p.relative_to(fast.output_dir) for p in Path(fast.output_dir).rglob("*")) == files_before
    record("Faults", "warehouse unreachable while building the digest",
           "`build_daily_digest` raises `OperationalError`; the previous note is byte-identical, no new or "
           "temporary file in the vault", lost=0)


def _can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    probe = Path(f"/tmp/newsroom-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(probe)], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", str(probe)], capture_output=True)
    probe.rmdir()
    return ok


CAN_MOUNT = _can_mount()


@pytest.fixture
def mount_tmpfs(tmp_path):
    mounted = []

    def mount(name: str, size: str, readonly: bool = False) -> Path:
        target = tmp_path / name
        target.mkdir()
        opts = f"size={size}" + (",ro" if readonly else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(target)], check=True)
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_output_folder_unwritable(warehouse, fast, record, tmp_path, mount_tmpfs):
    if CAN_MOUNT:
        out_dir = mount_tmpfs("ro-vault", "64k", readonly=True)
    else:  # not root: a folder whose parent is a regular file can never be created
        blocker = tmp_path / "blocker"
        blocker.write_text("a file, not a folder")
        out_dir = blocker / "vault"
    settings = fast.model_copy(update={"output_dir": out_dir})
    with pytest.raises(VaultError) as err:
        build_daily_digest(warehouse, date(2026, 4, 9), settings=settings, sources=SourcesFile(timezone="UTC"))
    msg = str(err.value)
    assert "not writable" in msg and "NEWSROOM_OUTPUT_DIR" in msg
    assert count(warehouse, Digest) == 0  # failed before touching the warehouse
    record("Faults", "output folder unwritable (read-only mount; a path under a file where mounting is not allowed)",
           "`VaultError`: `output directory … is not writable (…); set NEWSROOM_OUTPUT_DIR to a writable folder`, "
           "raised before anything is written to the warehouse", lost=0)


_RLIMIT_CHILD = textwrap.dedent("""
    import resource, signal, sys
    from newsroom.digest.vault import Vault, VaultError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
    try:
        Vault(sys.argv[1]).write_note("digests", "2026-04-09-AI-Digest", "new " * 100000)
    except VaultError as exc:
        print("VaultError:", exc)
        sys.exit(3)
    sys.exit(0)
""")


def test_disk_full_keeps_the_previous_note(tmp_path, mount_tmpfs, record):
    old = "---\ntitle: 2026-04-09-AI-Digest\n---\n# Yesterday's good note\n"
    new = "---\ntitle: 2026-04-09-AI-Digest\n---\n" + "A much longer note. " * 20_000  # ~400 kB
    if CAN_MOUNT:
        root = mount_tmpfs("full-vault", "128k")  # a real ENOSPC
        vault = Vault(root)
        path = vault.write_note("digests", "2026-04-09-AI-Digest", old)
        with pytest.raises(VaultError) as err:
            vault.write_note("digests", "2026-04-09-AI-Digest", new)
        msg = str(err.value)
        assert "No space left on device" in msg
    else:
        root = tmp_path / "vault"  # RLIMIT_FSIZE in a child process: EFBIG
        vault = Vault(root)
        path = vault.write_note("digests", "2026-04-09-AI-Digest", old)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT / "include"), str(PROJECT)])}
        proc = subprocess.run([sys.executable, "-c", _RLIMIT_CHILD, str(root)], env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 3, proc.stderr
        msg = proc.stdout
        assert "File too large" in msg
    assert path.read_text(encoding="utf-8") == old  # the previous note survives, whole
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    record("Faults", "disk full while writing a note (a real full tmpfs; `RLIMIT_FSIZE` where mounting is not "
           "allowed)", "`VaultError: cannot write …: No space left on device` (`File too large` under "
           "`RLIMIT_FSIZE`); the previous note is intact (temp file + `os.replace`), no temporary file left", lost=0)
