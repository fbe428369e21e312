"""Tags in the warehouse: sync the entities table, tag articles, aggregate stories,
co-occurrence for "See also".

    sync_entities(engine, entities)                 # entities file → ``entities`` rows
    tag_articles(engine, article_ids, entities)     # None = every article not tagged under this file
    retag_range(engine, since, until, entities)     # offline re-tag from stored text
    aggregate_story_entities(engine, story_ids)     # article tags → ``story_entities``
    cooccurring_entities(engine, entity_id, limit)  # [(entity_id, articles in common)]

Every write replaces an article's (or story's) rows inside one transaction and
upserts on the primary keys, so reruns never duplicate and a crash never leaves
an article half-tagged. ``article_tagging`` records the entities-file hash each
article was tagged under; a changed file makes every article eligible again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Engine, and_, column, delete, func, inspect, or_, select, table
from sqlalchemy.engine import Connection

from newsroom.config.entities import EntitiesFile
from newsroom.warehouse import upsert
from newsroom.warehouse.schema import Article, utcnow
from newsroom.warehouse.schema.entities import ArticleEntity, ArticleTagging, EntityRow, StoryEntity

from .matcher import matcher_for
from .tagging import tag_document

BATCH = 500

# The stories stage owns these tables; they are read, never required.
_story_articles = table("story_articles", column("story_id"), column("article_id"))


def _chunks(ids: Sequence[int], n: int = BATCH) -> Iterable[list[int]]:
    for i in range(0, len(ids), n):
        yield list(ids[i : i + n])


def stories_available(engine: Engine | Connection) -> bool:
    """True when the stories stage's ``story_articles`` table exists."""
    return inspect(engine).has_table("story_articles")


def sync_entities(engine: Engine, entities: EntitiesFile) -> dict[str, int]:
    """Upsert one ``entities`` row per entity of the file.

    Entities no longer in the file are kept but marked ``active = false``:
    digests and timelines written earlier still name them, while re-tagging
    (triggered by the new file hash) removes their article tags.
    """
    h = entities.content_hash
    with engine.begin() as conn:
        current = {r.id: (r.entities_hash, r.active) for r in conn.execute(select(EntityRow.id, EntityRow.entities_hash, EntityRow.active))}
        wanted = {e.id for e in entities.entities}
        stale = [i for i, (hh, active) in current.items() if i not in wanted and active]
        if all(current.get(i) == (h, True) for i in wanted) and not stale:
            return {"upserted": 0, "deactivated": 0}
        now = utcnow()
        rows = [
            {
                "id": e.id,
                "name": e.name,
                "type": e.type,
                "parent_id": e.parent,
                "categories": e.categories,
                "aliases": [t for t, _ in e.match_terms()],
                "description": e.description,
                "links": e.links.model_dump(exclude_none=True),
                "related": e.related,
                "active": True,
                "entities_hash": h,
                "updated_at": now,
            }
            for e in entities.entities
        ]
        for chunk in range(0, len(rows), BATCH):
            upsert(conn, EntityRow, rows[chunk : chunk + BATCH], keys=["id"])
        if stale:
            conn.execute(EntityRow.__table__.update().where(EntityRow.id.in_(stale)).values(active=False, updated_at=now))
    return {"upserted": len(rows), "deactivated": len(stale)}


def _untagged_ids(conn: Connection, entities_hash: str, after: int, limit: int) -> list[int]:
    q = (
        select(Article.id)
        .outerjoin(ArticleTagging, ArticleTagging.article_id == Article.id)
        .where(Article.id > after)
        .where(or_(ArticleTagging.article_id.is_(None), ArticleTagging.entities_hash != entities_hash))
        .order_by(Article.id)
        .limit(limit)
    )
    return list(conn.execute(q).scalars())


def _tag_batch(engine: Engine, ids: list[int], entities: EntitiesFile, counts: dict) -> None:
    matcher = matcher_for(entities)
    with engine.begin() as conn:
        docs = conn.execute(
            select(Article.id, Article.title, Article.text, Article.description).where(Article.id.in_(ids))
        ).all()
        rows = []
        for doc in docs:
            body = doc.text or doc.description or ""
            tags = tag_document(matcher, doc.title, body)
            if tags:
                counts["tagged_articles"] += 1
            for t in tags:
                rows.append({"article_id": doc.id, **t.model_dump()})
                counts["mentions"] += t.mentions
        found = [d.id for d in docs]
        if not found:
            return
        conn.execute(delete(ArticleEntity).where(ArticleEntity.article_id.in_(found)))
        for chunk in range(0, len(rows), BATCH):
            upsert(conn, ArticleEntity, rows[chunk : chunk + BATCH], keys=["article_id", "entity_id"])
        now = utcnow()
        upsert(
            conn,
            ArticleTagging,
            [{"article_id": i, "entities_hash": entities.content_hash, "tagged_at": now} for i in found],
            keys=["article_id"],
        )
        counts["articles"] += len(found)
        counts["tags"] += len(rows)
        counts["_ids"].extend(found)


