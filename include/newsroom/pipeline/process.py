"""Enrichment of newly stored articles: entity tags, duplicates, stories.

Runs after every ingest over the articles not yet processed (``processed_at IS
NULL``), in batches, so a crash half-way leaves the rest for the next run and a
rerun does nothing twice. Order matters: tags first (stories use shared
entities as evidence), then duplicates and stories, then the story-level tags.
"""

from __future__ import annotations

from collections import Counter

from newsroom.warehouse import Warehouse, open_warehouse
from newsroom.warehouse.articles import mark_processed, unprocessed_article_ids
from newsroom.warehouse.stories import stories_of

BATCH = 500


def pending_article_ids(engine: Warehouse, limit: int = BATCH) -> list[int]:
    """The next batch of articles not yet enriched (``articles.processed_at`` unset)."""
    return unprocessed_article_ids(engine, limit)


def process_new_articles(*, settings, engine: Warehouse | None = None, max_batches: int = 1000) -> dict:
    """Tag, deduplicate and cluster every unprocessed article; returns summed counts.

    Every pending article, not only the calling run's: one left by a failed enrich, or whose
    text a later source replaced (which clears ``processed_at``), would otherwise never be
    enriched."""
    from newsroom.config.entities import load_entities
    from newsroom.entities import aggregate_story_entities, tag_articles
    from newsroom.pipeline.stories import process_articles

    engine = engine or open_warehouse(settings.resolved_warehouse_url)
    entities = load_entities(settings.entities)
    totals: Counter[str] = Counter()
    for _ in range(max_batches):
        ids = pending_article_ids(engine)
        if not ids:
            break
        for k, v in tag_articles(engine, ids, entities).items():
            if isinstance(v, int):
                totals[f"tagging.{k}"] += v
        for k, v in process_articles(engine, ids).items():
            if isinstance(v, int):
                totals[f"stories.{k}"] += v
        # Only the stories this batch touched: cost stays flat as the archive grows.
        aggregate_story_entities(engine, stories_of(engine, ids))
        mark_processed(engine, ids)
        totals["articles"] += len(ids)
    return dict(totals)
