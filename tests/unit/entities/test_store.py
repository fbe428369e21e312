"""Tags in the warehouse, on SQLite and PostgreSQL: sync, tag, re-tag after the
file changes, offline re-tag by date, story aggregation, co-occurrence."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select

from newsroom.config.entities import EntitiesFile
from newsroom.entities import (
    aggregate_story_entities,
    cooccurring_entities,
    retag_range,
    sync_entities,
    tag_articles,
)
from newsroom.warehouse import upsert
from newsroom.warehouse.schema import Article
from newsroom.warehouse.schema.entities import ArticleEntity, ArticleTagging, EntityRow, StoryEntity

T0 = datetime(2026, 4, 8, 12, tzinfo=timezone.utc)

BASE = [
    {"id": "meta", "name": "Meta", "type": "company", "case_sensitive": ["Meta"], "match_name": True},
    {"id": "muse-spark", "name": "Muse Spark", "type": "model", "parent": "meta"},
    {"id": "scale-ai", "name": "Scale AI", "type": "company"},
    {"id": "openai", "name": "OpenAI", "type": "lab"},
]


def ents(extra=()) -> EntitiesFile:
    return EntitiesFile.model_validate({"entities": [*BASE, *extra]})


def add_articles(engine, docs):
    rows = []
    for i, (title, text, day) in enumerate(docs, start=1):
        rows.append({"canonical_url": f"https://e.com/{i}", "url": f"https://e.com/{i}", "title": title,
                     "text": text, "extraction_status": "ok", "published_at": day, "first_seen_at": day,
                     "word_count": len(text.split()), "origin": "feed", "updated_at": day})
    with engine.begin() as conn:
        upsert(conn, Article, rows, keys=["canonical_url"])
        return list(conn.execute(select(Article.id).order_by(Article.id)).scalars())


DOCS = [
    ("Meta launches Muse Spark", "Meta said Muse Spark beats rivals. Scale AI's founder leads the lab.", T0),
    ("OpenAI responds", "OpenAI said nothing about Meta. It is so meta.", T0.replace(day=9)),
    ("Weather", "Rain tomorrow, at scale.", T0.replace(day=10)),
]


def tags(engine):
    with engine.connect() as conn:
        return {(r.article_id, r.entity_id): r for r in conn.execute(select(ArticleEntity))}


def test_tag_all_then_rerun_is_a_no_op(warehouse):
    ids = add_articles(warehouse, DOCS)
    out = tag_articles(warehouse, None, ents())
    assert out["articles"] == 3 and out["tagged_articles"] == 2
    t = tags(warehouse)
    a1, a2, a3 = ids
    assert t[(a1, "meta")].mentions == 2 and t[(a1, "meta")].in_title
    assert t[(a1, "muse-spark")].first_position == DOCS[0][1].index("Muse Spark")
    assert t[(a1, "scale-ai")].mentions == 1
    assert t[(a2, "meta")].mentions == 1  # "so meta" is not Meta
    assert not any(k[0] == a3 for k in t)
    assert tag_articles(warehouse, None, ents())["articles"] == 0  # all tagged under this hash
    assert tags(warehouse) == t
    # Explicit ids are re-tagged, without duplicating rows.
    tag_articles(warehouse, [a1, a1], ents())
    assert len(tags(warehouse)) == len(t)


def test_changed_file_retags_and_deactivates_removed_entities(warehouse):
    ids = add_articles(warehouse, DOCS)
    tag_articles(warehouse, None, ents())
    smaller = EntitiesFile.model_validate({"entities": [b for b in BASE if b["id"] != "scale-ai"]
                                           + [{"id": "rain", "name": "Rain", "type": "other"}]})
    out = tag_articles(warehouse, None, smaller)
    assert out["articles"] == 3 and out["entities_deactivated"] == 1
    t = tags(warehouse)
    assert (ids[0], "scale-ai") not in t and (ids[2], "rain") in t
    with warehouse.connect() as conn:
        active = dict(conn.execute(select(EntityRow.id, EntityRow.active)).all())
        hashes = set(conn.execute(select(ArticleTagging.entities_hash)).scalars())
    assert active["scale-ai"] is False and active["rain"] is True
    assert hashes == {smaller.content_hash}


def test_sync_is_idempotent(warehouse):
    assert sync_entities(warehouse, ents())["upserted"] == 4
    assert sync_entities(warehouse, ents()) == {"upserted": 0, "deactivated": 0}
    with warehouse.connect() as conn:
        row = conn.execute(select(EntityRow).where(EntityRow.id == "muse-spark")).one()
    assert row.parent_id == "meta" and row.aliases == ["Muse Spark"]


def test_retag_range_reads_stored_text_only(warehouse):
    ids = add_articles(warehouse, DOCS)
    out = retag_range(warehouse, T0.replace(day=9), T0.replace(day=11), ents())
    assert out["articles"] == 2
    assert {k[0] for k in tags(warehouse)} == {ids[1]}


def _add_story(engine, story_id, article_ids):
    from newsroom.warehouse.schema.stories import Story, StoryArticle

    with engine.begin() as conn:
        conn.execute(insert(Story).values(id=story_id, first_seen_at=T0, last_seen_at=T0,
                                          article_count=len(article_ids), outlet_count=1, created_at=T0,
                                          updated_at=T0))
        for a in article_ids:
            conn.execute(insert(StoryArticle).values(story_id=story_id, article_id=a, similarity=1.0, added_at=T0))


def test_story_entities_aggregate_article_tags(warehouse):
    ids = add_articles(warehouse, DOCS)
    _add_story(warehouse, 1, ids[:2])
    out = tag_articles(warehouse, None, ents())
    assert out["stories"] == 1
    with warehouse.connect() as conn:
        se = {r.entity_id: r for r in conn.execute(select(StoryEntity).where(StoryEntity.story_id == 1))}
    assert se["meta"].article_count == 2 and se["meta"].mentions == 3
    assert se["openai"].article_count == 1
    assert se["meta"].salience > se["openai"].salience
    # Rebuilding is idempotent.
    assert aggregate_story_entities(warehouse)["stories"] == 1
    with warehouse.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StoryEntity)).scalar() == len(se)


def test_cooccurring_entities(warehouse):
    add_articles(warehouse, DOCS)
    tag_articles(warehouse, None, ents())
    assert cooccurring_entities(warehouse, "meta") == [("muse-spark", 1), ("openai", 1), ("scale-ai", 1)]
    assert cooccurring_entities(warehouse, "openai", limit=5) == [("meta", 1)]
    assert cooccurring_entities(warehouse, "nobody") == []


def test_cooccurrence_skips_parent_credits_unless_asked(warehouse):
    add_articles(warehouse, [("Muse Spark", "Muse Spark and OpenAI.", T0)])
    tag_articles(warehouse, None, ents())
    assert (("meta", 1) in cooccurring_entities(warehouse, "openai")) is False
    assert ("meta", 1) in cooccurring_entities(warehouse, "openai", direct_only=False)
