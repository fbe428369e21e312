"""A modest retry for transient failures of a single fetch.

Most retrying belongs to Airflow (task retries) and to per-source backoff in the
pipeline; this is for the few places where one quick second attempt is cheaper than
failing a task: a dropped connection, a timeout, a 5xx, a 429 whose Retry-After is
short. Anything else (404, robots, blocked address, too large) is final.
"""

from __future__ import annotations

from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

from newsroom.fetch.client import Fetcher
from newsroom.records import FetchResult

__all__ = ["TRANSIENT_ERRORS", "is_transient", "get_with_retry"]

TRANSIENT_ERRORS = frozenset({"timeout", "connection_error", "http_429", "http_500", "http_502", "http_503", "http_504"})


def is_transient(result: FetchResult, max_wait_s: float = 30.0) -> bool:
    """Worth another try soon: a transient error whose Retry-After (if any) fits ``max_wait_s``."""
    if result.error not in TRANSIENT_ERRORS:
        return False
    return result.retry_after_s is None or result.retry_after_s <= max_wait_s


def get_with_retry(
    fetcher: Fetcher,
    url: str,
    *,
    attempts: int = 3,
    backoff_s: float = 1.0,
    max_wait_s: float = 30.0,
    **get_kwargs,
) -> FetchResult:
    """``fetcher.get(url, **get_kwargs)`` retried up to ``attempts`` times on transient
    errors, waiting Retry-After when the server gave one, else exponential backoff from
    ``backoff_s``. Returns the last result (never raises for network problems)."""

    def wait(state) -> float:
        result: FetchResult = state.outcome.result()
        if result.retry_after_s is not None:
            return result.retry_after_s
        return wait_exponential(multiplier=backoff_s, max=max_wait_s)(state)

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait,
        retry=retry_if_result(lambda r: is_transient(r, max_wait_s)),
        retry_error_callback=lambda state: state.outcome.result(),
        reraise=True,
    )
    return retrying(fetcher.get, url, **get_kwargs)
