"""The figures hooks over real ``AIRFLOW_CONN_*`` Connections: base URL from the host, token
from the password, the public API when the Connection is absent; the token never in the repr."""

from __future__ import annotations

import json

from newsroom_hooks import GitHubHook, HuggingFaceHook, PyPIStatsHook


def test_host_and_token_come_from_the_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(
        {"conn_type": "http", "host": "http://127.0.0.1:8765/", "password": "ghp_secret_token"}))
    ep = GitHubHook().get_endpoint()
    assert (ep.service, ep.base_url, ep.token) == ("github", "http://127.0.0.1:8765", "ghp_secret_token")
    assert "ghp_secret_token" not in repr(ep) and "ghp_secret_token" not in repr(GitHubHook())
    monkeypatch.setenv("AIRFLOW_CONN_HUGGINGFACE_DEFAULT", "https://:hf_tok@hub-mirror.example:8443")
    hf = HuggingFaceHook().get_endpoint()
    assert (hf.base_url, hf.token) == ("https://hub-mirror.example:8443", "hf_tok")


def test_absent_connections_mean_the_public_apis_without_a_token(monkeypatch):
    for name in ("GITHUB", "HUGGINGFACE", "PYPISTATS"):
        monkeypatch.delenv(f"AIRFLOW_CONN_{name}_DEFAULT", raising=False)
    assert GitHubHook().get_endpoint().base_url == "https://api.github.com"
    assert HuggingFaceHook().get_endpoint().base_url == "https://huggingface.co"
    ep = PyPIStatsHook().get_endpoint()
    assert (ep.base_url, ep.token) == ("https://pypistats.org", None)
