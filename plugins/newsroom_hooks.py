"""Hooks from Airflow Connections to the newsroom package's typed credentials.

Thin, as provider hooks are: each reads one Connection and returns the record
the plain package already takes (:class:`newsroom.reddit.auth.RedditCredentials`,
:class:`newsroom.digest.llm.LLMConfig`), so the package never imports Airflow
and the DAGs never pick Connection fields apart themselves.

Both features are optional, so an absent Connection (or one without the fields
that matter) gives ``None`` and the caller runs without it: unauthenticated
Reddit listings, extractive summaries. Any other failure of the secrets backend
propagates: a task that cannot read its secrets should fail and retry, not
quietly run without them. Secrets are never logged, and neither hook's repr
shows the Connection (whose own repr prints the password).

Use in a DAG (the plugins folder is on ``sys.path`` in every Airflow process)::

    from newsroom_hooks import LLMHook, RedditHook
    credentials = RedditHook().get_credentials()   # RedditCredentials | None
    llm = LLMHook().get_config()                   # LLMConfig | None

Connections (UI, CLI, a secrets backend, or environment variables)::

    AIRFLOW_CONN_REDDIT_DEFAULT='reddit://CLIENT_ID:SECRET@'
    AIRFLOW_CONN_LLM_DEFAULT='http://:API_KEY@localhost:11434/v1?model=llama3.1'
    AIRFLOW_CONN_LLM_DEFAULT='{"conn_type": "http", "password": "sk-…",
                               "extra": {"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini"}}'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow.sdk import BaseHook

if TYPE_CHECKING:
    from airflow.sdk import Connection
    from newsroom.digest.llm import LLMConfig
    from newsroom.reddit.auth import RedditCredentials

#: The model asked for when the Connection's extra names none (what the DAG used before).
DEFAULT_LLM_MODEL = "gpt-4o-mini"
#: LLMConfig fields an operator may tune from the Connection's extra.
LLM_EXTRA_FIELDS = ("timeout_s", "max_tokens", "temperature", "max_input_chars")


class _NewsroomHook(BaseHook):
    """Reads one Connection; ``None`` when it is not defined."""

    conn_name_attr = "conn_id"
    default_conn_name = ""

    def __init__(self, conn_id: str | None = None) -> None:
        super().__init__()
        self.conn_id = conn_id or self.default_conn_name

    def __repr__(self) -> str:  # never the Connection: its repr shows the password
        return f"{type(self).__name__}(conn_id={self.conn_id!r})"

    def get_connection_or_none(self) -> Connection | None:
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            return self.get_connection(self.conn_id)
        except AirflowNotFoundException:
            self.log.info("Connection %r is not defined: running without it", self.conn_id)
            return None


class RedditHook(_NewsroomHook):
    """Reddit app-only OAuth credentials: login = client id, password = client secret."""

    default_conn_name = "reddit_default"
    conn_type = "reddit"
    hook_name = "Reddit (app-only OAuth)"

    def get_conn(self) -> RedditCredentials | None:
        return self.get_credentials()

    def get_credentials(self) -> RedditCredentials | None:
        """The credentials, or ``None`` when the Connection is absent or lacks id or secret."""
        conn = self.get_connection_or_none()
        if conn is None:
            return None
        if not conn.login or not conn.password:
            self.log.warning("Connection %r has no %s: Reddit is read without OAuth", self.conn_id,
                             "client id (login)" if not conn.login else "secret (password)")
            return None
        from newsroom.reddit.auth import RedditCredentials

        return RedditCredentials(client_id=conn.login, client_secret=conn.password)


class LLMHook(_NewsroomHook):
    """An OpenAI-compatible chat endpoint for optional abstractive summaries.

    The base URL (including ``/v1``) is the extra ``base_url`` when set, else it is
    built from host, schema and port the way the HTTP provider does: a host that
    is already a URL is taken whole; otherwise ``schema`` is the URL scheme when
    it is ``http``/``https``, and a URI-form Connection (whose path Airflow puts
    in ``schema``) keeps its path, with the scheme of its ``conn_type``.
    Password = API key (optional: local servers need none); extra ``model``,
    and optionally ``timeout_s``, ``max_tokens``, ``temperature``, ``max_input_chars``.
    """

    default_conn_name = "llm_default"
    conn_type = "http"
    hook_name = "LLM (OpenAI-compatible)"

    def get_conn(self) -> LLMConfig | None:
        return self.get_config()

    def get_config(self) -> LLMConfig | None:
        """The summariser's config, or ``None`` when the Connection is absent or has no endpoint.

        Raises ``ValueError`` (naming the field, never its value) for a tuning
        value in the extra that is out of range: a typo should be fixed, not
        silently turn summaries off.
        """
        conn = self.get_connection_or_none()
        if conn is None:
            return None
        extra = conn.extra_dejson or {}
        base_url = llm_base_url(conn, extra)
        if not base_url:
            self.log.warning("Connection %r has neither a host nor an extra base_url: LLM summaries are off",
                             self.conn_id)
            return None
        from pydantic import ValidationError

        from newsroom.digest.llm import LLMConfig

        options: dict[str, Any] = {k: extra[k] for k in LLM_EXTRA_FIELDS if extra.get(k) not in (None, "")}
        try:
            return LLMConfig(base_url=base_url, api_key=conn.password or None,
                             model=str(extra.get("model") or DEFAULT_LLM_MODEL), **options)
        except ValidationError as exc:
            fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors()})
            raise ValueError(f"Connection {self.conn_id!r}: invalid extra field(s) {', '.join(fields)}") from None


def llm_base_url(conn: Connection, extra: dict[str, Any]) -> str | None:
    """The endpoint's base URL from the extra ``base_url`` or from host/schema/port."""
    if extra.get("base_url"):
        return str(extra["base_url"]).strip()
    host = (conn.host or "").strip()
    if not host:
        return None
    if "://" in host:
        parts = urlsplit(host)
        if conn.port and parts.port is None:
            parts = parts._replace(netloc=f"{parts.netloc}:{conn.port}")
        return urlunsplit(parts)
    schema = (conn.schema or "").strip()
    if schema.lower() in ("http", "https"):
        scheme, path = schema.lower(), ""
    else:
        conn_type = (conn.conn_type or "").lower()
        scheme, path = (conn_type if conn_type in ("http", "https") else "https"), schema.strip("/")
    netloc = f"{host}:{conn.port}" if conn.port else host
    return f"{scheme}://{netloc}" + (f"/{path}" if path else "")


