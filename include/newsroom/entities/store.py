"""Tagging articles in the warehouse: the matcher run over stored articles, the tags kept
through :mod:`newsroom.warehouse.entities` (which owns every entity table and all their SQL).

    sync_entities(engine, entities)                 # entities file → ``entities`` rows
    tag_articles(engine, article_ids, entities)     # None = every article not tagged under this file
    retag_range(engine, since, until, entities)     # offline re-tag from stored text
    aggregate_story_entities(engine, story_ids)     # article tags → ``story_entities``
    cooccurring_entities(engine, entity_id, limit)  # [(entity_id, articles in common)]

This module decides *what* is tagged (the file's hash makes every article eligible
again when the file changes; given ids are re-tagged unconditionally) and *how*
(:func:`newsroom.entities.tagging.tag_document`); the warehouse module decides how
it is stored (one transaction per batch, upserts on the primary keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from newsroom.config.entities import EntitiesFile
from newsroom.warehouse import entities as store
from newsroom.warehouse.entities import ArticleTag, CoOccurrence, EntityRecord, TaggableArticle

from .matcher import matcher_for
from .tagging import tag_document

BATCH = store.BATCH


def _chunks(ids: Sequence[int], n: int = BATCH) -> Iterable[list[int]]:
    for i in range(0, len(ids), n):
        yield list(ids[i : i + n])


def entity_records(entities: EntitiesFile) -> list[EntityRecord]:
    """The ``entities`` rows the file describes (aliases: every term the matcher looks for)."""
    return [EntityRecord(id=e.id, name=e.name, type=e.type, parent_id=e.parent, categories=e.categories,
                         aliases=[t for t, _ in e.match_terms()], description=e.description,
                         links=e.links.model_dump(exclude_none=True), related=e.related)
            for e in entities.entities]


def sync_entities(engine, entities: EntitiesFile) -> dict[str, int]:
    """Upsert one ``entities`` row per entity of the file.

    Entities no longer in the file are kept but marked ``active = false``:
    digests and timelines written earlier still name them, while re-tagging
    (triggered by the new file hash) removes their article tags.
    """
    synced = store.sync_entities(engine, entity_records(entities), entities.content_hash)
    return {"upserted": synced.upserted, "deactivated": synced.deactivated}


def _tagger(entities: EntitiesFile):
    matcher = matcher_for(entities)

    def tag(doc: TaggableArticle) -> list[ArticleTag]:
        return [ArticleTag(entity_id=t.entity_id, mentions=t.mentions, in_title=t.in_title, salience=t.salience,
                           first_position=t.first_position, implied_by=t.implied_by)
                for t in tag_document(matcher, doc.title, doc.body)]

    return tag


def tag_articles(
    engine,
    article_ids: list[int] | None,
    entities: EntitiesFile,
    *,
    aggregate_stories: bool = True,
) -> dict:
    """Tag articles with the tracked entities; returns counts.

    ``article_ids=None`` tags every article not yet tagged under this
    entities file's hash (new articles, and all of them after the file
    changed). Given ids are (re-)tagged unconditionally. Stories containing
    the tagged articles get their ``story_entities`` refreshed.
    """
    sync = sync_entities(engine, entities)
    tagger, h = _tagger(entities), entities.content_hash
    counts: dict = {"articles": 0, "tagged_articles": 0, "tags": 0, "mentions": 0}
    tagged_ids: list[int] = []

    def add(batch: store.TagBatch) -> None:
        counts["articles"] += len(batch.article_ids)
        counts["tagged_articles"] += batch.tagged_articles
        counts["tags"] += batch.tags
        counts["mentions"] += batch.mentions
        tagged_ids.extend(batch.article_ids)

    if article_ids is None:
        last = 0
        while ids := store.untagged_article_ids(engine, h, after=last, limit=BATCH):
            add(store.tag_batch(engine, ids, h, tagger))
            last = ids[-1]
    else:
        for chunk in _chunks(sorted(set(article_ids))):
            add(store.tag_batch(engine, chunk, h, tagger))
    counts["stories"] = 0
    if aggregate_stories and tagged_ids:
        counts["stories"] = aggregate_story_entities(engine, store.stories_of_articles(engine, tagged_ids))["stories"]
    counts["entities_synced"] = sync["upserted"]
    counts["entities_deactivated"] = sync["deactivated"]
    counts["entities_hash"] = h
    return counts


def retag_range(engine, since: datetime, until: datetime, entities: EntitiesFile) -> dict:
    """Re-tag every article published (or, lacking a date, first seen) in
    ``[since, until)`` from the text stored in the warehouse — no fetching."""
    counts = tag_articles(engine, store.article_ids_dated_in(engine, since, until), entities)
    counts["since"], counts["until"] = since.isoformat(), until.isoformat()
    return counts


def aggregate_story_entities(engine, story_ids: list[int] | None = None) -> dict:
    """Rebuild ``story_entities`` for the given stories (None: every story); see
    :func:`newsroom.warehouse.entities.rebuild_story_entities` for the figures."""
    done = store.rebuild_story_entities(engine, story_ids)
    return {"stories": done.stories, "rows": done.rows}


def cooccurring_entities(engine, entity_id: str, limit: int = 10, *, direct_only: bool = True,
                         since: datetime | None = None) -> list[CoOccurrence]:
    """Entities that appear in the same articles as ``entity_id``, with the
    number of articles in common, most frequent first — the "See also" list.

    Duplicate copies of an article (``articles.duplicate_of`` set) are not
    counted twice. ``direct_only`` ignores parent credits on either side.
    """
    return store.cooccurring_entities(engine, entity_id, limit, direct_only=direct_only, since=since)


__all__ = [
    "aggregate_story_entities",
    "cooccurring_entities",
    "entity_records",
    "retag_range",
    "sync_entities",
    "tag_articles",
]
