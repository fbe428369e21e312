"""The LLM summary cache (``digest_summary_cache``): one row per hash of model, prompt and input.

Its only writer is :class:`newsroom.digest.llm.LLMSummariser`. Reads and writes are short
transactions of their own, so the warehouse is never held while a model endpoint thinks.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from newsroom.warehouse.db import upsert
from newsroom.warehouse.schema.digest import SummaryCache

__all__ = ["cached_summary", "store_summary"]


def cached_summary(engine: Engine, content_hash: str) -> str | None:
    """The summary stored for ``content_hash``, or None."""
    with engine.connect() as conn:
        return conn.execute(select(SummaryCache.summary).where(SummaryCache.content_hash == content_hash)).scalar()


def store_summary(engine: Engine, content_hash: str, model: str, summary: str) -> None:
    """Store (or replace) the summary for ``content_hash``; a rerun writes the same row."""
    with engine.begin() as conn:
        upsert(conn, SummaryCache, [{"content_hash": content_hash, "model": model, "summary": summary}],
               keys=["content_hash"])