class MetricsAPIHook(_NewsroomHook):
    """A figures API (issue 16): base URL from the Connection's host (so tests and mirrors can
    point it elsewhere), token from its password. Absent Connection: the public API, no token."""

    service = ""

    def get_conn(self):
        return self.get_endpoint()

    def get_endpoint(self):
        """The :class:`newsroom.metrics.records.ApiEndpoint` to use (never None)."""
        from newsroom.metrics.records import DEFAULT_BASE_URLS, ApiEndpoint

        conn = self.get_connection_or_none()
        base = llm_base_url(conn, conn.extra_dejson or {}) if conn is not None else None
        token = (conn.password or None) if conn is not None else None
        return ApiEndpoint(self.service, (base or DEFAULT_BASE_URLS[self.service]).rstrip("/"), token)


class GitHubHook(MetricsAPIHook):
    """GitHub REST (60 requests/hour without a token, 5,000 with one)."""

    default_conn_name = "github_default"
    conn_type = "http"
    hook_name = "GitHub REST (figures)"
    service = "github"


class HuggingFaceHook(MetricsAPIHook):
    default_conn_name = "huggingface_default"
    conn_type = "http"
    hook_name = "Hugging Face Hub (figures)"
    service = "huggingface"


class PyPIStatsHook(MetricsAPIHook):
    default_conn_name = "pypistats_default"
    conn_type = "http"
    hook_name = "pypistats.org (figures)"
    service = "pypistats"


METRICS_HOOKS = {"github": GitHubHook, "huggingface": HuggingFaceHook, "pypistats": PyPIStatsHook}
