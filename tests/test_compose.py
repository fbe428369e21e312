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
    # the pools come from the one pools file (reddit_api, page_fetch, …), mounted with plugins/
    assert "airflow pools import /opt/airflow/plugins/pools.json" in cmd
    assert "./plugins:/opt/airflow/plugins" in compose["x-airflow-common"]["volumes"]


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
                         cwd=PROJECT, env={**os.environ, **_generated_env(), "AIRFLOW_UID": "50000"})
    assert res.returncode == 0, res.stderr
    # …and it refuses to render with an empty Fernet key.
    res = subprocess.run([exe, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, cwd=PROJECT,
                         env={**os.environ, **_generated_env(), "AIRFLOW__CORE__FERNET_KEY": ""})
    assert res.returncode != 0 and "AIRFLOW__CORE__FERNET_KEY" in res.stderr


def _generated_env() -> dict[str, str]:
    """The .env scripts/make_env.sh writes, read back (the script itself, not a copy of it)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / ".env"
        subprocess.run([str(PROJECT / "scripts" / "make_env.sh"), str(out)], check=True, capture_output=True)
        assert oct(out.stat().st_mode & 0o777) == "0o600"
        return dict(line.split("=", 1) for line in out.read_text().splitlines() if line and not line.startswith("#"))


SECRETS = ["AIRFLOW__CORE__FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD", "POSTGRES_PASSWORD",
           "WAREHOUSE_PASSWORD"]


def test_secrets_come_from_env_and_are_required(compose):
    """No secret is written in the file, and none has a default: ${VAR:?…} makes compose refuse
    to start when the variable is unset *or empty* (an empty Fernet key stores connections in clear)."""
    text = COMPOSE.read_text()
    for var in SECRETS:
        assert f"${{{var}:?" in text, f"{var} is not required"
        assert f"${{{var}:-" not in text and f"${{{var}}}" not in text, f"{var} has a default or is optional"
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW__CORE__FERNET_KEY:?")
    for svc, var in (("postgres", "POSTGRES_PASSWORD"), ("warehouse", "WAREHOUSE_PASSWORD")):
        assert compose["services"][svc]["environment"]["POSTGRES_PASSWORD"].startswith(f"${{{var}:?")
    assert ":airflow@" not in text and "newsroom:newsroom@" not in text and "admin:admin}" not in text
    init = "\n".join(compose["services"]["airflow-init"]["command"])
    assert "Fernet(" in init and "simple_auth_manager_passwords.json" in init


def test_generated_env_has_a_valid_fernet_key_and_distinct_secrets():
    from cryptography.fernet import Fernet

    a, b = _generated_env(), _generated_env()
    for var in SECRETS:
        assert a[var] and a[var] != b[var], var
    Fernet(a["AIRFLOW__CORE__FERNET_KEY"].encode())  # what airflow-init checks
    assert len({a[v] for v in SECRETS}) == len(SECRETS)


def test_published_ports_bind_to_loopback_by_default(compose):
    published = {name: s["ports"] for name, s in compose["services"].items() if s.get("ports")}
    assert set(published) == {"warehouse", "airflow-apiserver", "flower"}
    for name, ports in published.items():
        for p in ports:
            assert str(p).startswith("${NEWSROOM_BIND_ADDRESS:-127.0.0.1}:"), f"{name} publishes {p} on all interfaces"
    assert "ports" not in compose["services"]["postgres"] and "ports" not in compose["services"]["redis"]
