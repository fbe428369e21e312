"""The ingest DAG's enrich step works on the articles its run stored — those first seen since
the run became due — and not on every article another run left pending (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

UTC = timezone.utc


def _article(n: int, seen: datetime) -> dict:
    url = f"https://alpha.example/{n}"
    text = f"OpenAI published report number {n} about model evaluations and release decisions."
    return {"canonical_url": url, "url": url, "outlet": "Alpha", "title": f"Report {n}", "text": text,
            "word_count": len(text.split()), "published_at": seen, "first_seen_at": seen,
            "extraction_status": "ok", "origin": "feed", "updated_at": seen}


def test_enrich_limited_to_the_run_leaves_older_pending_articles(settings):
    from newsroom.pipeline.process import process_new_articles
    from newsroom.warehouse import connect, upsert
    from newsroom.warehouse.schema import Article

    run_after = datetime(2026, 4, 9, 11, tzinfo=UTC)
    engine = connect(settings.resolved_warehouse_url)
    with engine.begin() as c:
        upsert(c, Article, [_article(1, datetime(2026, 4, 9, 9, tzinfo=UTC)),  # an earlier run's leftover
                            _article(2, run_after), _article(3, datetime(2026, 4, 9, 11, 5, tzinfo=UTC))],
               keys=["canonical_url"])
    counts = process_new_articles(settings=settings, engine=engine, first_seen_since=run_after)
    assert counts["articles"] == 2
    with engine.connect() as c:
        processed = {r.url.rsplit("/", 1)[-1]: r.processed_at is not None for r in c.execute(select(Article))}
    assert processed == {"1": False, "2": True, "3": True}
    # Rerunning the run's enrich (a retry, a cleared task) finds nothing left to do.
    assert process_new_articles(settings=settings, engine=engine, first_seen_since=run_after).get("articles", 0) == 0
    # Without a bound (the CLI), every pending article is processed.
    assert process_new_articles(settings=settings, engine=engine)["articles"] == 1
