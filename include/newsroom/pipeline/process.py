"""Enrichment of newly stored articles: entity tags, duplicates, stories.

Runs after every ingest over the articles not yet processed (``processed_at IS
NULL``), in batches, so a crash half-way leaves the rest for the next run and a
rerun does nothing twice. Order matters: tags first (stories use shared
entities as evidence), then duplicates and stories, then the story-level tags.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Engine, select, update

from newsroom.warehouse import open_warehouse
from newsroom.warehouse.schema import Article, utcnow

BATCH = 500


def pending_article_ids(engine: Engine, limit: int = BATCH, first_seen_since: datetime | None = None) -> list[int]:
    query = select(Article.id).where(Article.processed_at.is_(None))
    if first_seen_since is not None:
        query = query.where(Article.first_seen_at >= first_seen_since)
    with engine.connect() as conn:
        return list(conn.execute(query.order_by(Article.id).limit(limit)).scalars())


def process_new_articles(*, settings, engine: Engine | None = None, max_batches: int = 1000,
                         first_seen_since: datetime | None = None) -> dict:
    """Tag, deduplicate and cluster every unprocessed article; returns summed counts.

    ``first_seen_since`` limits the work to articles first stored at or after that instant:
    an ingest run passes its own start (``run_after``), so it enriches the articles it
    stored and not every article some other run left pending."""
    from newsroom.config.entities import load_entities
    from newsroom.entities import aggregate_story_entities, tag_articles
    from newsroom.pipeline.stories import process_articles
    from newsroom.warehouse.schema.stories import StoryArticle

    engine = engine or open_warehouse(settings.resolved_warehouse_url)
    entities = load_entities(settings.entities)
    totals: Counter[str] = Counter()
    for _ in range(max_batches):
        ids = pending_article_ids(engine, first_seen_since=first_seen_since)
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
