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
