"""The digest stage as the DAG calls it: one local day → rows + vault notes.

    build_daily_digest(engine, date(2026, 4, 9), settings=get_settings(), sources=load_sources(...))

Read (``warehouse.digest_reads``) → compose typed items (``digest.compose``) → render
(``digest.notes``) → write (``digest.write``). The DAG works out the day from its data interval
with :func:`newsroom.digest.window.day_for_interval` and, when the Airflow Connection
``llm_default`` exists, passes an :class:`~newsroom.digest.llm.LLMConfig` built from it; without
one the summaries are extractive.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from newsroom.config.sources import SourcesFile
from newsroom.digest.compose import ComposeOptions, compose_day
from newsroom.digest.llm import LLMConfig, LLMSummariser
from newsroom.digest.notes import digest_build, entity_note_names
from newsroom.digest.records import DigestBuild
from newsroom.digest.relevance import PRIMARY_SALIENCE
from newsroom.digest.vault import Vault
from newsroom.digest.window import day_window
from newsroom.digest.write import store_digest
from newsroom.metrics.render import story_figure_phrases
from newsroom.settings import Settings
from newsroom.warehouse import Warehouse
from newsroom.warehouse import digest_reads as Q


def compute_digest(engine: Warehouse, day: date, *, sources: SourcesFile,
                   llm: LLMSummariser | None = None) -> DigestBuild:
    """Read, compose and render day ``day`` without storing anything (but the LLM cache)."""
    tz = sources.tz
    window = day_window(day, tz)
    cfg = sources.digest
    options = ComposeOptions(top_n=cfg.top_n, beat_terms=tuple(cfg.beat_terms),
                             beat_source_tags=tuple(cfg.beat_source_tags), elsewhere=cfg.elsewhere)
    summarise = None
    if llm is not None:
        def summarise(headline, texts):
            res = llm.summarise(engine, headline, texts)
            return res.summary, res.error
    with engine.connect() as conn:
        bundles, n_articles = Q.load_bundles(conn, window)

        def related(story_id, entity_ids):
            return Q.related_stories(conn, story_id, entity_ids, window, tz, cfg.related_days, PRIMARY_SALIENCE)

        items, elsewhere, counts = compose_day(bundles, window, tz, options, summarise=summarise, related=related)
        names = entity_note_names(Q.entity_catalogue(conn))
        phrases = story_figure_phrases(conn, sorted({e.id for it in items for e in it.entities}), day)
    return digest_build(day, sources.beat, tz, window, items, elsewhere, names, n_articles=n_articles,
                        feeds_checked=len(sources.enabled_feeds()),
                        subreddits_checked=sum(1 for s in sources.reddit.subreddits if s.enabled), counts=counts,
                        figure_phrases=phrases)


def build_daily_digest(
    engine: Warehouse,
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
    summariser = LLMSummariser(llm, settings=settings) if isinstance(llm, LLMConfig) else llm
    try:
        build = compute_digest(engine, day, sources=sources, llm=summariser)
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
