"""The optional LLM summariser against a fake OpenAI-compatible server on 127.0.0.1."""

import json
import logging

import pytest
from sqlalchemy import func, select

from newsroom.digest.llm import LLMConfig, LLMSummariser
from newsroom.digest.summarize import SourceText
from newsroom.warehouse.schema.digest import SummaryCache

KEY = "sk-test-SECRET-do-not-log-42"
SOURCES = [SourceText(1, "Meta launches Muse Spark", "Meta launched Muse Spark, a closed model. " * 3),
           SourceText(2, "Muse Spark debuts", "Muse Spark is Meta's first MSL model. " * 3)]
ANSWER = "Meta launched Muse Spark, the first model from its Superintelligence Labs, as a closed model."


def _chat_handler(seen: list, answer=ANSWER, status=200, raw=None):
    def handle(req):
        seen.append((dict(req.headers), json.loads(req.body)))
        if raw is not None:
            return status, {"Content-Type": "application/json"}, raw
        body = {"id": "x", "object": "chat.completion", "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                             "finish_reason": "stop"}]}
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
    return handle


def _summariser(srv, **kw):
    return LLMSummariser(LLMConfig(base_url=srv.url("/v1"), model="test-model", api_key=KEY, timeout_s=5, **kw))


def test_summary_from_endpoint_is_cached_by_content(warehouse, replay_server):
    seen = []
    replay_server.add("/v1/chat/completions", handler=_chat_handler(seen))
    llm = _summariser(replay_server)
    first = llm.summarise(warehouse, "Muse Spark", SOURCES)
    assert first.summary == ANSWER and not first.cached
    headers, payload = seen[0]
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert payload["model"] == "test-model" and payload["messages"][0]["role"] == "system"
    assert "Meta launched Muse Spark" in payload["messages"][1]["content"]
    again = llm.summarise(warehouse, "Muse Spark", SOURCES)
    assert again.summary == ANSWER and again.cached
    assert replay_server.hits("/v1/chat/completions") == 1
    changed = llm.summarise(warehouse, "Muse Spark", SOURCES[:1])  # other input → other hash → new call
    assert not changed.cached and replay_server.hits("/v1/chat/completions") == 2
    with warehouse.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SummaryCache)).scalar() == 2


@pytest.mark.parametrize(
    "kw, reason",
    [
        ({"status": 500, "raw": b'{"error": "boom"}'}, "http_500"),
        ({"status": 401, "raw": b'{"error": "bad key"}'}, "http_401"),
        ({"raw": b"not json"}, "malformed_response"),
        ({"raw": b'{"choices": []}'}, "malformed_response"),
        ({"answer": ""}, "empty_response"),
    ],
)
def test_errors_return_no_summary_with_a_reason_and_never_log_the_key(warehouse, replay_server, caplog, kw, reason):
    seen = []
    replay_server.add("/v1/chat/completions", handler=_chat_handler(seen, **kw))
    llm = _summariser(replay_server)
    with caplog.at_level(logging.DEBUG):
        res = llm.summarise(warehouse, "Muse Spark", SOURCES)
    assert res.summary is None and res.error == reason
    assert KEY not in caplog.text and KEY not in repr(llm) and KEY not in repr(llm.config)
    with warehouse.connect() as conn:  # failures are not cached
        assert conn.execute(select(func.count()).select_from(SummaryCache)).scalar() == 0


def test_unreachable_and_slow_endpoints_fall_back(warehouse, replay_server):
    replay_server.add("/v1/chat/completions", handler=_chat_handler([]), delay_s=2)
    slow = LLMSummariser(LLMConfig(base_url=replay_server.url("/v1"), model="m", timeout_s=0.3))
    assert slow.summarise(warehouse, "x", SOURCES).error == "timeout"
    gone = LLMSummariser(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=1))
    assert gone.summarise(warehouse, "x", SOURCES).error.startswith("http_error")


# -- through the fetcher: the guard, the cap, no redirects --

def test_an_endpoint_on_a_metadata_address_is_refused(warehouse, caplog):
    """Loopback is fine (a local Ollama); the cloud metadata address is not, even though
    the endpoint is operator configuration: nothing is sent, the reason says why."""
    llm = LLMSummariser(LLMConfig(base_url="http://169.254.169.254/v1", model="m", api_key=KEY, timeout_s=5))
    with caplog.at_level(logging.WARNING):
        res = llm.summarise(warehouse, "x", SOURCES)
    assert res.summary is None and res.error == "blocked_address"
    assert "metadata" in caplog.text and KEY not in caplog.text


def test_a_metadata_address_listed_in_allowed_private_hosts_is_reached(warehouse, replay_server, monkeypatch):
    """The same explicit exception as for every fetch (NEWSROOM_ALLOWED_PRIVATE_HOSTS) opens it.
    The replay server stands in: its address is listed and private networks are otherwise
    closed, so only the exemption lets the request through."""
    from newsroom.digest.llm import endpoint_policy
    from newsroom.fetch import Fetcher
    from newsroom.settings import Settings

    seen = []
    replay_server.add("/v1/chat/completions", handler=_chat_handler(seen))
    monkeypatch.setenv("NEWSROOM_ALLOWED_PRIVATE_HOSTS", f"127.0.0.1:{replay_server.port}")
    cfg = LLMConfig(base_url=replay_server.url("/v1"), model="m", timeout_s=5)
    policy = endpoint_policy(cfg, Settings())
    assert policy.allowed_private_hosts == [f"127.0.0.1:{replay_server.port}"]
    closed = policy.model_copy(update={"allow_private_networks": False})
    assert LLMSummariser(cfg, fetcher=Fetcher(closed)).summarise(warehouse, "x", SOURCES).summary == ANSWER
    shut = closed.model_copy(update={"allowed_private_hosts": []})
    assert LLMSummariser(cfg, fetcher=Fetcher(shut)).summarise(warehouse, "y", SOURCES).error == "blocked_address"
    assert len(seen) == 1


def test_an_oversized_answer_is_refused(warehouse, replay_server):
    replay_server.add("/v1/chat/completions", body=b"{" + b" " * 2_000_000 + b"}", content_type="application/json")
    res = _summariser(replay_server).summarise(warehouse, "x", SOURCES)
    assert res.summary is None and res.error == "too_large"


def test_a_redirect_is_not_followed(warehouse, replay_server):
    seen = []
    replay_server.add("/elsewhere/chat/completions", handler=_chat_handler(seen))
    replay_server.redirect("/v1/chat/completions", replay_server.url("/elsewhere/chat/completions"), status=307)
    res = _summariser(replay_server).summarise(warehouse, "x", SOURCES)
    assert res.summary is None and res.error == "http_307" and seen == []
