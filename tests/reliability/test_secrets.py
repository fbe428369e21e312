"""Credentials come only from Airflow Connections (here in their environment-variable
form, ``AIRFLOW_CONN_…``, read by the DAG files' own helpers) and never show up in logs,
printed output, task return values (XCom) or the warehouse — while really being used
against a local OAuth / OpenAI-compatible server."""

from __future__ import annotations

import base64
import importlib
import json
import logging
import secrets as _secrets
from datetime import date
from urllib.parse import quote

import pytest

from newsroom.config.sources import FeedSource, RedditConfig, SourcesFile, SubredditSource
from newsroom.pipeline.digest import build_daily_digest
from newsroom.pipeline.ingest import ingest_feed
from newsroom.pipeline.process import process_new_articles
from newsroom.pipeline.reddit import ingest_subreddit
from newsroom.reddit.client import reset_process_state
from newsroom.settings import Settings
from tests.reliability.helpers import T0, serve_control, warehouse_text


def _dag_module(name: str):
    return importlib.import_module(f"dags.{name}")


def _leaks(blob: str, values: list[str]) -> list[str]:
    return [v for v in values if v and v in blob]


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)  # everything, httpx/httpcore request logs included
    return caplog


def test_reddit_credentials_from_the_connection_never_leak(replay_server, fast, warehouse, monkeypatch, logs,
                                                           capfd, record):
    reset_process_state()
    client_id, secret = f"cid-{_secrets.token_hex(6)}", f"sec-{_secrets.token_hex(12)}"
    token = f"tok-{_secrets.token_hex(12)}"
    monkeypatch.setenv("AIRFLOW_CONN_REDDIT_DEFAULT", f"reddit://{quote(client_id)}:{quote(secret)}@")
    creds = _dag_module("newsroom_ingest")._reddit_credentials()
    assert creds is not None and creds.client_secret.get_secret_value() == secret

    srv = replay_server
    expected_basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    seen = {"token": 0, "bearer": 0}

    def token_endpoint(req):
        if req.headers.get("Authorization") != expected_basic:
            return 401, {"Content-Type": "application/json"}, b'{"error": 401}'
        seen["token"] += 1
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"access_token": token, "token_type": "bearer", "expires_in": 3600, "scope": "*"}).encode()

    listing = json.dumps({"kind": "Listing", "data": {"after": None, "children": [{"kind": "t3", "data": {
        "id": "s1", "name": "t3_s1", "subreddit": "LocalLLaMA", "title": "A self post", "author": "a",
        "created_utc": T0.timestamp(), "permalink": "/r/LocalLLaMA/comments/s1/x/", "url": "", "domain": "self.x",
        "is_self": True, "selftext": "Some text about models " * 20, "score": 300, "num_comments": 0,
        "upvote_ratio": 0.9, "over_18": False, "stickied": False}}]}}).encode()

    def api(req):
        scheme, _, value = (req.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or value != token:
            return 401, {"Content-Type": "application/json"}, b'{"error": 401}'
        seen["bearer"] += 1
        return 200, {"Content-Type": "application/json"}, listing

    srv.add("/api/v1/access_token", handler=token_endpoint)
    for p in ("/r/LocalLLaMA/hot", "/r/LocalLLaMA/hot.json"):
        srv.add(p, handler=api)
    _enable_post(srv)
    base = srv.base_url
    sources = SourcesFile(reddit=RedditConfig(
        base_url=base, oauth_base_url=base, token_url=f"{base}/api/v1/access_token", requests_per_minute=60000,
        oauth_requests_per_minute=60000, max_wait_s=2, timeout_s=5,
        subreddits=[SubredditSource(name="LocalLLaMA", listing="hot", min_score=0, top_comments=0)]))
    out = ingest_subreddit("LocalLLaMA", settings=fast, run_key="run-1", sources=sources, engine=warehouse,
                           credentials=creds)
    assert out["status"] == "ok" and out["posts"] == 1, out
    assert seen == {"token": 1, "bearer": 1}  # the credentials were really used
    printed = capfd.readouterr()
    blob = "\n".join([logs.text, printed.out, printed.err, json.dumps(out, default=str), repr(creds), str(creds),
                      warehouse_text(warehouse)])
    assert _leaks(blob, [client_id, secret, token, expected_basic.split()[1]]) == []
    # No env-var side door for credentials (retention_reddit_snapshots_days is not one).
    credential_words = ("secret", "client_id", "password", "token", "oauth")
    assert not any(w in f for f in Settings.model_fields for w in credential_words)
    record("Secrets", "Reddit OAuth credentials (`AIRFLOW_CONN_REDDIT_DEFAULT`)",
           "used for the token request and the API call; absent from every log record (DEBUG), stdout/stderr, "
           "the task's return value (XCom) and the warehouse; repr masked", lost=0)


def _enable_post(srv) -> None:
    """Let routes answer POST (token endpoint, chat completions); GET handling is untouched."""
    cls = srv.httpd.RequestHandlerClass
    if getattr(cls, "_reliability_post", False):
        return

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(n) if n else b""
        self._serve(head=False)

    cls.do_POST = do_POST
    cls._reliability_post = True


def test_llm_key_from_the_connection_never_leaks(replay_server, fast, warehouse, monkeypatch, logs, capfd, record):
    key = f"sk-test-{_secrets.token_hex(16)}"
    srv = replay_server
    conn = {"conn_type": "http", "host": srv.url("/v1"), "password": key, "extra": {"model": "tiny-model"}}
    monkeypatch.setenv("AIRFLOW_CONN_LLM_DEFAULT", json.dumps(conn))
    config = _dag_module("newsroom_digest")._llm_config()
    assert config is not None and config.api_key.get_secret_value() == key
    calls = {"ok": 0, "refused": 0}

    def chat(req):
        if req.headers.get("Authorization") != f"Bearer {key}":
            calls["refused"] += 1
            return 401, {"Content-Type": "application/json"}, b'{"error": "bad key"}'
        calls["ok"] += 1
        if calls["ok"] > 1:  # later calls fail: the failure path logs, and must not log the key either
            return 500, {"Content-Type": "application/json"}, b'{"error": "overloaded"}'
        text = "The regional authority approved a new tram line after a long consultation, officials said."
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()

    srv.add("/v1/chat/completions", handler=chat)
    _enable_post(srv)
    feed = serve_control(srv)
    # The control pages are about trams: make that the beat, so the digest ranks (and summarises) them.
    sources = SourcesFile(beat="Transport", timezone="UTC", feeds=[FeedSource(name="control", url=feed)],
                          digest={"beat_terms": ["tram", "trams", "transport", "rail"]})
    ingest_feed("control", settings=fast, run_id="run-1", sources=sources, engine=warehouse, now=T0)
    process_new_articles(settings=fast, engine=warehouse)
    result = build_daily_digest(warehouse, date(2026, 4, 9), settings=fast, sources=sources, llm=config)
    assert calls["ok"] >= 2 and calls["refused"] == 0, calls  # the key was really sent; both paths ran
    note = (fast.output_dir / result["path"]).read_text(encoding="utf-8")
    printed = capfd.readouterr()
    blob = "\n".join([logs.text, printed.out, printed.err, json.dumps(result, default=str), repr(config),
                      str(config), note, warehouse_text(warehouse)])
    assert _leaks(blob, [key]) == []
    record("Secrets", "LLM API key (`AIRFLOW_CONN_LLM_DEFAULT`)",
           "sent as the Bearer header only; absent from logs (success and HTTP 500 fallback), stdout/stderr, the "
           "task's return value (XCom), the note, the summary cache and every other table; repr masked", lost=0)
