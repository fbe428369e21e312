"""Figures reach the digest and the topic notes: a story names Meta's headline figure once,
seed-style, with its weekly change; Meta's note gets a Figures section; a figure observed after
the digest's day is not used (backfills render what was known then); a stale one is dropped
from stories and dated in the note. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from newsroom.pipeline.digest import build_daily_digest
from newsroom.warehouse.metrics import save_observations
from newsroom.warehouse.schema.base import utcnow
from tests.unit.digest.test_build import D, _sources, day  # noqa: F401  (the digest's day fixture)


def _obs(day_, value, metric="stars", entity="meta", subject="facebook/react"):
    return {"entity_id": entity, "service": "github", "subject": subject, "metric": metric, "day": day_,
            "value": value, "value_text": None, "status": "ok", "reason": None, "link": "facebook/react",
            "source_url": f"https://api.github.com/repos/{subject}", "run_id": "t", "observed_at": utcnow()}


def test_figures_in_the_story_and_the_topic_note(warehouse, settings, day):  # noqa: F811
    save_observations(warehouse, [_obs(D - timedelta(days=7), 230_000), _obs(D, 231_250),
                                  _obs(D + timedelta(days=1), 999_999)])  # the day after: never shown for D
    build_daily_digest(warehouse, D, settings=settings, sources=_sources(top_n=1))
    vault = settings.output_dir
    digest = (vault / "digests" / "2026-04-09-AI-Digest.md").read_text()
    assert "**Entities:** [[Meta]] (231,250 GitHub stars, +1.2k this week) · [[Muse Spark]]" in digest
    assert digest.count("231,250") == 1 and "999,999" not in digest
    note = (vault / "entities" / "Meta.md").read_text()
    assert "## Figures" in note and "| 231,250 | +1.2k |" in note and "2026-04-09" in note
    assert note.index("## Figures") < note.index("## See also")
    assert "github_stars: 231250" in note.split("\n---", 1)[0]


def test_stale_figures_are_dated_in_the_note_and_left_out_of_the_story(warehouse, settings, day):  # noqa: F811
    save_observations(warehouse, [_obs(date(2026, 3, 1), 200_000)])
    build_daily_digest(warehouse, D, settings=settings, sources=_sources(top_n=1))
    digest = (settings.output_dir / "digests" / "2026-04-09-AI-Digest.md").read_text()
    assert "GitHub stars" not in digest
    note = (settings.output_dir / "entities" / "Meta.md").read_text()
    assert "as of 2026-03-01 (stale)" in note


def test_without_figures_the_notes_are_unchanged(warehouse, settings, day):  # noqa: F811
    build_daily_digest(warehouse, D, settings=settings, sources=_sources(top_n=1))
    note = (settings.output_dir / "entities" / "Meta.md").read_text()
    assert "## Figures" not in note and "github_stars" not in note
