"""Optional abstractive summaries through an OpenAI-compatible chat endpoint.

Off unless the caller passes an :class:`LLMConfig` (the DAG builds one from the
Airflow Connection ``llm_default``; this package never imports Airflow).
Works with anything that speaks ``POST {base_url}/chat/completions`` — OpenAI,
Ollama, vLLM, llama.cpp's server. Results are cached by a hash of the model,
the prompt version and the exact input, so a rerun of a day costs nothing
and gives the same text. Any failure (network, HTTP status, malformed JSON,
empty or absurd answer) returns ``None`` with a reason, and the caller keeps
the extractive summary: nothing fails for want of a key or a server. The API
key is a ``SecretStr``: it is sent in the Authorization header and never
logged, repr'd or stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import select
from sqlalchemy.engine import Engine

from newsroom.warehouse import upsert
from newsroom.warehouse.schema.digest import SummaryCache

from .summarize import SourceText

log = logging.getLogger(__name__)

PROMPT_VERSION = "v1"
SYSTEM_PROMPT = (
    "You write a neutral news digest. Summarise the story told by the numbered sources in two or three "
    "plain sentences (at most 90 words). Use only facts stated in the sources; no speculation, no "
    "Markdown, no links, no preamble."
)


class LLMConfig(BaseModel):
    """Where and how to call the model. ``base_url`` includes ``/v1`` (e.g. ``http://localhost:11434/v1``)."""

    base_url: str
    model: str
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    max_tokens: int = Field(default=300, ge=16)
    temperature: float = 0.0
    max_input_chars: int = Field(default=12000, ge=500, description="Source text sent per story, in total.")

    @property
    def endpoint(self) -> str:
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


@dataclass
class LLMResult:
    summary: str | None
    cached: bool = False
    error: str | None = None


def build_prompt(headline: str, sources: Sequence[SourceText], max_chars: int) -> str:
    per = max(300, max_chars // max(1, len(sources)))
    parts = [f"Story: {headline}"]
    for i, s in enumerate(sources, 1):
        body = (s.text or s.description or "").strip().replace("\r", "")
        parts.append(f"[{i}] {s.title or ''}\n{body[:per]}")
    return "\n\n".join(parts)[: max_chars + 200]


def content_hash(config: LLMConfig, prompt: str) -> str:
    h = hashlib.sha256()
    for part in (PROMPT_VERSION, config.model, str(config.temperature), SYSTEM_PROMPT, prompt):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


class LLMSummariser:
    """Summaries from an OpenAI-compatible endpoint, cached in ``digest_summary_cache``."""

    def __init__(self, config: LLMConfig, client: httpx.Client | None = None):
        self.config = config
        self._client = client

    def __repr__(self) -> str:  # never show the key
        return f"LLMSummariser(base_url={self.config.base_url!r}, model={self.config.model!r})"

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.config.timeout_s, follow_redirects=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def summarise(self, engine: Engine, headline: str, sources: Sequence[SourceText]) -> LLMResult:
        """A summary for the story, from cache or the endpoint; ``summary=None`` on any failure."""
        prompt = build_prompt(headline, sources, self.config.max_input_chars)
        key = content_hash(self.config, prompt)
        with engine.connect() as conn:
            cached = conn.execute(select(SummaryCache.summary).where(SummaryCache.content_hash == key)).scalar()
        if cached:
            return LLMResult(cached, cached=True)
        try:
            text = self._complete(prompt)
        except Exception as exc:  # noqa: BLE001 - any failure means "use the extractive summary"
            reason = _reason(exc)
            log.warning("LLM summary failed for %r, using the extractive one: %s", headline[:80], reason)
            return LLMResult(None, error=reason)
        with engine.begin() as conn:  # short write: never hold the warehouse while waiting on HTTP
            upsert(conn, SummaryCache, [{"content_hash": key, "model": self.config.model, "summary": text}],
                   keys=["content_hash"])
        return LLMResult(text)

    def _complete(self, prompt: str) -> str:
        headers = {"Content-Type": "application/json"}
        if self.config.api_key is not None and self.config.api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {self.config.api_key.get_secret_value()}"
        payload = {
            "model": self.config.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "stream": False,
        }
        resp = self._http().post(self.config.endpoint, headers=headers, content=json.dumps(payload))
        if resp.status_code != 200:
            raise LLMError(f"http_{resp.status_code}")
        try:
            data = resp.json()
            text = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMError("malformed_response") from None
        if not isinstance(text, str):
            raise LLMError("malformed_response")
        text = " ".join(text.split())
        if len(text) < 20:
            raise LLMError("empty_response")
        if len(text) > 2000:
            raise LLMError("response_too_long")
        return text


class LLMError(RuntimeError):
    """The endpoint answered, but not with a usable summary."""


def _reason(exc: Exception) -> str:
    if isinstance(exc, LLMError):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.HTTPError):
        return f"http_error:{type(exc).__name__}"
    return f"error:{type(exc).__name__}"
