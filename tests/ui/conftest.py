"""Browser tests: Debian's Chromium driven by Playwright, against the operator page
served by uvicorn (the documented standalone command) on 127.0.0.1.

Chromium is a system package (``apt-get install -y --no-install-recommends chromium``);
Playwright only drives it (``playwright install`` is never needed). Locally the
tests skip with the reason when either is missing; under CI (``CI`` set) they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PROJECT

PLUGINS = str(PROJECT / "plugins")
if PLUGINS not in sys.path:
    sys.path.append(PLUGINS)


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def chromium_executable() -> str | None:
    """``NEWSROOM_CHROMIUM``, else Debian's ``chromium`` (or ``chromium-browser``) on PATH."""
    explicit = os.environ.get("NEWSROOM_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    exe = chromium_executable()
    if not exe:
        _unavailable("Chromium not found: apt-get install -y --no-install-recommends chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed in the venv (pip install -r requirements-dev.txt)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=True)
    # Before any page script: record CSP violations, i.e. anything that *tried* to run or load.
    ctx.add_init_script("""
        window.__csp = [];
        document.addEventListener('securitypolicyviolation',
            e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '')));
    """)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.errors = errors
    try:
        yield p
    finally:
        ctx.close()


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """A seeded SQLite warehouse served by ``uvicorn --factory newsroom_ui.app:create_app``
    on a free port of 127.0.0.1 (the socket is bound here and handed over with ``--fd``)."""
    from newsroom.warehouse import dispose_all, migrate_warehouse

    from .seed import seed

    url = f"sqlite:///{tmp_path_factory.mktemp('ui-warehouse') / 'warehouse.db'}"
    expected = seed(migrate_warehouse(url))
    dispose_all()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {**os.environ, "NEWSROOM_WAREHOUSE_URL": url,
           "PYTHONPATH": os.pathsep.join([PLUGINS, str(PROJECT / "include"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "newsroom_ui.app:create_app", "--fd", str(sock.fileno()),
         "--log-level", "warning"],
        pass_fds=[sock.fileno()], env=env, cwd=str(PROJECT))
    sock.close()  # the server holds its own copy
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}")
            try:
                if httpx.get(base + "/api/digests", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not answer within 30 s")
            time.sleep(0.1)
        yield base, expected
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
