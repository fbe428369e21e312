"""Incremental and order-independent: batches in any order, rows inserted in any order,
reruns and recomputes all give the same partition; bridging articles merge stories."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from newsroom.pipeline.stories import process_articles, recompute_stories
from newsroom.warehouse import migrate_warehouse
from newsroom.warehouse.schema import Article
from newsroom.warehouse.schema.stories import Story, StoryArticle, StoryMerge
from tests.conftest import create_pg_database, pg_available
from tests.fixtures.dedup_eval import evalset


def _subset(es):
    """Seeds, labelled clusters, their copies and a few unrelated pages: small enough to run thrice."""
    keep = set().union(*es.stories) | {k for pair in es.separate for k in pair}
    extra = sorted(a.key for a in es.articles if a.key not in keep)[:15]
    return [a for a in es.articles if a.key in keep or a.key in extra]


def _partition(engine, ids):
    stories, dups = evalset.predicted(engine, ids)
    dup_of = {}
    key_of = {v: k for k, v in ids.items()}
    with engine.connect() as conn:
        for aid, d, kind in conn.execute(select(Article.id, Article.duplicate_of, Article.duplicate_kind)):
            if aid in key_of:
                dup_of[key_of[aid]] = (key_of.get(d), kind)
    return {frozenset(s) for s in stories}, dup_of


@pytest.fixture
def second_warehouse(warehouse_url, tmp_path):
    if warehouse_url.startswith("sqlite"):
        yield migrate_warehouse(f"sqlite:///{tmp_path / 'second.db'}")
        return
    if not pg_available():
        pytest.skip("PostgreSQL not reachable")
    url, drop = create_pg_database()
    try:
        yield migrate_warehouse(url)
    finally:
        drop()


def test_batch_order_and_insert_order_do_not_change_the_partition(warehouse, second_warehouse, corpus, seeds):
    es = evalset.build(corpus, seeds)
    arts = _subset(es)
    # run 1: everything at once
    ids1 = evalset.load(warehouse, arts)
    process_articles(warehouse)
    expected = _partition(warehouse, ids1)
    # run 2: rows inserted in another order (other ids), processed in batches, latest first
    shuffled = arts[:]
    random.Random(7).shuffle(shuffled)
    ids2 = evalset.load(second_warehouse, shuffled)
    by_time = sorted(arts, key=lambda a: a.published_at, reverse=True)
    thirds = [by_time[i::3] for i in range(3)]
    for batch in (thirds[2], thirds[0], thirds[1]):
        process_articles(second_warehouse, [ids2[a.key] for a in batch])
    assert _partition(second_warehouse, ids2) == expected
    # the five seeds are one story in both
    assert any({f"seed:{i}" for i in range(5)} <= s for s in expected[0])


def test_bridging_article_merges_stories_and_records_it(warehouse, corpus, seeds):
    es = evalset.build(corpus, seeds)
    by_key = es.by_key()
    x = by_key["https://www.livescience.com/feather-duvet-lung.html"]
    y = next(a for a in es.articles if a.key.startswith("https://spacenews.com/"))
    t = x.published_at
    a = evalset.EvalArticle("a", "https://outlet-a.example/duvet", x.title, x.text, "Outlet A", t)
    c = evalset.EvalArticle("c", "https://outlet-c.example/landers", y.title, y.text, "Outlet C", t + timedelta(hours=1))
    b = evalset.EvalArticle("b", "https://outlet-b.example/roundup", "Roundup: duvet lung and moon landers",
                            x.text + "\n\n" + y.text, "Outlet B", t + timedelta(hours=2))
    ids = evalset.load(warehouse, [a, c, b])
    first = process_articles(warehouse, [ids["a"], ids["c"]])
    assert first["stories_created"] == 2 and first["merges"] == 0
    with warehouse.connect() as conn:
        before = dict(conn.execute(select(StoryArticle.article_id, StoryArticle.story_id)).all())
    assert before[ids["a"]] != before[ids["c"]]
    second = process_articles(warehouse, [ids["b"]])
    assert second["merges"] == 1 and second["stories_joined"] == 1 and second["stories_created"] == 0
    with warehouse.connect() as conn:
        after = dict(conn.execute(select(StoryArticle.article_id, StoryArticle.story_id)).all())
        assert after[ids["a"]] == after[ids["b"]] == after[ids["c"]]
        survivor = after[ids["a"]]
        dead = ({before[ids["a"]], before[ids["c"]]} - {survivor}).pop()
        assert survivor == before[ids["a"]]  # the earlier story survives
        merge = conn.execute(select(StoryMerge)).one()
        assert (merge.from_story_id, merge.into_story_id, merge.bridge_article_id) == (dead, survivor, ids["b"])
        rows = {s.id: s for s in conn.execute(select(Story)).all()}
        assert rows[dead].merged_into == survivor and rows[survivor].merged_into is None
        assert rows[survivor].article_count == 3 and rows[survivor].outlet_count == 3


def test_recompute_rebuilds_the_same_stories(warehouse, corpus, seeds):
    es = evalset.build(corpus, seeds)
    arts = _subset(es)
    ids = evalset.load(warehouse, arts)
    process_articles(warehouse)
    expected = _partition(warehouse, ids)
    day = min(a.published_at for a in arts if a.key.startswith("https://www.livescience.com"))
    counts = recompute_stories(warehouse, day - timedelta(days=1), day + timedelta(days=2))
    assert counts["processed"] > 10
    assert _partition(warehouse, ids) == expected
    with warehouse.connect() as conn:
        # every article is in exactly one live story
        live = {s for (s,) in conn.execute(select(Story.id).where(Story.merged_into.is_(None)))}
        members = conn.execute(select(StoryArticle.article_id, StoryArticle.story_id)).all()
    assert {s for _, s in members} <= live and len(members) == len(arts)
