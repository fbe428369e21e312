"""Airflow for tests: an isolated AIRFLOW_HOME with SQLite metadata, migrated once
per session, dags folder = the project's ``dags/``. Imported by conftest before
anything imports airflow, because Airflow reads its configuration at import."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def configure() -> Path:
    home = Path(os.environ.get("NEWSROOM_TEST_AIRFLOW_HOME") or tempfile.mkdtemp(prefix="newsroom-airflow-"))
    os.environ["NEWSROOM_TEST_AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(PROJECT / "dags")
    os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PROJECT / "plugins")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    os.environ["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    paths = [str(PROJECT / "include"), str(PROJECT)]
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(paths + ([old] if old else []))
    return home


_migrated = False


def migrate() -> None:
    """``airflow db migrate`` once per session (in a subprocess: it is what operators run)."""
    global _migrated
    if _migrated:
        return
    home = Path(os.environ["AIRFLOW_HOME"])
    marker = home / ".migrated"
    if not marker.exists():
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())
        marker.touch()
    _migrated = True
