"""The entities aggregate: every read and write of ``entities``, ``article_entities``,
``article_tagging`` and ``story_entities`` (their one writer).

    sync_entities(engine, records, entities_hash)           # the entities file → ``entities`` rows
    untagged_article_ids(engine, entities_hash, after=0)    # articles not tagged under this hash
    tag_batch(engine, ids, entities_hash, tagger)           # tagger(TaggableArticle) → [ArticleTag]
    article_ids_dated_in(engine, since, until)              # for an offline re-tag
    stories_of_articles(engine, article_ids)                # which stories to re-aggregate
    rebuild_story_entities(engine, story_ids)               # article tags → ``story_entities``
    cooccurring_entities(engine, entity_id, limit)          # [CoOccurrence(entity_id, articles)]

The matching itself (:mod:`newsroom.entities`) never sees a connection: it gets
:class:`TaggableArticle` records and gives back :class:`ArticleTag` records.
Every write replaces an article's (or story's) rows inside one transaction and
upserts on the primary keys, so reruns never duplicate and a crash never leaves
an article half-tagged; :func:`tag_batch` reads the articles and writes their tags
in that same transaction, so the tags stored are those of the text stored.
``story_articles`` belongs to the stories aggregate and is only read here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Engine, and_, delete, func, or_, select

from newsroom.warehouse.db import upsert
from newsroom.warehouse.schema import Article, utcnow
from newsroom.warehouse.schema.entities import ArticleEntity, ArticleTagging, EntityRow, StoryEntity
from newsroom.warehouse.schema.stories import StoryArticle

__all__ = ["ArticleTag", "CoOccurrence", "EntityRecord", "StoryEntitiesRebuilt", "SyncedEntities", "TagBatch",
           "TaggableArticle", "article_ids_dated_in", "cooccurring_entities", "rebuild_story_entities",
           "stories_of_articles", "sync_entities", "tag_batch", "untagged_article_ids"]

BATCH = 500


def _chunks(ids: Sequence, n: int = BATCH) -> Iterable[list]:
    for i in range(0, len(ids), n):
        yield list(ids[i : i + n])


@dataclass(frozen=True)
class EntityRecord:
    """One entity of the entities file, as ``entities`` stores it."""

    id: str
    name: str
    type: str
    parent_id: str | None = None
    categories: list = field(default_factory=list)
    aliases: list = field(default_factory=list)
    description: str | None = None
    links: dict = field(default_factory=dict)
    related: list = field(default_factory=list)


@dataclass(frozen=True)
class SyncedEntities:
    upserted: int
    deactivated: int


@dataclass(frozen=True)
class TaggableArticle:
    """What tagging reads of an article: its title and its body (text, else description)."""

    id: int
    title: str | None
    body: str


@dataclass(frozen=True)
class ArticleTag:
    """One entity in one article (a row of ``article_entities``)."""

    entity_id: str
    mentions: int
    in_title: bool
    salience: float
    first_position: int | None = None
    implied_by: str | None = None


@dataclass
class TagBatch:
    """What one :func:`tag_batch` stored."""

    article_ids: list[int] = field(default_factory=list)  # the articles found (and so re-tagged)
    tagged_articles: int = 0  # of which with at least one tag
    tags: int = 0
    mentions: int = 0


@dataclass(frozen=True)
class StoryEntitiesRebuilt:
    stories: int
    rows: int


class CoOccurrence(NamedTuple):
    """An entity seen in the same articles as another, and in how many."""

    entity_id: str
    articles: int


def sync_entities(engine: Engine, records: Sequence[EntityRecord], entities_hash: str) -> SyncedEntities:
    """Upsert one ``entities`` row per record, under ``entities_hash``.

    Entities no longer among the records are kept but marked ``active = false``:
    digests and timelines written earlier still name them, while re-tagging
    (triggered by the new hash) removes their article tags. Nothing is written
    when every record is already stored, active, under this hash.
    """
    with engine.begin() as conn:
        current = {r.id: (r.entities_hash, r.active)
                   for r in conn.execute(select(EntityRow.id, EntityRow.entities_hash, EntityRow.active))}
        wanted = {r.id for r in records}
        stale = [i for i, (_, active) in current.items() if i not in wanted and active]
        if all(current.get(i) == (entities_hash, True) for i in wanted) and not stale:
            return SyncedEntities(upserted=0, deactivated=0)
        now = utcnow()
        rows = [{"id": r.id, "name": r.name, "type": r.type, "parent_id": r.parent_id, "categories": r.categories,
                 "aliases": r.aliases, "description": r.description, "links": r.links, "related": r.related,
                 "active": True, "entities_hash": entities_hash, "updated_at": now} for r in records]
        for chunk in _chunks(rows):
            upsert(conn, EntityRow, chunk, keys=["id"])
        if stale:
            conn.execute(EntityRow.__table__.update().where(EntityRow.id.in_(stale)).values(active=False, updated_at=now))
    return SyncedEntities(upserted=len(rows), deactivated=len(stale))


def untagged_article_ids(engine: Engine, entities_hash: str, *, after: int = 0, limit: int = BATCH) -> list[int]:
    """Up to ``limit`` article ids above ``after``, in id order, never tagged or tagged
    under another entities-file hash (a page of the work list: call again with the last id)."""
    q = (
        select(Article.id)
        .outerjoin(ArticleTagging, ArticleTagging.article_id == Article.id)
        .where(Article.id > after)
        .where(or_(ArticleTagging.article_id.is_(None), ArticleTagging.entities_hash != entities_hash))
        .order_by(Article.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


def tag_batch(engine: Engine, article_ids: Sequence[int], entities_hash: str,
              tagger: Callable[[TaggableArticle], Sequence[ArticleTag]]) -> TagBatch:
    """Tag these articles: read each, call ``tagger`` on it, replace its ``article_entities``
    rows with the result and record ``entities_hash`` in ``article_tagging`` — one
    transaction for the batch. Ids that are not articles are ignored."""
    out = TagBatch()
    with engine.begin() as conn:
        docs = conn.execute(
            select(Article.id, Article.title, Article.text, Article.description).where(Article.id.in_(list(article_ids)))
        ).all()
        rows = []
        for doc in docs:
            tags = tagger(TaggableArticle(id=doc.id, title=doc.title, body=doc.text or doc.description or ""))
            if tags:
                out.tagged_articles += 1
            for t in tags:
                rows.append({"article_id": doc.id, "entity_id": t.entity_id, "mentions": t.mentions,
                             "in_title": t.in_title, "first_position": t.first_position, "salience": t.salience,
                             "implied_by": t.implied_by})
                out.mentions += t.mentions
        found = [d.id for d in docs]
        if not found:
            return out
        conn.execute(delete(ArticleEntity).where(ArticleEntity.article_id.in_(found)))
        for chunk in _chunks(rows):
            upsert(conn, ArticleEntity, chunk, keys=["article_id", "entity_id"])
        now = utcnow()
        upsert(conn, ArticleTagging,
               [{"article_id": i, "entities_hash": entities_hash, "tagged_at": now} for i in found],
               keys=["article_id"])
    out.article_ids, out.tags = found, len(rows)
    return out


def article_ids_dated_in(engine: Engine, since: datetime, until: datetime) -> list[int]:
    """Articles published (or, lacking a date, first seen) in ``[since, until)``, in id order."""
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    with engine.connect() as conn:
        return list(conn.execute(select(Article.id).where(and_(when >= since, when < until))
                                 .order_by(Article.id)).scalars())


def stories_of_articles(engine: Engine, article_ids: Sequence[int]) -> list[int]:
    """The stories (``story_articles``) that hold any of these articles, in id order."""
    sa = StoryArticle.__table__
    found: set[int] = set()
    with engine.connect() as conn:
        for chunk in _chunks(list(article_ids)):
            found.update(conn.execute(select(sa.c.story_id).where(sa.c.article_id.in_(chunk)).distinct()).scalars())
    return sorted(found)


def rebuild_story_entities(engine: Engine, story_ids: Sequence[int] | None = None) -> StoryEntitiesRebuilt:
    """Rebuild ``story_entities`` for the given stories (None: every story in ``story_articles``).

    Per story and entity: ``article_count`` articles carry the tag (direct or
    implied), ``mentions`` sums direct mentions, and ``salience`` is the mean
    article salience over *all* the story's articles, so an entity central to
    every copy of a story outranks one named in a single article.
    """
    sa = StoryArticle.__table__
    if story_ids is None:
        with engine.connect() as conn:
            story_ids = sorted(conn.execute(select(sa.c.story_id).distinct()).scalars())
    story_ids = list(story_ids)
    rows_total = 0
    for chunk in _chunks(story_ids):
        with engine.begin() as conn:
            sizes = dict(conn.execute(
                select(sa.c.story_id, func.count()).where(sa.c.story_id.in_(chunk)).group_by(sa.c.story_id)).all())
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
            rows = [{"story_id": r.story_id, "entity_id": r.entity_id, "article_count": int(r.n),
                     "mentions": int(r.mentions or 0),
                     "salience": round(float(r.salience or 0.0) / max(sizes.get(r.story_id, 1), 1), 4),
                     "updated_at": now} for r in agg]
            conn.execute(delete(StoryEntity).where(StoryEntity.story_id.in_(chunk)))
            for part in _chunks(rows):
                upsert(conn, StoryEntity, part, keys=["story_id", "entity_id"])
            rows_total += len(rows)
    return StoryEntitiesRebuilt(stories=len(story_ids), rows=rows_total)


def cooccurring_entities(engine: Engine, entity_id: str, limit: int = 10, *, direct_only: bool = True,
                         since: datetime | None = None) -> list[CoOccurrence]:
    """Entities that appear in the same articles as ``entity_id``, with the number of
    articles in common, most frequent first (then by id) — the "See also" list.

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
        return [CoOccurrence(r[0], int(r[1])) for r in conn.execute(q)]
