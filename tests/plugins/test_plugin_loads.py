"""The plugin as Airflow loads it: listed by ``airflow plugins`` without import errors,
and its page mounted in Airflow's API server behind Airflow's login."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.ui.seed import seed

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def _env(**extra) -> dict[str, str]:
    # tests/airflow_env.configure() has set AIRFLOW_HOME, plugins/dags folders and PYTHONPATH.
    env = {**os.environ, "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False", **extra}
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(PROJECT / "plugins")
    return env


@pytest.fixture(scope="module", autouse=True)
def plugins_cli():
    """``airflow plugins -o json``, started at once so it runs while the other test migrates."""
    proc = subprocess.Popen([AIRFLOW, "plugins", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env())
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_page_is_mounted_in_the_api_server_behind_airflow_login(airflow_db, tmp_path):
    from newsroom.warehouse import dispose_all, migrate_warehouse

    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    seed(migrate_warehouse(url))
    dispose_all()
    r = subprocess.run([sys.executable, str(Path(__file__).with_name("api_probe.py"))], capture_output=True,
                       text=True, env=_env(NEWSROOM_WAREHOUSE_URL=url), timeout=170, cwd=str(PROJECT))
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout[r.stdout.index('{"import_errors"'):])
    assert out["import_errors"] == {}
    assert out["anonymous"] == 401 and out["anonymous_api"] == 401  # Airflow does not guard plugin apps: we do
    assert out["forged"] in (401, 403)
    assert out["cookie"] == 200 and "Broken Feed" in out["cookie_body"] and "source-health" in out["cookie_body"]
    assert out["csp"] and "default-src 'none'" in out["csp"]
    assert [(d["day"], d["beat"]) for d in out["bearer"]] == [("2026-04-10", "pwn"), ("2026-04-09", "ai")]


def test_airflow_plugins_lists_newsroom(plugins_cli):
    stdout, stderr = plugins_cli.communicate(timeout=120)
    assert plugins_cli.returncode == 0, stderr[-2000:]
    listing = next(line for line in stdout.splitlines() if line.startswith("[{"))  # past any log lines
    plugins = {p["name"]: p for p in json.loads(listing)}
    ours = plugins["newsroom"]
    assert ours["source"].endswith("newsroom_plugin.py")
    assert [(a["url_prefix"], a["name"]) for a in ours["fastapi_apps"]] == [("/newsroom", "newsroom operator page")]
    assert ours["external_views"] == [
        {"name": "Newsroom", "href": "newsroom/", "url_route": "newsroom", "destination": "nav"}]
    # hooks and the UI package are not plugins of their own
    assert set(plugins) == {"newsroom"}, sorted(plugins)
