"""Fetcher.post against a real HTTP server on 127.0.0.1: what the Reddit token request and
the LLM client need (JSON or form body, basic auth, headers), with the same guard and caps
as GET, sent once, never redirected."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import pytest

from newsroom.fetch import Fetcher, FetchPolicy

from .conftest import UA


def _echo(seen: list):
    def handle(req):
        seen.append((req.command, {k.lower(): v for k, v in req.headers.items()}, req.body))
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'
    return handle


def test_json_body_and_headers(replay_server, fetcher, requests_log):
    seen = []
    url = replay_server.add("/v1/chat/completions", handler=_echo(seen))
    r = fetcher.post(url, json={"model": "m", "text": "é"}, headers={"Authorization": "Bearer k"}, kind="llm")
    assert r.ok and r.status == 200 and json.loads(r.body) == {"ok": True} and r.final_url == url
    method, headers, body = seen[0]
    assert method == "POST" and json.loads(body) == {"model": "m", "text": "é"}
    assert headers["content-type"] == "application/json" and headers["authorization"] == "Bearer k"
    assert headers["user-agent"] == UA and headers["content-length"] == str(len(body))
    assert requests_log == [("llm", url, 200, None)]  # one on_request call, with its kind


def test_form_body_with_basic_auth(replay_server, fetcher):
    seen = []
    url = replay_server.add("/api/v1/access_token", handler=_echo(seen))
    r = fetcher.post(url, data={"grant_type": "client_credentials"}, auth=("id", "s3cret"))
    assert r.ok
    _, headers, body = seen[0]
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(body.decode()) == {"grant_type": ["client_credentials"]}
    assert headers["authorization"] == "Basic " + base64.b64encode(b"id:s3cret").decode()


def test_json_and_data_together_is_a_caller_error(fetcher):
    with pytest.raises(ValueError):
        fetcher.post("http://127.0.0.1:9/", json={}, data={"a": "b"})


def test_a_redirect_is_not_followed(replay_server, fetcher):
    seen = []
    replay_server.add("/elsewhere", handler=_echo(seen))
    url = replay_server.redirect("/token", replay_server.url("/elsewhere"), status=307)
    r = fetcher.post(url, data={"a": "b"}, auth=("id", "secret"))
    assert r.error == "redirect_not_followed" and r.status == 307 and r.body == b""
    assert "/elsewhere" in r.error_detail and seen == [] and replay_server.hits("/token") == 1


def test_http_errors_keep_status_and_retry_after(replay_server, fetcher):
    url = replay_server.add("/busy", status=429, body=b'{"error": 429}', headers={"Retry-After": "7"})
    r = fetcher.post(url, json={})
    assert r.status == 429 and r.error == "http_429" and r.retry_after_s == 7.0 and r.body == b'{"error": 429}'


def test_the_body_cap_applies(replay_server, fetcher):
    url = replay_server.add("/big", body=b"x" * 5000, content_type="application/json")
    r = fetcher.post(url, json={}, max_bytes=1000)
    assert r.error == "too_large" and r.body == b""


def test_metadata_addresses_are_refused_even_with_private_networks_allowed(fetcher, requests_log):
    r = fetcher.post("http://169.254.169.254/latest/api/token", json={})
    assert r.error == "blocked_address" and r.status is None and requests_log == []


def test_private_addresses_are_refused_by_default(replay_server):
    url = replay_server.add("/x", body=b"{}")
    with Fetcher(FetchPolicy(user_agent=UA)) as f:
        r = f.post(url, json={})
    assert r.error == "blocked_address" and replay_server.hits("/x") == 0


def test_the_host_allowlist_applies(replay_server, policy):
    url = replay_server.add("/x", body=b"{}")
    with Fetcher(policy.model_copy(update={"allowed_hosts": ["api.example.org"]})) as f:
        r = f.post(url, json={})
    assert r.error == "host_not_allowed" and replay_server.hits("/x") == 0


def test_a_slow_endpoint_times_out(replay_server, policy):
    url = replay_server.add("/slow", body=b"{}", delay_s=2)
    with Fetcher(policy.model_copy(update={"read_timeout": 0.3, "total_timeout": 5})) as f:
        r = f.post(url, json={})
    assert r.error == "timeout" and replay_server.hits("/slow") == 1  # sent once, not retried
