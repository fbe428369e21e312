"""RedditHook and LLMHook over real Airflow Connections from ``AIRFLOW_CONN_*`` variables
(URI and JSON forms), through ``airflow.sdk``'s own lookup: nothing is patched."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from newsroom_hooks import LLMHook, RedditHook

REDDIT_ID = "cl1ent-ID-7x"
REDDIT_SECRET = "s3cr/et+REDDIT=value"  # characters that need quoting in a URI
LLM_KEY = "sk-live-LLM-KEY-do-not-log-99"


def _uri_quote(s: str) -> str:
    from urllib.parse import quote

    return quote(s, safe="")


def _logged(caplog, capfd) -> str:
    """Everything logged so far: stdlib logging (caplog) and the task SDK's structlog
    output, which goes to stdout rather than through stdlib logging (capfd)."""
    out, err = capfd.readouterr()
    sys.stdout.write(out)  # keep it visible in pytest's report
    sys.stderr.write(err)
    return caplog.text + "".join(str(r.args) for r in caplog.records) + out + err


@pytest.fixture(autouse=True)
def logs(monkeypatch, caplog, capfd):
    """No connections unless a test defines one; afterwards, no secret in any log output."""
    monkeypatch.delenv("AIRFLOW_CONN_REDDIT_DEFAULT", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_LLM_DEFAULT", raising=False)
    caplog.set_level(logging.DEBUG)
    seen = []
    yield lambda: seen.append(_logged(caplog, capfd)) or "".join(seen)
    text = "".join(seen) + _logged(caplog, capfd)
    for secret in (REDDIT_SECRET, REDDIT_ID, LLM_KEY):
        assert secret not in text, "a secret reached the logs"


def _values(creds):
    return creds.client_id.get_secret_value(), creds.client_secret.get_secret_value()


def test_reddit_credentials_from_a_uri_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_REDDIT_DEFAULT", f"reddit://{REDDIT_ID}:{_uri_quote(REDDIT_SECRET)}@")
    hook = RedditHook()
    creds = hook.get_credentials()
    assert _values(creds) == (REDDIT_ID, REDDIT_SECRET)
    for shown in (repr(creds), str(creds), repr(hook), str(hook)):
        assert REDDIT_SECRET not in shown and REDDIT_ID not in shown


def test_reddit_credentials_from_a_json_connection_with_another_id(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_REDDIT_OTHER",
                       json.dumps({"conn_type": "reddit", "login": REDDIT_ID, "password": REDDIT_SECRET}))
    assert _values(RedditHook("reddit_other").get_credentials()) == (REDDIT_ID, REDDIT_SECRET)
    assert RedditHook().get_credentials() is None  # reddit_default itself is still absent


@pytest.mark.parametrize("conn", [
    None,  # not defined at all
    json.dumps({"conn_type": "reddit", "login": REDDIT_ID}),  # no secret
    json.dumps({"conn_type": "reddit", "password": REDDIT_SECRET}),  # no client id
    "reddit://",
])
def test_reddit_absent_or_incomplete_connection_gives_none(monkeypatch, logs, conn):
    if conn is not None:
        monkeypatch.setenv("AIRFLOW_CONN_REDDIT_DEFAULT", conn)
    assert RedditHook().get_credentials() is None
    # the operator is told why (and the fixture checks that no secret came with it)
    text = logs()
    assert "reddit_default" in text and ("not defined" in text or "without OAuth" in text)


@pytest.mark.parametrize("conn, base_url, model, key", ids=["uri", "uri-no-key", "json-schema-port", "json-url-host",
                                                          "json-extra-base-url"], argvalues=[
    # URI form: Airflow puts the path in `schema`; the scheme comes from conn_type.
    (f"http://:{LLM_KEY}@localhost:11434/v1?model=llama3.1", "http://localhost:11434/v1", "llama3.1", LLM_KEY),
    # No key: local servers need none. No model: the default.
    ("https://llm.internal/v1", "https://llm.internal/v1", "gpt-4o-mini", None),
    # JSON, HTTP-provider style: schema is the URL scheme, port separate.
    (json.dumps({"conn_type": "http", "host": "10.0.0.5", "schema": "http", "port": 8000,
                 "extra": {"model": "qwen"}}), "http://10.0.0.5:8000", "qwen", None),
    # JSON with a whole URL as host and a port to add.
    (json.dumps({"conn_type": "generic", "host": "http://vllm/v1", "port": 9000, "password": LLM_KEY}),
     "http://vllm:9000/v1", "gpt-4o-mini", LLM_KEY),
    # JSON with extra base_url: it wins over host.
    (json.dumps({"conn_type": "http", "host": "ignored", "password": LLM_KEY,
                 "extra": {"base_url": "https://api.openai.com/v1", "model": "gpt-4.1-mini"}}),
     "https://api.openai.com/v1", "gpt-4.1-mini", LLM_KEY),
])
def test_llm_config_from_connection(monkeypatch, conn, base_url, model, key):
    monkeypatch.setenv("AIRFLOW_CONN_LLM_DEFAULT", conn)
    hook = LLMHook()
    cfg = hook.get_config()
    assert (cfg.base_url, cfg.model) == (base_url, model)
    assert (cfg.api_key.get_secret_value() if cfg.api_key else None) == key
    assert cfg.endpoint == base_url.rstrip("/") + "/chat/completions"
    if key:
        for shown in (repr(cfg), str(cfg), repr(hook), cfg.model_dump_json()):
            assert key not in shown


def test_llm_tuning_from_extra(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LLM_DEFAULT", json.dumps(
        {"conn_type": "http", "host": "https://x/v1", "extra": {"timeout_s": 5, "max_tokens": 120}}))
    cfg = LLMHook().get_config()
    assert (cfg.timeout_s, cfg.max_tokens) == (5, 120)


def test_llm_bad_tuning_value_names_the_field_not_the_key(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_LLM_DEFAULT", json.dumps(
        {"conn_type": "http", "host": "https://x/v1", "password": LLM_KEY, "extra": {"timeout_s": -1}}))
    with pytest.raises(ValueError, match="timeout_s") as err:
        LLMHook().get_config()
    assert LLM_KEY not in str(err.value)


@pytest.mark.parametrize("conn", [None, json.dumps({"conn_type": "http", "password": LLM_KEY})])
def test_llm_absent_or_endpointless_connection_gives_none(monkeypatch, logs, conn):
    if conn is not None:
        monkeypatch.setenv("AIRFLOW_CONN_LLM_DEFAULT", conn)
    assert LLMHook().get_config() is None
    text = logs()
    assert "llm_default" in text and ("not defined" in text or "summaries are off" in text)


def test_llm_config_from_the_hook_reaches_the_endpoint_with_the_key(monkeypatch, replay_server, warehouse):
    """The URI an operator writes ends up as requests to ``{base}/chat/completions`` with the key."""
    from newsroom.digest.llm import LLMSummariser
    from newsroom.digest.summarize import SourceText

    seen = []

    def chat(req):
        seen.append((req.path, req.headers.get("Authorization"), json.loads(req.body)["model"]))
        body = {"choices": [{"index": 0, "message": {"role": "assistant", "content":
                "Meta launched Muse Spark, a closed model from its Superintelligence Labs."}}]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    replay_server.add("/v1/chat/completions", handler=chat)
    host_port = replay_server.url("/").split("://", 1)[1].rstrip("/")
    monkeypatch.setenv("AIRFLOW_CONN_LLM_DEFAULT", f"http://:{LLM_KEY}@{host_port}/v1?model=tiny")
    llm = LLMSummariser(LLMHook().get_config())
    try:
        result = llm.summarise(warehouse, "Muse Spark", [SourceText(1, "Muse Spark", "Meta launched it. " * 5)])
    finally:
        llm.close()
    assert result.summary and result.summary.startswith("Meta launched Muse Spark")
    assert seen == [("/v1/chat/completions", f"Bearer {LLM_KEY}", "tiny")]
