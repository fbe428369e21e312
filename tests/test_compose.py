"""docker-compose.yaml: no Docker engine here, so the file is validated by reading
it (and by ``docker-compose config -q`` when the binary is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parent.parent
COMPOSE = PROJECT / "docker-compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_celery_shape(compose):
    services = compose["services"]
    for name in ["postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                 "airflow-triggerer", "airflow-worker", "airflow-init", "warehouse"]:
        assert name in services, f"missing service {name}"
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080")


@pytest.mark.parametrize("svc", ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                                 "airflow-triggerer", "airflow-worker", "airflow-init"])
def test_newsroom_code_and_settings_reach_every_airflow_service(compose, svc):
    s = compose["services"][svc]
    mounts = {v.split(":")[1] for v in s["volumes"]}
    assert {"/opt/airflow/dags", "/opt/airflow/include", "/opt/airflow/plugins"} <= mounts
    env = s["environment"]
    assert "/opt/airflow/include" in env["PYTHONPATH"].split(":")
    for key in ["NEWSROOM_SOURCES", "NEWSROOM_ENTITIES", "NEWSROOM_WAREHOUSE_URL", "NEWSROOM_DATA_DIR",
                "NEWSROOM_OUTPUT_DIR", "NEWSROOM_ALLOW_PRIVATE_NETWORKS", "NEWSROOM_USER_AGENT"]:
        assert key in env, f"{svc} lacks {key}"
    assert "warehouse:5432" in env["NEWSROOM_WAREHOUSE_URL"]


def test_init_migrates_both_databases(compose):
    cmd = "\n".join(compose["services"]["airflow-init"]["command"])
    assert "airflow db migrate" in cmd and "python -m newsroom migrate" in cmd
    assert "reddit_api" in cmd


def test_every_service_has_a_healthcheck_or_is_init(compose):
    for name, s in compose["services"].items():
        if name in ("airflow-init", "flower"):
            continue
        assert "healthcheck" in s, f"{name} has no healthcheck"


def test_docker_compose_config_validates():
    exe = shutil.which("docker-compose")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose binary missing in CI (.ci/run installs Debian's docker-compose)")
        pytest.skip("docker-compose binary not installed (apt-get install docker-compose)")
    res = subprocess.run([exe, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                         cwd=PROJECT, env={**os.environ, "AIRFLOW_UID": "50000"})
    assert res.returncode == 0, res.stderr
