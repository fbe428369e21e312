"""``make run`` stops cleanly on Ctrl-C: start ``scripts/run.sh`` as a terminal would (its
own foreground process group), wait until the UI answers, trigger ``newsroom_ingest``
through the REST API against a local feed whose pages answer slowly (so a task process
and its extraction workers are busy), send SIGINT to the group as the terminal does on
Ctrl-C, and check that every process it started is gone within 15 s and that nothing
listens on its ports any more."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.backfill.cluster import free_port

pytestmark = [pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[1]
STOP_BUDGET_S = 15


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _tree(pid: int) -> set[int]:
    import psutil

    try:
        root = psutil.Process(pid)
        return {pid, *(p.pid for p in root.children(recursive=True))}
    except psutil.NoSuchProcess:
        return set()


def _alive(pids: set[int]) -> set[int]:
    import psutil

    out = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.add(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def _api(base: str, home: Path, method: str, path: str, **kw):
    import json

    import httpx

    users = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
    user, password = next(iter(users.items()))
    token = httpx.post(f"{base}/auth/token", json={"username": user, "password": password}, timeout=30)
    token.raise_for_status()
    r = httpx.request(method, f"{base}{path}", headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                      timeout=30, **kw)
    return r


def _slow_site(srv, pages: int = 8) -> str:
    items = "".join(f"<item><title>P{i}</title><link>{srv.url(f'/slow/{i}')}</link><guid>slow-{i}</guid></item>"
                    for i in range(pages))
    for i in range(pages):
        srv.add(f"/slow/{i}", "<html><body><p>late</p></body></html>", content_type="text/html", delay_s=120)
    srv.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    return srv.add("/slow.xml", "<?xml version='1.0'?><rss version='2.0'><channel><title>s</title><link>x</link>"
                   f"<description>d</description>{items}</channel></rss>", content_type="application/rss+xml")


def test_make_run_stops_every_child_on_ctrl_c(tmp_path, replay_server):
    import httpx

    from tests.e2e.corpus_site import write_sources

    if not (PROJECT / ".venv" / "bin" / "airflow").exists():
        pytest.skip("run `make setup` first: the test starts the project's own .venv")
    ports = {"api": free_port(), "worker_logs": free_port(), "trigger_logs": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSROOM"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__API__PORT": str(ports["api"]),
        # the log servers' default ports (8793/8794) may belong to another Airflow on this machine
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["worker_logs"]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["trigger_logs"]),
        "NEWSROOM_DATA_DIR": str(tmp_path / "data"),
        "NEWSROOM_OUTPUT_DIR": str(tmp_path / "vault"),
        "NEWSROOM_INGEST_SCHEDULE": "none",
        "NEWSROOM_SOURCES": str(write_sources(tmp_path / "sources.yaml", {"slow": _slow_site(replay_server)})),
        "NEWSROOM_ALLOW_PRIVATE_NETWORKS": "true",
        "NEWSROOM_ALLOWED_HOSTS": "127.0.0.1",
        "NEWSROOM_EXTRACT_WORKERS": "2",
    })
    log = open(tmp_path / "run.log", "wb")
    started: set[int] = set()
    proc = subprocess.Popen([str(PROJECT / "scripts" / "run.sh")], cwd=PROJECT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "run.log").read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{ports['api']}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            pytest.fail("the UI did not answer in 240 s\n" + (tmp_path / "run.log").read_text(errors="replace")[-3000:])
        base, home = f"http://127.0.0.1:{ports['api']}", tmp_path / "airflow"
        deadline = time.monotonic() + 180  # the dag-processor parses the DAG
        while _api(base, home, "GET", "/api/v2/dags/newsroom_ingest").status_code == 404:
            assert time.monotonic() < deadline, "newsroom_ingest was not parsed in 180 s"
            time.sleep(2)
        assert _api(base, home, "PATCH", "/api/v2/dags/newsroom_ingest", json={"is_paused": False}).is_success
        assert _api(base, home, "POST", "/api/v2/dags/newsroom_ingest/dagRuns",
                    json={"dag_run_id": "ctrl_c", "logical_date": None, "conf": {}}).is_success
        deadline = time.monotonic() + 180
        while replay_server.hits("/slow/0") == 0:  # the feed task is fetching its (slow) pages
            assert time.monotonic() < deadline, "the ingest task did not start in 180 s"
            time.sleep(1)
        time.sleep(3)  # its extraction workers are starting meanwhile
        started = _tree(proc.pid)
        # run.sh, standalone, its four components, the LocalExecutor's worker and the task process
        assert len(started) >= 7, started

        os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends on Ctrl-C
        t0 = time.monotonic()
        while _alive(started) and time.monotonic() - t0 < STOP_BUDGET_S:
            time.sleep(0.2)
        took = time.monotonic() - t0
        left = _alive(started)
        assert not left, f"still running {took:.1f} s after Ctrl-C: {sorted(left)}"
        assert proc.wait(timeout=5) == 0
        busy = [name for name, port in ports.items() if _listening(port)]
        assert busy == [], f"ports still open after stop: {busy}"
        out = (tmp_path / "run.log").read_text(errors="replace")
        assert "==> stopped" in out
    finally:
        for pid in _alive(started | _tree(proc.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
