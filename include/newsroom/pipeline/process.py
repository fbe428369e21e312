"""Enrichment of newly stored articles: entity tags, duplicates, stories.

Runs after every ingest over the articles not yet processed (``processed_at IS
NULL``), in batches, so a crash half-way leaves the rest for the next run and a
rerun does nothing twice. Order matters: tags first (stories use shared
entities as evidence), then duplicates and stories, then the story-level tags.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, select, update

from newsroom.warehouse import open_warehouse
from newsroom.warehouse.schema import Article, utcnow

BATCH = 500


def pending_article_ids(engine: Engine, limit: int = BATCH) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(
            select(Article.id).where(Article.processed_at.is_(None)).order_by(Article.id).limit(limit)).scalars())


def process_new_articles(*, settings, engine: Engine | None = None, max_batches: int = 1000) -> dict:
    """Tag, deduplicate and cluster every unprocessed article; returns summed counts."""
    from newsroom.config.entities import load_entities
    from newsroom.entities import aggregate_story_entities, tag_articles
    from newsroom.pipeline.stories import process_articles
    from newsroom.warehouse.schema.stories import StoryArticle

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
        with engine.connect() as conn:
            touched = sorted(set(conn.execute(
                select(StoryArticle.story_id).where(StoryArticle.article_id.in_(ids))).scalars()))
        # Only the stories this batch touched: cost stays flat as the archive grows.
        aggregate_story_entities(engine, touched)
        with engine.begin() as conn:
            conn.execute(update(Article).where(Article.id.in_(ids)).values(processed_at=utcnow()))
        totals["articles"] += len(ids)
    return dict(totals)
