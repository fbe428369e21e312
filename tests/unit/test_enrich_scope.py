"""The ingest DAG's enrich step leaves no article stranded: it enriches this run's articles and
any an earlier run left pending — a failed enrich, or a text change (which clears
``processed_at``) — and a rerun finds nothing more to do (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update

UTC = timezone.utc


def _article(n: int, seen: datetime) -> dict:
    url = f"https://alpha.example/{n}"
    text = f"OpenAI published report number {n} about model evaluations and release decisions."
    return {"canonical_url": url, "url": url, "outlet": "Alpha", "title": f"Report {n}", "text": text,
            "word_count": len(text.split()), "published_at": seen, "first_seen_at": seen,
            "extraction_status": "ok", "origin": "feed", "updated_at": seen}


def test_enrich_takes_the_run_s_articles_and_earlier_leftovers(settings):
    from newsroom.pipeline.process import process_new_articles
    from newsroom.warehouse import connect, upsert
    from newsroom.warehouse.schema import Article

    engine = connect(settings.resolved_warehouse_url)
    earlier, now = datetime(2026, 4, 9, 9, tzinfo=UTC), datetime(2026, 4, 9, 11, tzinfo=UTC)
    with engine.begin() as c:
        upsert(c, Article, [_article(1, earlier), _article(2, now), _article(3, now)], keys=["canonical_url"])
    # Article 1 is an earlier run's leftover (that run's enrich failed): still pending.
    assert process_new_articles(settings=settings, engine=engine)["articles"] == 3
    with engine.connect() as c:
        assert all(r.processed_at is not None for r in c.execute(select(Article)))
    # A rerun (a retry, a cleared task) finds nothing left to do.
    assert process_new_articles(settings=settings, engine=engine).get("articles", 0) == 0
    # A later source replaced article 1's text (processed_at cleared): the next run enriches it,
    # although it was first seen long before that run.
    with engine.begin() as c:
        c.execute(update(Article).where(Article.url.endswith("/1")).values(processed_at=None))
    assert process_new_articles(settings=settings, engine=engine)["articles"] == 1
    with engine.connect() as c:
        assert all(r.processed_at is not None for r in c.execute(select(Article)))
