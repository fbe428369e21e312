"""newsroom_reprocess run in-process (``dag.test()``) on SQLite and PostgreSQL: the form's
range is reworked from the raw captures, only that range, the same on a rerun; a bad form
fails the run with a clear message and changes nothing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml
from sqlalchemy import select

pytestmark = [pytest.mark.airflow]

UTC = timezone.utc
FULL = ("Anthropic published a long report on Tuesday describing how its models are evaluated before "
        "release. The report lists twelve evaluation suites and explains how each result feeds the release "
        "decision. Researchers outside the company welcomed the detail but asked for the raw evaluation data.")


def _page(title: str) -> bytes:
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in FULL.split(".") if s.strip())
    return (f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><article>"
            f"<h1>{title}</h1>{paragraphs}</article></body></html>").encode()


@pytest.fixture
def stale_articles(settings, tmp_path, monkeypatch, airflow_db):
    """Two articles whose stored text is a teaser while the capture holds the full page:
    one on 5 April (in the range below), one on 3 April (outside)."""
    from newsroom.captures import CaptureStore
    from newsroom.warehouse.captures import record_capture
    from newsroom.settings import get_settings
    from newsroom.warehouse import connect, upsert
    from newsroom.warehouse.schema import Article

    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"beat": "AI", "timezone": "UTC", "feeds": [], "reddit": {"subreddits": []}}))
    monkeypatch.setenv("NEWSROOM_SOURCES", str(sources))
    monkeypatch.setenv("NEWSROOM_EXTRACT_WORKERS", "1")
    get_settings.cache_clear()
    store = CaptureStore(settings.data_dir)
    ids = {}
    with connect(settings.resolved_warehouse_url).begin() as c:
        for key, at in (("in", datetime(2026, 4, 5, 12, tzinfo=UTC)), ("out", datetime(2026, 4, 3, 12, tzinfo=UTC))):
            url = f"https://gamma.example/{key}"
            cap = record_capture(c, store, _page("Anthropic report"), kind="page", url=url, status=200,
                                 content_type="text/html")
            ids[key] = upsert(c, Article, [{
                "canonical_url": url, "url": url, "outlet": "Gamma", "title": "Anthropic report", "text": "Teaser.",
                "word_count": 1, "published_at": at, "first_seen_at": at, "extraction_status": "feed_content",
                "extraction_reason": "http_503", "origin": "feed", "capture_id": cap, "updated_at": at}],
                keys=["canonical_url"], returning=["id"])[0][0]
    yield ids
    get_settings.cache_clear()


def _run(conf: dict):
    from airflow.dag_processing.dagbag import DagBag

    from tests.airflow_env import PROJECT

    dag = DagBag(dag_folder=str(PROJECT / "dags" / "newsroom_reprocess.py")).dags["newsroom_reprocess"]
    return dag.test(run_conf=conf)


def _texts(settings, ids) -> dict:
    from newsroom.warehouse import connect
    from newsroom.warehouse.schema import Article

    with connect(settings.resolved_warehouse_url).connect() as c:
        return {r.id: (r.text, r.extraction_status)
                for r in c.execute(select(Article).where(Article.id.in_(list(ids.values()))))}


def _states(run) -> dict:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def test_reprocess_dag_re_extracts_its_range_only_and_reruns_the_same(settings, stale_articles):
    conf = {"since": "2026-04-05", "until": "2026-04-05", "re_extract": True, "re_tag": True, "re_dedup": True,
            "regenerate_digests": False}
    run = _run(conf)
    assert run.state == "success", _states(run)
    texts = _texts(settings, stale_articles)
    assert texts[stale_articles["in"]][1] == "ok" and "twelve evaluation suites" in texts[stale_articles["in"]][0]
    assert texts[stale_articles["out"]] == ("Teaser.", "feed_content")  # 3 April: outside the range
    assert _states(run)["regenerate_digests"] == "skipped"  # no days requested, nothing triggered
    again = _run(conf)
    assert again.state == "success" and _texts(settings, stale_articles) == texts


@pytest.mark.parametrize("conf, words", [
    ({"since": "2026-04-05"}, "needs both 'since' and 'until'"),
    ({"since": "2026-04-06", "until": "2026-04-05"}, "is before 'since'"),
])
def test_a_bad_form_fails_the_run_and_changes_nothing(settings, stale_articles, conf, words, capfd):
    before = _texts(settings, stale_articles)
    run = _run(conf)
    assert run.state == "failed" and _states(run)["reprocess"] == "failed"
    out, err = capfd.readouterr()  # the task log goes to the console under dag.test()
    assert words in out + err
    assert _texts(settings, stale_articles) == before
