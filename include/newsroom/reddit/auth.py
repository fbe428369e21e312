"""App-only OAuth credentials and the process-wide token cache.

Reddit's client-credentials grant gives a bearer token valid for about a day.
It is cached per (token URL, credentials) in the process — an Airflow worker
running several subreddits in a row asks once — and dropped on a 401 so the
next request fetches a fresh one (see :class:`newsroom.reddit.client.RedditClient`).
Nothing here logs, and nothing here has a repr that shows a secret.
"""

from __future__ import annotations

import hashlib
import threading
import time

from pydantic import BaseModel, ConfigDict, SecretStr

#: Refresh the token this long before Reddit says it expires.
TOKEN_MARGIN_S = 60.0

_tokens: dict[str, tuple[str, float]] = {}  # cache key → (token, expires at, wall clock)
_lock = threading.Lock()


class RedditCredentials(BaseModel):
    """App-only OAuth credentials (the Airflow Connection ``reddit_default``:
    login = client id, password = secret). Both are secrets: repr/str mask them."""

    model_config = ConfigDict(frozen=True)

    client_id: SecretStr
    client_secret: SecretStr

    def cache_key(self, token_url: str) -> str:
        """A key for the token cache that does not contain the credentials."""
        raw = f"{token_url}\0{self.client_id.get_secret_value()}\0{self.client_secret.get_secret_value()}"
        return hashlib.sha256(raw.encode()).hexdigest()


def cached_token(key: str) -> str | None:
    """The cached token for ``key`` if it is still valid."""
    with _lock:
        hit = _tokens.get(key)
        if hit and hit[1] > time.time():
            return hit[0]
        _tokens.pop(key, None)
        return None


def remember_token(key: str, token: str, expires_in: float) -> None:
    with _lock:
        _tokens[key] = (token, time.time() + max(0.0, expires_in - TOKEN_MARGIN_S))


def forget_token(key: str) -> None:
    with _lock:
        _tokens.pop(key, None)


def clear_tokens() -> None:
    with _lock:
        _tokens.clear()
