"""Optional abstractive summaries through an OpenAI-compatible chat endpoint.

Off unless the caller passes an :class:`LLMConfig` (the DAG builds one from the
Airflow Connection ``llm_default``; this package never imports Airflow).
Works with anything that speaks ``POST {base_url}/chat/completions`` — OpenAI,
Ollama, vLLM, llama.cpp's server. Results are cached by a hash of the model,
the prompt version and the exact input, so a rerun of a day costs nothing
and gives the same text (the cache lives in ``newsroom.warehouse.summary_cache``;
this module has no SQL). Any failure (network, HTTP status, malformed JSON,
empty or absurd answer) returns ``None`` with a reason, and the caller keeps
the extractive summary: nothing fails for want of a key or a server. The API
key is a ``SecretStr``: it is sent in the Authorization header and never
logged, repr'd or stored.

HTTP goes through :class:`newsroom.fetch.Fetcher` like every other request:
the address guard, timeouts and a body cap apply (see :func:`endpoint_policy`
for why loopback is allowed and metadata addresses are not).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, SecretStr

from newsroom.fetch import Fetcher, FetchPolicy
from newsroom.warehouse.summary_cache import cached_summary, store_summary

from .summarize import SourceText

if TYPE_CHECKING:  # pragma: no cover
    from newsroom.settings import Settings

log = logging.getLogger(__name__)

#: A chat completion of ``max_tokens`` ≤ a few thousand is a few KB; anything near this is not one.
MAX_RESPONSE_BYTES = 1_000_000
#: Fetch errors reported as a timeout (the reason callers and tests already know).
_TIMEOUTS = frozenset({"timeout", "total_timeout"})

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


def endpoint_policy(config: LLMConfig, settings: "Settings | None" = None) -> FetchPolicy:
    """How the model endpoint is fetched.

    The endpoint is operator configuration (the ``llm_default`` Connection), not a URL a
    feed handed us, and a local model server (Ollama on ``localhost:11434``, vLLM on the
    compose network) is its usual home: loopback and private addresses are allowed, as they
    were before the endpoint went through the fetcher. Link-local and cloud metadata
    addresses stay refused — a Connection pointing at ``169.254.169.254`` would post prompts
    and the API key to the machine's credential service — unless
    ``NEWSROOM_ALLOWED_PRIVATE_HOSTS`` lists the host, the one exception every fetch
    honours. ``NEWSROOM_ALLOWED_HOSTS`` restricts *crawled* hosts and does not apply here.
    """
    if settings is None:
        from newsroom.settings import get_settings

        settings = get_settings()
    return FetchPolicy(
        user_agent=settings.user_agent,
        allow_private_networks=True,
        allowed_private_hosts=list(settings.allowed_private_hosts),
        connect_timeout=config.timeout_s,
        read_timeout=config.timeout_s,
        # a model answers all at once (no streaming): the read timeout is the wait for the answer
        total_timeout=2 * config.timeout_s,
        max_bytes=MAX_RESPONSE_BYTES,
        max_redirects=0,
    )


class LLMSummariser:
    """Summaries from an OpenAI-compatible endpoint, cached in ``digest_summary_cache``.

    ``settings`` supplies the user agent and the guard's exemptions (default: the
    environment's); ``fetcher`` replaces the whole policy (tests, a shared fetcher)."""

    def __init__(self, config: LLMConfig, *, settings: "Settings | None" = None, fetcher: Fetcher | None = None):
        self.config = config
        self._settings = settings
        self._fetcher = fetcher
        self._owned = fetcher is None

    def __repr__(self) -> str:  # never show the key
        return f"LLMSummariser(base_url={self.config.base_url!r}, model={self.config.model!r})"

    def _http(self) -> Fetcher:
        if self._fetcher is None:
            self._fetcher = Fetcher(endpoint_policy(self.config, self._settings))
        return self._fetcher

    def close(self) -> None:
        if self._fetcher is not None and self._owned:
            self._fetcher.close()
            self._fetcher = None

    def summarise(self, engine, headline: str, sources: Sequence[SourceText]) -> LLMResult:
        """A summary for the story, from cache or the endpoint; ``summary=None`` on any failure.
        ``engine`` is the warehouse engine the cache lives in."""
        prompt = build_prompt(headline, sources, self.config.max_input_chars)
        key = content_hash(self.config, prompt)
        cached = cached_summary(engine, key)
        if cached:
            return LLMResult(cached, cached=True)
        try:
            text = self._complete(prompt)
        except Exception as exc:  # noqa: BLE001 - any failure means "use the extractive summary"
            reason = _reason(exc)
            detail = getattr(exc, "detail", None)
            log.warning("LLM summary failed for %r, using the extractive one: %s%s", headline[:80], reason,
                        f" ({detail})" if detail else "")
            return LLMResult(None, error=reason)
        store_summary(engine, key, self.config.model, text)  # its own short write, after the HTTP call
        return LLMResult(text)

    def _complete(self, prompt: str) -> str:
        headers = {"Accept": "application/json"}
        if self.config.api_key is not None and self.config.api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {self.config.api_key.get_secret_value()}"
        payload = {
            "model": self.config.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "stream": False,
        }
        resp = self._http().post(self.config.endpoint, json=payload, headers=headers, kind="llm")
        if resp.status is not None and resp.status != 200:
            raise LLMError(f"http_{resp.status}")
        if resp.error in _TIMEOUTS:
            raise LLMError("timeout")
        if resp.error is not None:
            # refused by the guard (blocked_address…), above the cap (too_large), or no connection
            code = resp.error if resp.error.startswith("blocked_") or resp.error == "too_large" \
                else f"http_error:{resp.error}"
            raise LLMError(code, resp.error_detail)
        try:
            data = json.loads(resp.body)
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
    """No usable summary: ``reason`` is the short code callers record (``http_500``,
    ``timeout``, ``blocked_address``…), ``detail`` the fetcher's sentence, if any."""

    def __init__(self, reason: str, detail: str | None = None):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _reason(exc: Exception) -> str:
    if isinstance(exc, LLMError):
        return exc.reason
    return f"error:{type(exc).__name__}"