def tag_articles(
    engine: Engine,
    article_ids: list[int] | None,
    entities: EntitiesFile,
    *,
    aggregate_stories: bool = True,
) -> dict:
    """Tag articles with the tracked entities; returns counts.

    ``article_ids=None`` tags every article not yet tagged under this
    entities file's hash (new articles, and all of them after the file
    changed). Given ids are (re-)tagged unconditionally. Stories containing
    the tagged articles get their ``story_entities`` refreshed when the
    stories tables exist.
    """
    sync = sync_entities(engine, entities)
    counts: dict = {"articles": 0, "tagged_articles": 0, "tags": 0, "mentions": 0, "_ids": []}
    if article_ids is None:
        last = 0
        while True:
            with engine.connect() as conn:
                ids = _untagged_ids(conn, entities.content_hash, last, BATCH)
            if not ids:
                break
            _tag_batch(engine, ids, entities, counts)
            last = ids[-1]
    else:
        for chunk in _chunks(sorted(set(article_ids))):
            _tag_batch(engine, chunk, entities, counts)
    tagged_ids = counts.pop("_ids")
    counts["stories"] = 0
    if aggregate_stories and tagged_ids and stories_available(engine):
        story_ids: set[int] = set()
        with engine.connect() as conn:
            for chunk in _chunks(tagged_ids):
                story_ids.update(
                    conn.execute(
                        select(_story_articles.c.story_id).where(_story_articles.c.article_id.in_(chunk)).distinct()
                    ).scalars()
                )
        counts["stories"] = aggregate_story_entities(engine, sorted(story_ids))["stories"]
    counts["entities_synced"] = sync["upserted"]
    counts["entities_deactivated"] = sync["deactivated"]
    counts["entities_hash"] = entities.content_hash
    return counts


def retag_range(engine: Engine, since: datetime, until: datetime, entities: EntitiesFile) -> dict:
    """Re-tag every article published (or, lacking a date, first seen) in
    ``[since, until)`` from the text stored in the warehouse — no fetching."""
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    with engine.connect() as conn:
        ids = list(conn.execute(select(Article.id).where(and_(when >= since, when < until)).order_by(Article.id)).scalars())
    counts = tag_articles(engine, ids, entities)
    counts["since"], counts["until"] = since.isoformat(), until.isoformat()
    return counts


def aggregate_story_entities(engine: Engine, story_ids: list[int] | None = None) -> dict:
    """Rebuild ``story_entities`` for the given stories (None: every story).

    Per story and entity: ``article_count`` articles carry the tag (direct or
    implied), ``mentions`` sums direct mentions, and ``salience`` is the mean
    article salience over *all* the story's articles, so an entity central to
    every copy of a story outranks one named in a single article.
    Does nothing (and says so) when the stories tables do not exist.
    """
    if not stories_available(engine):
        return {"stories": 0, "rows": 0, "skipped": "stories tables not present"}
    sa = _story_articles
    with engine.connect() as conn:
        if story_ids is None:
            story_ids = sorted(conn.execute(select(sa.c.story_id).distinct()).scalars())
    rows_total = 0
    for chunk in _chunks(story_ids):
        with engine.begin() as conn:
            sizes = dict(
                conn.execute(
                    select(sa.c.story_id, func.count()).where(sa.c.story_id.in_(chunk)).group_by(sa.c.story_id)
                ).all()
            )
            agg = conn.execute(
                select(
                    sa.c.story_id,
                    ArticleEntity.entity_id,
                    func.count().label("n"),
                    func.sum(ArticleEntity.mentions).label("mentions"),
                    func.sum(ArticleEntity.salience).label("salience"),
                )
                .join(ArticleEntity, ArticleEntity.article_id == sa.c.article_id)
                .where(sa.c.story_id.in_(chunk))
                .group_by(sa.c.story_id, ArticleEntity.entity_id)
            ).all()
            now = utcnow()
            rows = [
                {
                    "story_id": r.story_id,
                    "entity_id": r.entity_id,
                    "article_count": int(r.n),
                    "mentions": int(r.mentions or 0),
                    "salience": round(float(r.salience or 0.0) / max(sizes.get(r.story_id, 1), 1), 4),
                    "updated_at": now,
                }
                for r in agg
            ]
            conn.execute(delete(StoryEntity).where(StoryEntity.story_id.in_(chunk)))
            for i in range(0, len(rows), BATCH):
                upsert(conn, StoryEntity, rows[i : i + BATCH], keys=["story_id", "entity_id"])
            rows_total += len(rows)
    return {"stories": len(story_ids), "rows": rows_total}


def cooccurring_entities(
    engine: Engine,
    entity_id: str,
    limit: int = 10,
    *,
    direct_only: bool = True,
    since: datetime | None = None,
) -> list[tuple[str, int]]:
    """Entities that appear in the same articles as ``entity_id``, with the
    number of articles in common, most frequent first — the "See also" list.

    Duplicate copies of an article (``articles.duplicate_of`` set) are not
    counted twice. ``direct_only`` ignores parent credits on either side.
    """
    a = ArticleEntity.__table__.alias("a")
    b = ArticleEntity.__table__.alias("b")
    n = func.count().label("n")
    q = (
        select(b.c.entity_id, n)
        .select_from(a)
        .join(b, and_(b.c.article_id == a.c.article_id, b.c.entity_id != a.c.entity_id))
        .join(Article, Article.id == a.c.article_id)
        .where(a.c.entity_id == entity_id, Article.duplicate_of.is_(None))
        .group_by(b.c.entity_id)
        .order_by(n.desc(), b.c.entity_id)
        .limit(limit)
    )
    if direct_only:
        q = q.where(a.c.implied_by.is_(None), b.c.implied_by.is_(None))
    if since is not None:
        q = q.where(func.coalesce(Article.published_at, Article.first_seen_at) >= since)
    with engine.connect() as conn:
        return [(r[0], int(r[1])) for r in conn.execute(q)]


__all__ = [
    "aggregate_story_entities",
    "cooccurring_entities",
    "retag_range",
    "stories_available",
    "sync_entities",
    "tag_articles",
]
