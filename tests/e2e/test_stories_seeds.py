"""A day with the five seeds (five outlets) plus unrelated corpus articles gives one
Muse Spark story with five articles from five outlets, and nothing else joins it."""

from datetime import timedelta

from sqlalchemy import func, select

from newsroom.pipeline.stories import process_articles
from newsroom.warehouse.schema import Article
from newsroom.warehouse.schema.stories import ArticleSignature, Story, StoryArticle
from tests.fixtures.dedup_eval import evalset


def test_five_seeds_form_one_story_and_nothing_unrelated_joins(warehouse, corpus, seeds):
    es = evalset.build(corpus, seeds)
    seed_day = next(a.published_at for a in es.articles if a.key == "seed:0")
    # the unrelated articles are published the same day as the seeds, so only the text keeps them apart
    day = [a for a in es.articles if not a.key.startswith("variant:")]
    for a in day:
        if not a.key.startswith("seed:"):
            a.published_at = seed_day
    ids = evalset.load(warehouse, day)
    counts = process_articles(warehouse)
    assert counts["processed"] == len(day)

    seed_ids = {ids[f"seed:{i}"] for i in range(5)}
    with warehouse.connect() as conn:
        story_of = dict(conn.execute(select(StoryArticle.article_id, StoryArticle.story_id)).all())
        sids = {story_of[a] for a in seed_ids}
        assert len(sids) == 1
        (sid,) = sids
        story = conn.execute(select(Story).where(Story.id == sid)).one()
        members = {a for a, s in story_of.items() if s == sid}
    assert members == seed_ids
    assert (story.article_count, story.outlet_count, story.merged_into) == (5, 5, None)
    assert story.representative_article_id in seed_ids and story.title
    assert story.first_seen_at == seed_day and story.last_seen_at == seed_day + timedelta(hours=12)

    # rerunning changes nothing: no article is pending, and reprocessing them all gives the same stories
    assert process_articles(warehouse)["processed"] == 0
    process_articles(warehouse, sorted(ids.values()))
    with warehouse.connect() as conn:
        assert dict(conn.execute(select(StoryArticle.article_id, StoryArticle.story_id)).all()) == story_of
        assert conn.execute(select(func.count()).select_from(ArticleSignature)).scalar() == len(day)
        assert conn.execute(select(func.count()).select_from(Article).where(Article.duplicate_of.isnot(None))
                            ).scalar() == 0
