"""Offline reprocessing of a range from raw captures (SQLite and PostgreSQL).

The pages are small HTML documents written here; they go through the real
capture store, the real extractor, tagging and stories stages.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from newsroom.captures import CaptureStore
from newsroom.config.entities import EntitiesFile
from newsroom.warehouse.captures import record_capture
from newsroom.pipeline.reprocess import days_in_range, range_window, reprocess_range
from newsroom.warehouse import upsert
from newsroom.warehouse.schema import Article
from newsroom.warehouse.schema.entities import ArticleEntity
from newsroom.warehouse.schema.stories import StoryArticle

UTC = timezone.utc
PARAGRAPHS = [
    "Zephyr Labs released a new open-weight language model on Thursday, the company said in a statement.",
    "The model, called Breeze, was trained on twelve trillion tokens and scores well on reasoning benchmarks.",
    "Researchers who tested early versions said Breeze answered long multi-step questions more reliably.",
    "Zephyr Labs plans to publish the training recipe and the evaluation harness under an open licence.",
    "Analysts expect the release to put pressure on the pricing of closed models sold through cloud platforms.",
]


def page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html lang='en'><head><title>{title}</title>"
            f"<meta name='author' content='Ada Writer'></head><body><nav>Home | News</nav>"
            f"<article><h1>{title}</h1>{body}</article><footer>© Example</footer></body></html>").encode()


# The file before the operator added Zephyr Labs (an entity no article mentions).
BEFORE = EntitiesFile.model_validate({"entities": [{"id": "acme", "name": "Acme Robotics", "type": "company"}]})
ENTITIES = EntitiesFile.model_validate({"entities": [
    {"id": "acme", "name": "Acme Robotics", "type": "company"},
    {"id": "zephyr-labs", "name": "Zephyr Labs", "type": "lab", "aliases": ["Zephyr"]},
]})


def _article(conn, store, url: str, html: bytes | None, *, text: str, published_at: datetime,
             status: str = "feed_content") -> int:
    cap = record_capture(conn, store, html, kind="page", url=url, status=200,
                         content_type="text/html") if html is not None else None
    row = {"canonical_url": url, "url": url, "outlet": "Example", "title": "Zephyr Labs releases Breeze",
           "published_at": published_at, "first_seen_at": published_at, "text": text,
           "word_count": len(text.split()), "extraction_status": status, "origin": "feed",
           "capture_id": cap, "updated_at": published_at}
    return upsert(conn, Article, [row], keys=["canonical_url"], returning=["id"])[0][0]


@pytest.fixture
def seeded(warehouse, settings):
    store = CaptureStore(settings.data_dir)
    with warehouse.begin() as conn:
        ids = {
            "in": _article(conn, store, "https://a.example/breeze", page("Zephyr Labs releases Breeze", PARAGRAPHS),
                           text="Short teaser.", published_at=datetime(2026, 4, 9, 10, tzinfo=UTC)),
            "copy": _article(conn, store, "https://b.example/breeze", page("Breeze is out", PARAGRAPHS),
                             text="Another teaser.", published_at=datetime(2026, 4, 9, 12, tzinfo=UTC)),
            "out": _article(conn, store, "https://c.example/old", page("Old news", PARAGRAPHS[::-1]),
                            text="Old teaser.", published_at=datetime(2026, 3, 1, 10, tzinfo=UTC)),
            "nocap": _article(conn, store, "https://d.example/nocap", None, text="Zephyr said nothing new.",
                              published_at=datetime(2026, 4, 9, 14, tzinfo=UTC)),
        }
    return warehouse, settings, store, ids


def _rows(engine, ids):
    with engine.connect() as c:
        return {r.id: r for r in c.execute(select(Article).where(Article.id.in_(ids)))}


def test_re_extract_updates_in_place_and_keeps_ids(seeded):
    engine, settings, _, ids = seeded
    counts = reprocess_range(engine, date(2026, 4, 9), date(2026, 4, 9), settings=settings, tz="UTC",
                             re_extract=True, re_dedup=False, re_tag=False, workers=1)
    assert counts["articles"] == 3 and counts["re_extracted"] == 2 and counts["no_capture"] == 1
    assert counts["text_changed"] == 2
    rows = _rows(engine, ids.values())
    assert set(rows) == set(ids.values())  # same ids, no new rows
    for key in ("in", "copy"):
        r = rows[ids[key]]
        assert r.extraction_status == "ok"
        assert "twelve trillion tokens" in r.text and r.word_count > 60
        assert r.canonical_url.endswith("/breeze")
    assert rows[ids["out"]].text == "Old teaser."  # outside the range: untouched
    assert rows[ids["nocap"]].text == "Zephyr said nothing new."
    with engine.connect() as c:
        assert c.execute(select(Article.id)).all().__len__() == 4


def test_adding_an_entity_and_reprocessing_tags_history_and_groups_the_story(seeded):
    engine, settings, _, ids = seeded
    before = reprocess_range(engine, date(2026, 4, 9), date(2026, 4, 9), settings=settings, tz="UTC",
                             entities=BEFORE, workers=1)
    assert before["tagging"]["tagged_articles"] == 0
    counts = reprocess_range(engine, date(2026, 4, 9), date(2026, 4, 9), settings=settings, tz="UTC",
                             entities=ENTITIES, workers=1)
    with engine.connect() as c:
        tagged = set(c.execute(select(ArticleEntity.article_id).where(ArticleEntity.entity_id == "zephyr-labs"))
                     .scalars())
        stories = dict(c.execute(select(StoryArticle.article_id, StoryArticle.story_id)).all())
    assert tagged == {ids["in"], ids["copy"], ids["nocap"]}  # the March article is outside the range
    assert counts["tagging"]["tagged_articles"] == 3
    # The two copies of the same page text are one story (and duplicates).
    assert stories[ids["in"]] == stories[ids["copy"]]
    assert ids["out"] not in stories  # never processed, outside the range
    with engine.connect() as c:
        dup = c.execute(select(Article.duplicate_of).where(Article.id == ids["copy"])).scalar_one()
    assert dup == ids["in"]


def test_rerun_is_idempotent(seeded):
    engine, settings, _, ids = seeded
    kw = dict(settings=settings, tz="UTC", entities=ENTITIES, workers=1)
    reprocess_range(engine, date(2026, 4, 9), date(2026, 4, 9), **kw)

    def state():
        with engine.connect() as c:
            arts = [tuple(r) for r in c.execute(select(Article.id, Article.text_hash, Article.duplicate_of)
                                                .order_by(Article.id))]
            tags = sorted(tuple(r) for r in c.execute(select(ArticleEntity.article_id, ArticleEntity.entity_id,
                                                             ArticleEntity.mentions)))
            stories = sorted(tuple(r) for r in c.execute(select(StoryArticle.article_id, StoryArticle.story_id)))
        return arts, tags, stories

    first = state()
    again = reprocess_range(engine, date(2026, 4, 9), date(2026, 4, 9), **kw)
    assert again["text_changed"] == 0
    assert state() == first


def test_missing_capture_and_worse_extraction_lose_nothing(seeded):
    engine, settings, store, ids = seeded
    with engine.connect() as c:
        path = c.execute(select(Article.capture_id).where(Article.id == ids["in"])).scalar_one()
        from newsroom.warehouse.schema import Capture

        rel = c.execute(select(Capture.path).where(Capture.id == path)).scalar_one()
    store_file = f"{store.root}/captures/{rel}"
    import os

    os.remove(store_file)
    # The other page's capture now holds bytes that extract to nothing.
    with engine.begin() as c:
        empty = record_capture(c, store, b"<html><body></body></html>", kind="page", url="https://b.example/breeze",
                               status=200, content_type="text/html")
        c.execute(Article.__table__.update().where(Article.id == ids["copy"]).values(capture_id=empty))
    counts = reprocess_range(engine, date(2026, 4, 9), date(2026, 4, 9), settings=settings, tz="UTC",
                             re_dedup=False, re_tag=False, workers=1)
    rows = _rows(engine, [ids["in"], ids["copy"]])
    assert rows[ids["in"]].text == "Short teaser."
    assert rows[ids["copy"]].text == "Another teaser."
    assert counts["kept_previous"] == 1
    assert counts["failures_by_reason"].get("capture_missing: FileNotFoundError") == 1


def test_range_window_uses_local_days_inclusive():
    start, end = range_window(date(2026, 3, 29), date(2026, 3, 29), "Europe/London")
    assert start == datetime(2026, 3, 29, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 23, tzinfo=UTC)  # spring forward: a 23-hour day
    start, end = range_window(date(2026, 4, 1), date(2026, 4, 7), "Europe/London")
    assert start == datetime(2026, 3, 31, 23, tzinfo=UTC) and end == datetime(2026, 4, 7, 23, tzinfo=UTC)
    s2, e2 = range_window(datetime(2026, 4, 1, 5), datetime(2026, 4, 1, 6, tzinfo=UTC))
    assert (s2, e2) == (datetime(2026, 4, 1, 5, tzinfo=UTC), datetime(2026, 4, 1, 6, tzinfo=UTC))
    with pytest.raises(ValueError):
        range_window(date(2026, 4, 2), date(2026, 4, 1))
    assert days_in_range(date(2026, 4, 30), date(2026, 5, 2)) == [date(2026, 4, 30), date(2026, 5, 1),
                                                                  date(2026, 5, 2)]
    with pytest.raises(ValueError):
        days_in_range(date(2026, 5, 2), date(2026, 4, 30))
