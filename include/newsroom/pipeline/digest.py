"""The digest stage as the DAG calls it: one local day → rows + vault notes.

    build_daily_digest(engine, date(2026, 4, 9), settings=get_settings(), sources=load_sources(...))

The DAG works out the day from its data interval with
:func:`newsroom.digest.window.day_for_interval` and, when the Airflow
Connection ``llm_default`` exists, passes an :class:`~newsroom.digest.llm.LLMConfig`
built from it; without one the summaries are extractive.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from newsroom.config.sources import SourcesFile
from newsroom.digest.build import compute_digest, store_digest
from newsroom.digest.llm import LLMConfig, LLMSummariser
from newsroom.digest.vault import Vault
from newsroom.digest.window import day_window
from newsroom.settings import Settings


def build_daily_digest(
    engine: Engine,
    day: date,
    *,
    settings: Settings,
    sources: SourcesFile,
    llm: LLMConfig | LLMSummariser | None = None,
) -> dict[str, Any]:
    """Build, store and write the digest of local day ``day``; returns counts and the note's path.

    Rerunning a day replaces that day's rows and rewrites the same files
    (``generated_at`` aside). Raises :class:`~newsroom.digest.vault.VaultError`
    before touching the warehouse when the output folder is not writable.
    """
    vault = Vault(settings.output_dir)
    vault.ensure_writable()
    summariser = LLMSummariser(llm) if isinstance(llm, LLMConfig) else llm
    try:
        build = compute_digest(
            engine,
            day,
            beat=sources.beat,
            tz=sources.tz,
            top_n=sources.digest.top_n,
            feeds_checked=len(sources.enabled_feeds()),
            subreddits_checked=sum(1 for s in sources.reddit.subreddits if s.enabled),
            related_days=sources.digest.related_days,
            llm=summariser,
        )
    finally:
        if isinstance(llm, LLMConfig) and summariser is not None:
            summariser.close()
    written = store_digest(engine, build, vault)
    start, end = day_window(day, sources.tz)
    return {
        "day": day.isoformat(),
        "beat": sources.beat,
        "title": build.name,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        **build.counts,
        **written,
    }
