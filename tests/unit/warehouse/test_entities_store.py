"""warehouse/entities.py on SQLite and PostgreSQL: the entity tables' one writer, with typed
records in and out (the matcher is replaced by plain taggers: the module must not care)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

from newsroom.warehouse import upsert
from newsroom.warehouse import entities as store
from newsroom.warehouse.entities import ArticleTag, CoOccurrence, EntityRecord, TaggableArticle
from newsroom.warehouse.schema import Article
from newsroom.warehouse.schema.entities import ArticleEntity, ArticleTagging, EntityRow, StoryEntity
from newsroom.warehouse.schema.stories import Story, StoryArticle

T0 = datetime(2026, 4, 8, 12, tzinfo=timezone.utc)
RECORDS = [EntityRecord(id="meta", name="Meta", type="company", aliases=["Meta"]),
           EntityRecord(id="llama", name="Llama", type="model", parent_id="meta", categories=["models"],
                        links={"github": "meta-llama/llama"}, related=["openai"]),
           EntityRecord(id="openai", name="OpenAI", type="lab")]


def add_articles(engine, n: int, *, text=lambda i: f"text {i}", description=None, when=None) -> list[int]:
    rows = [{"canonical_url": f"https://e.com/{i}", "url": f"https://e.com/{i}", "title": f"title {i}",
             "text": text(i), "description": description, "extraction_status": "ok",
             "published_at": when(i) if when else T0, "first_seen_at": T0, "origin": "feed", "updated_at": T0}
            for i in range(n)]
    with engine.begin() as conn:
        upsert(conn, Article, rows, keys=["canonical_url"])
        return list(conn.execute(select(Article.id).order_by(Article.id)).scalars())


def word_tagger(doc: TaggableArticle) -> list[ArticleTag]:
    """Tags every entity id that occurs as a word of the body (a stand-in for the matcher)."""
    words = doc.body.split()
    return [ArticleTag(entity_id=e, mentions=words.count(e), in_title=e in (doc.title or ""), salience=0.5,
                       first_position=doc.body.index(e))
            for e in sorted({w for w in words if w in {"meta", "llama", "openai"}})]


def rows(engine, model):
    with engine.connect() as conn:
        return conn.execute(select(model)).all()


def test_sync_writes_records_then_is_a_no_op_and_deactivates_what_left(warehouse):
    assert store.sync_entities(warehouse, RECORDS, "h1") == store.SyncedEntities(upserted=3, deactivated=0)
    assert store.sync_entities(warehouse, RECORDS, "h1") == store.SyncedEntities(upserted=0, deactivated=0)
    with warehouse.connect() as conn:
        llama = conn.execute(select(EntityRow).where(EntityRow.id == "llama")).one()
    assert (llama.parent_id, llama.categories, llama.links, llama.related) == (
        "meta", ["models"], {"github": "meta-llama/llama"}, ["openai"])
    out = store.sync_entities(warehouse, RECORDS[:2], "h2")
    assert out == store.SyncedEntities(upserted=2, deactivated=1)
    active = {r.id: (r.active, r.entities_hash) for r in rows(warehouse, EntityRow)}
    assert active == {"meta": (True, "h2"), "llama": (True, "h2"), "openai": (False, "h1")}


def test_tag_batch_replaces_an_articles_tags_and_records_the_hash(warehouse):
    a, b = add_articles(warehouse, 2, text=lambda i: "meta llama meta" if i == 0 else "nothing here")
    out = store.tag_batch(warehouse, [a, b, 999_999], "h1", word_tagger)
    assert (sorted(out.article_ids), out.tagged_articles, out.tags, out.mentions) == ([a, b], 1, 2, 3)
    tags = {(r.article_id, r.entity_id): r for r in rows(warehouse, ArticleEntity)}
    assert set(tags) == {(a, "meta"), (a, "llama")} and tags[(a, "meta")].mentions == 2
    assert {r.article_id: r.entities_hash for r in rows(warehouse, ArticleTagging)} == {a: "h1", b: "h1"}
    # A new tagger for the same article replaces its rows, never adds to them.
    store.tag_batch(warehouse, [a], "h2", lambda d: [ArticleTag("openai", 1, False, 0.9)])
    assert {(r.article_id, r.entity_id) for r in rows(warehouse, ArticleEntity)} == {(a, "openai")}


def test_tag_batch_reads_description_when_there_is_no_text(warehouse):
    (a,) = add_articles(warehouse, 1, text=lambda i: None, description="openai said")
    seen = []
    store.tag_batch(warehouse, [a], "h", lambda d: seen.append(d) or [])
    assert seen == [TaggableArticle(id=a, title="title 0", body="openai said")]


def test_a_failing_tagger_leaves_the_batch_untouched(warehouse):
    a, b = add_articles(warehouse, 2, text=lambda i: "meta")
    store.tag_batch(warehouse, [a, b], "h1", word_tagger)
    before = (sorted(map(tuple, rows(warehouse, ArticleEntity))), sorted(map(tuple, rows(warehouse, ArticleTagging))))

    def boom(doc):
        if doc.id == b:
            raise RuntimeError("tagger broke")
        return [ArticleTag("openai", 1, False, 0.1)]

    with pytest.raises(RuntimeError):
        store.tag_batch(warehouse, [a, b], "h2", boom)
    after = (sorted(map(tuple, rows(warehouse, ArticleEntity))), sorted(map(tuple, rows(warehouse, ArticleTagging))))
    assert after == before


def test_untagged_ids_page_through_in_id_order_and_follow_the_hash(warehouse):
    ids = add_articles(warehouse, 7)
    assert store.untagged_article_ids(warehouse, "h1", after=0, limit=3) == ids[:3]
    assert store.untagged_article_ids(warehouse, "h1", after=ids[2], limit=3) == ids[3:6]
    store.tag_batch(warehouse, ids[:4], "h1", word_tagger)
    assert store.untagged_article_ids(warehouse, "h1", limit=100) == ids[4:]
    assert store.untagged_article_ids(warehouse, "h2", limit=100) == ids  # a new file: every article again


def test_article_ids_dated_in_uses_published_else_first_seen(warehouse):
    ids = add_articles(warehouse, 4, when=lambda i: None if i == 3 else T0 + timedelta(days=i))
    assert store.article_ids_dated_in(warehouse, T0 + timedelta(days=1), T0 + timedelta(days=3)) == ids[1:3]
    assert store.article_ids_dated_in(warehouse, T0, T0 + timedelta(hours=1)) == [ids[0], ids[3]]


def _story(engine, story_id, article_ids):
    with engine.begin() as conn:
        conn.execute(insert(Story).values(id=story_id, first_seen_at=T0, last_seen_at=T0, created_at=T0,
                                          updated_at=T0, article_count=len(article_ids), outlet_count=1))
        for a in article_ids:
            conn.execute(insert(StoryArticle).values(story_id=story_id, article_id=a, similarity=1.0, added_at=T0))


def test_story_entities_are_rebuilt_from_article_tags(warehouse):
    ids = add_articles(warehouse, 4, text=lambda i: ["meta meta llama", "meta", "openai", "llama"][i])
    store.tag_batch(warehouse, ids, "h", word_tagger)
    _story(warehouse, ids[0], ids[:3])
    _story(warehouse, ids[3], ids[3:])
    assert store.stories_of_articles(warehouse, [ids[1], ids[2], ids[3]]) == [ids[0], ids[3]]
    assert store.stories_of_articles(warehouse, []) == []
    out = store.rebuild_story_entities(warehouse, [ids[0]])
    assert out == store.StoryEntitiesRebuilt(stories=1, rows=3)
    se = {(r.story_id, r.entity_id): r for r in rows(warehouse, StoryEntity)}
    assert se[(ids[0], "meta")].article_count == 2 and se[(ids[0], "meta")].mentions == 3
    assert se[(ids[0], "meta")].salience == round(2 * 0.5 / 3, 4)  # mean over all three articles
    assert store.rebuild_story_entities(warehouse) == store.StoryEntitiesRebuilt(stories=2, rows=4)
    assert store.rebuild_story_entities(warehouse) == store.StoryEntitiesRebuilt(stories=2, rows=4)
    with warehouse.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StoryEntity)).scalar() == 4


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cooccurrence_counts_originals_and_orders_ties_by_id_whatever_the_insert_order(warehouse, seed):
    texts = ["meta llama", "meta openai", "meta llama openai", "meta openai"]
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    ids = add_articles(warehouse, len(texts), text=lambda i: texts[order[i]])
    store.tag_batch(warehouse, ids, "h", word_tagger)
    assert store.cooccurring_entities(warehouse, "meta") == [CoOccurrence("openai", 3), CoOccurrence("llama", 2)]
    with warehouse.begin() as conn:  # a syndicated copy is not one more article in common
        dup = ids[order.index(1)]
        conn.execute(Article.__table__.update().where(Article.id == dup).values(duplicate_of=ids[order.index(0)]))
    assert store.cooccurring_entities(warehouse, "meta") == [("llama", 2), ("openai", 2)]
    assert store.cooccurring_entities(warehouse, "meta", limit=1) == [("llama", 2)]
    assert store.cooccurring_entities(warehouse, "meta", since=T0 + timedelta(days=1)) == []
    assert store.cooccurring_entities(warehouse, "nobody") == []
