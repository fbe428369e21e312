"""Backfills, reprocessing and assets on a real scheduler-run Airflow (PostgreSQL metadata).

One Airflow (api-server + scheduler, LocalExecutor) serves the whole scenario, because
starting it is the expensive part:

1. ``airflow backfill create`` of ``newsroom_digest`` over three days → one digest per day,
   rows and notes, from a small seeded warehouse;
2. the same range backwards with "All Runs" (``--reprocess-behavior completed --run-backwards``)
   → every day rebuilt, same content (order does not matter);
3. a wider range with "Missing Runs" → only the missing days get runs;
4. the operator's recipe: add an entity to the entities file, trigger ``newsroom_reprocess``
   through the REST API (the UI's form) → its per-day ``newsroom_digest`` runs put the entity
   in those digests and give it a topic note whose timeline links them;
5. a backfill of ``newsroom_ingest`` is refused: its run fails at once with a message naming
   ``newsroom_reprocess`` and changes nothing; ``newsroom_reprocess`` over that day
   re-extracts its articles from the raw captures without the network;
6. the digests asset events carry day and counts, and they run the example consumer.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone

import pytest
import yaml
from sqlalchemy import select

from tests.backfill.cluster import AirflowCluster, asset_events
from tests.conftest import create_pg_database, pg_available

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

UTC = timezone.utc
TZ = "Europe/London"
DAYS = [date(2026, 4, 7), date(2026, 4, 8), date(2026, 4, 9)]
ENTITIES_BEFORE = {"version": 1, "entities": [
    {"id": "openai", "name": "OpenAI", "type": "lab", "categories": ["MOC - AI Labs"]},
    {"id": "anthropic", "name": "Anthropic", "type": "lab", "categories": ["MOC - AI Labs"]},
]}
ENTITIES_AFTER = {"version": 1, "entities": [
    *ENTITIES_BEFORE["entities"],
    {"id": "zephyr-labs", "name": "Zephyr Labs", "type": "lab", "categories": ["MOC - AI Labs"],
     "description": "A model lab added by the operator."},
]}


# One distinct story per day (different words, so stories don't chain across days), each
# told by two outlets in different words (one story, not duplicates). Zephyr Labs is in all.
STORIES = {
    date(2026, 4, 7): ("OpenAI", [
        ("OpenAI cuts API token prices as Zephyr Labs matches",
         "OpenAI cut the price of its API tokens by half on Tuesday, and Zephyr Labs matched the cheaper "
         "tariff within hours. Developers building chat products welcomed the cheaper tokens. The new price "
         "applies to 40 percent of paying API customers, the company said in a pricing note."),
        ("Zephyr Labs follows OpenAI with cheaper tokens",
         "Hours after OpenAI halved its API token price, the smaller lab Zephyr Labs published a matching "
         "tariff for developers. Pricing analysts expect cheaper tokens across the market. Roughly 40 percent "
         "of paying API customers will see lower invoices from the new token pricing."),
    ]),
    date(2026, 4, 8): ("Anthropic", [
        ("Anthropic and Zephyr Labs publish robot safety evaluations",
         "Anthropic released a safety evaluation of warehouse robots on Wednesday, joined by Zephyr Labs, "
         "which shared its own robot test results. The evaluation covers grasping, navigation and emergency "
         "stops in crowded warehouses across three continents."),
        ("Robot safety tests from Zephyr Labs and Anthropic",
         "Zephyr Labs and Anthropic each described how their warehouse robots behave in emergency stops and "
         "crowded aisles. The robot safety evaluation measured grasping errors and navigation near workers "
         "in warehouses, with results published for outside review."),
    ]),
    date(2026, 4, 9): ("OpenAI", [
        ("OpenAI signs chip supply deal; Zephyr Labs joins",
         "OpenAI signed a multi-year chip supply agreement with a foundry on Thursday, and Zephyr Labs joined "
         "the contract for a smaller share of wafers. The chip supply deal secures accelerator wafers through "
         "2029 for both laboratories."),
        ("Zephyr Labs shares OpenAI foundry chip contract",
         "Zephyr Labs will take a minority of the foundry wafers in OpenAI's new chip supply contract. The "
         "accelerator wafer deal runs through 2029 and gives both laboratories guaranteed chip supply from "
         "the foundry."),
    ]),
}


def _story_text(day: date, n: int) -> tuple[str, str]:
    return STORIES[day][1][n]


def _page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html lang='en'><head><title>{title}</title></head><body>"
            f"<article><h1>{title}</h1>{body}</article></body></html>").encode()


FULL_TEXT = [
    "Anthropic published a long report on Tuesday describing how its models are evaluated before release.",
    "The report lists twelve evaluation suites and explains how each result feeds the release decision.",
    "Researchers outside the company welcomed the detail but asked for the raw evaluation data as well.",
    "Anthropic said it would publish more of the evaluation data once partners had reviewed the material.",
    "The company expects other labs to follow with similar reports before the end of the year.",
]


def seed(settings) -> dict:
    """Two articles per digest day, and two stale articles whose full page is only in the captures."""
    from newsroom.captures import CaptureStore
    from newsroom.warehouse.captures import record_capture
    from newsroom.pipeline.process import process_new_articles
    from newsroom.warehouse import migrate_warehouse, upsert
    from newsroom.warehouse.schema import Article

    engine = migrate_warehouse(settings.resolved_warehouse_url)
    store = CaptureStore(settings.data_dir)
    ids = {}
    with engine.begin() as c:
        for day in DAYS:
            for n, outlet in enumerate(["Alpha News", "Beta Times"]):
                title, text = _story_text(day, n)
                at = datetime(day.year, day.month, day.day, 9 + 3 * n, tzinfo=UTC)
                url = f"https://{outlet.split()[0].lower()}.example/{day.isoformat()}/{n}"
                upsert(c, Article, [{"canonical_url": url, "url": url, "outlet": outlet, "title": title, "text": text,
                                     "word_count": len(text.split()), "published_at": at, "first_seen_at": at,
                                     "extraction_status": "ok", "origin": "feed", "updated_at": at}],
                       keys=["canonical_url"])
        for key, at in (("stale_in", datetime(2026, 4, 5, 12, tzinfo=UTC)),
                        ("stale_out", datetime(2026, 4, 3, 12, tzinfo=UTC))):
            url = f"https://gamma.example/{key}"
            cap = record_capture(c, store, _page("Anthropic report", FULL_TEXT), kind="page", url=url, status=200,
                                 content_type="text/html")
            ids[key] = upsert(c, Article, [{
                "canonical_url": url, "url": url, "outlet": "Gamma", "title": "Anthropic report", "text": "Teaser.",
                "word_count": 1, "published_at": at, "first_seen_at": at, "extraction_status": "feed_content",
                "extraction_reason": "http_503", "origin": "feed", "capture_id": cap, "updated_at": at}],
                keys=["canonical_url"], returning=["id"])[0][0]
    process_new_articles(settings=settings, engine=engine)
    return ids


@pytest.fixture
def newsroom_env(tmp_path, monkeypatch):
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    from newsroom.settings import Settings, get_settings

    wh_url, drop = create_pg_database()
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"beat": "AI", "timezone": TZ, "feeds": [], "reddit": {"subreddits": []},
                                       "digest": {"hour": 6, "top_n": 5, "related_days": 7}}))
    entities = tmp_path / "entities.yaml"
    entities.write_text(yaml.safe_dump(ENTITIES_BEFORE))
    env = {
        "NEWSROOM_WAREHOUSE_URL": wh_url, "NEWSROOM_SOURCES": str(sources), "NEWSROOM_ENTITIES": str(entities),
        "NEWSROOM_DATA_DIR": str(tmp_path / "data"), "NEWSROOM_OUTPUT_DIR": str(tmp_path / "vault"),
        "NEWSROOM_INGEST_SCHEDULE": "@daily", "NEWSROOM_EXTRACT_WORKERS": "1",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        yield env, Settings(), entities
    finally:
        get_settings.cache_clear()
        drop()


def _digests(settings) -> dict[date, dict]:
    from newsroom.warehouse import connect
    from newsroom.warehouse.schema.digest import Digest

    with connect(settings.resolved_warehouse_url).connect() as c:
        return {r.day: dict(r._mapping) for r in c.execute(select(Digest))}


def _backfill(af: AirflowCluster, dag_id: str, start: str, end: str, *extra: str) -> list[tuple]:
    before = af.latest_backfill_id(dag_id) or 0
    af.cli("backfill", "create", "--dag-id", dag_id, "--from-date", start, "--to-date", end, *extra)
    bid = af.latest_backfill_id(dag_id)
    assert bid and bid > before, "no backfill was created"
    return af.wait_backfill(bid, timeout=150)


def test_backfills_reprocessing_and_assets_on_a_real_scheduler(newsroom_env, tmp_path):
    from newsroom.digest.window import day_for_interval
    from newsroom.warehouse import connect
    from newsroom.warehouse.schema import Article
    from newsroom.warehouse.schema.digest import DigestItem, EntityTimeline

    env, settings, entities_file = newsroom_env
    ids = seed(settings)
    vault = settings.output_dir
    with AirflowCluster(tmp_path / "airflow", env=env, rest=True) as af:
        for dag_id in ("newsroom_digest", "newsroom_consumer_example", "newsroom_ingest", "newsroom_reprocess"):
            af.cli("dags", "unpause", dag_id)

        # 1. forwards, Missing Runs (the default): one run and one digest per day. A run's logical
        # date is the start of its interval (D 06:00 local) and --to-date is a midnight, so the
        # days D1..D2 are the backfill from D1 to D2+1 (a half-open range, docs/operations.md).
        runs = _backfill(af, "newsroom_digest", "2026-04-07", "2026-04-10", "--max-active-runs", "3")
        assert {s for _, s in runs} == {"success"}, af.logs()
        backfill_runs = [r for r in af.runs("newsroom_digest") if r["run_type"] == "backfill"]
        covered = {day_for_interval(r["start"], r["end"], TZ) for r in backfill_runs}
        assert covered == set(DAYS)
        first = _digests(settings)
        for d in DAYS:
            assert first[d]["articles_count"] == 2, first[d]
            assert (vault / "digests" / f"{d.isoformat()}-AI-Digest.md").is_file()
        openai_note = (vault / "entities" / "OpenAI.md").read_text()
        for d in DAYS:
            assert (f"[[{d.isoformat()}-AI-Digest]]" in openai_note) == (STORIES[d][0] == "OpenAI")

        # 2. backwards, All Runs: every day rebuilt (generated later), same content.
        runs = _backfill(af, "newsroom_digest", "2026-04-07", "2026-04-10", "--reprocess-behavior", "completed",
                         "--run-backwards")
        assert len(runs) == 3 and {s for _, s in runs} == {"success"}, af.logs()
        again = _digests(settings)
        for d in DAYS:
            assert again[d]["generated_at"] > first[d]["generated_at"]
            assert again[d]["content_hash"] == first[d]["content_hash"]
        assert (vault / "entities" / "OpenAI.md").read_text() == openai_note

        # 3. Missing Runs over a wider range: only the days without a run get one.
        had = {r["logical_date"] for r in af.runs("newsroom_digest") if r["run_type"] == "backfill"}
        runs = _backfill(af, "newsroom_digest", "2026-04-06", "2026-04-11")
        new = [r for r in af.runs("newsroom_digest") if r["run_id"] in {rid for rid, _ in runs}]
        assert new and not ({r["logical_date"] for r in new} & had)
        assert {s for _, s in runs} == {"success"}, af.logs()
        new_days = {day_for_interval(r["start"], r["end"], TZ) for r in new}
        assert new_days == {date(2026, 4, 6), date(2026, 4, 10)}
        assert new_days <= set(_digests(settings))

        # 4. The operator adds an entity and reprocesses the range from the trigger form.
        entities_file.write_text(yaml.safe_dump(ENTITIES_AFTER))
        conf = {"since": "2026-04-07", "until": "2026-04-09", "re_extract": False,
                "re_dedup": True, "re_tag": True, "regenerate_digests": True}
        af.trigger("newsroom_reprocess", "operator_reprocess", conf)

        def reprocessed():
            ingest = {r["run_id"]: r["state"] for r in af.runs("newsroom_reprocess")}
            triggered = [r for r in af.runs("newsroom_digest") if r["run_id"].startswith("reprocess__")]
            if ingest.get("operator_reprocess") == "failed":
                raise AssertionError(f"reprocess run failed\n{af.logs()}")
            ok = ingest.get("operator_reprocess") == "success" and len(triggered) == 3 and \
                all(r["state"] in ("success", "failed") for r in triggered)
            return triggered if ok else None

        triggered = af.wait(reprocessed, 150, "the reprocess run and its digest runs")
        assert {r["state"] for r in triggered} == {"success"}, af.logs()
        assert sorted(r["conf"]["day"] for r in triggered) == [d.isoformat() for d in DAYS]
        with connect(settings.resolved_warehouse_url).connect() as c:
            items = c.execute(select(DigestItem.day, DigestItem.entities).where(DigestItem.day.in_(DAYS))).all()
            timeline = c.execute(select(EntityTimeline.day, EntityTimeline.line)
                                 .where(EntityTimeline.entity_id == "zephyr-labs")).all()
        assert {d for d, ents in items if any(e["id"] == "zephyr-labs" for e in ents or [])} == set(DAYS)
        assert {d for d, _ in timeline} == set(DAYS)
        zephyr = (vault / "entities" / "Zephyr Labs.md").read_text()
        assert all(f"[[{d.isoformat()}-AI-Digest]]" in zephyr for d in DAYS)
        assert "[[Zephyr Labs]]" in (vault / "digests" / "2026-04-08-AI-Digest.md").read_text()

        # 5. A backfill of newsroom_ingest is refused (the network only has today's feeds): red,
        # nothing changed, and the task log says to use newsroom_reprocess — which re-extracts.
        with connect(settings.resolved_warehouse_url).connect() as c:
            before = {r.id: (r.text, r.extraction_status, r.updated_at)
                      for r in c.execute(select(Article).where(Article.id.in_(ids.values())))}
            pending_before = c.execute(select(Article.id).where(Article.processed_at.is_(None))).all()
        runs = _backfill(af, "newsroom_ingest", "2026-04-06", "2026-04-06")
        assert runs and {s for _, s in runs} == {"failed"}, af.logs()
        states = dict(af.query("SELECT task_id, state FROM task_instance WHERE run_id = %s AND map_index = -1",
                               runs[0][0]))
        assert states["plan_sources"] == "failed" and states["summarize"] == "failed", states
        assert states["enrich"] == "failed" and states["feed_batches"] == "upstream_failed", states
        logs = [p.read_text(errors="replace") for p in (tmp_path / "airflow" / "logs").rglob("*.log")
                if "dag_id=newsroom_ingest" in str(p) and "task_id=plan_sources" in str(p)]
        assert any("does not backfill" in t and "newsroom_reprocess" in t for t in logs), logs
        tries = af.query("SELECT max(try_number) FROM task_instance WHERE run_id = %s", runs[0][0])[0][0]
        assert tries == 1  # refused, not retried
        with connect(settings.resolved_warehouse_url).connect() as c:
            after = {r.id: (r.text, r.extraction_status, r.updated_at)
                     for r in c.execute(select(Article).where(Article.id.in_(ids.values())))}
            assert c.execute(select(Article.id).where(Article.processed_at.is_(None))).all() == pending_before
        assert after == before

        af.trigger("newsroom_reprocess", "reprocess_5_april",
                   {"since": "2026-04-05", "until": "2026-04-05", "re_extract": True, "re_tag": True,
                    "re_dedup": True, "regenerate_digests": False})
        run = af.wait_run("newsroom_reprocess", "reprocess_5_april", 150)
        assert run["state"] == "success", af.logs()
        assert [t["task_id"] for t in af.task_instances("newsroom_reprocess", "reprocess_5_april")
                if t["task_id"] == "regenerate_digests" and t["state"] == "success"] == []
        with connect(settings.resolved_warehouse_url).connect() as c:
            arts = {r.id: r for r in c.execute(select(Article).where(Article.id.in_(ids.values())))}
        assert arts[ids["stale_in"]].extraction_status == "ok"
        assert "twelve evaluation suites" in arts[ids["stale_in"]].text
        assert arts[ids["stale_out"]].text == "Teaser."  # 3 April: outside the range

        # 6. Asset events carry day and counts, and the consumer ran on them.
        events = [e for e in asset_events(af, "newsroom_digests") if e["dag_id"] == "newsroom_digest"]
        by_day = {e["extra"].get("day"): e["extra"] for e in events}
        assert {d.isoformat() for d in DAYS} <= set(by_day)
        assert by_day["2026-04-08"]["articles"] == 2 and by_day["2026-04-08"]["beat"] == "AI"
        article_events = asset_events(af, "newsroom_articles")
        assert any(e["extra"].get("mode") == "reprocess" and e["extra"].get("days") == [d.isoformat() for d in DAYS]
                   and e["dag_id"] == "newsroom_reprocess" and e["extra"].get("since") == "2026-04-07"
                   for e in article_events)

        def consumer_ran():
            runs = af.runs("newsroom_consumer_example")
            return runs if runs and any(r["state"] == "success" for r in runs) else None

        consumer = af.wait(consumer_ran, 60, "the consumer example to run")
        assert {r["run_type"] for r in consumer} == {"asset_triggered"}
