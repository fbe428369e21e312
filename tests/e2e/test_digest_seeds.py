"""Done-when for the digest: the five seeds, as five outlets' articles of 8–9 April 2026, plus
unrelated corpus articles, driven through the real tagging and stories stages, give a digest for
9 April with one Muse Spark story citing five sources, and Meta / Muse Spark topic notes whose
timelines link to it; rerunning the day gives the same files and rows."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from newsroom.config import load_sources
from newsroom.config.sources import SourcesFile
from newsroom.digest.links import link_count, unresolved_links
from newsroom.pipeline.digest import build_daily_digest
from newsroom.pipeline.stories import process_articles
from newsroom.pipeline.tagging import tag_new_articles
from newsroom.warehouse.schema.digest import Digest, DigestItem, EntityTimeline
from tests.unit.digest import rows as R

UTC = timezone.utc
DAY = date(2026, 4, 9)
OUTLETS = ["Editorial Board", "Deeper Insights", "The Decoder", "Tech Brief", "AI Weekly"]


def _load_day(engine, seeds, corpus) -> tuple[set[int], set[int]]:
    seed_ids, other_ids = set(), set()
    first = datetime(2026, 4, 8, 18, tzinfo=UTC)  # 19:00 on 8 April in London … 07:00 on 9 April
    truth = json.loads((corpus / "extraction" / "ground-truth.json").read_text())
    with engine.begin() as c:
        for i, path in enumerate(sorted(seeds.glob("*.txt"))):
            title, _, body = path.read_text(encoding="utf-8").strip().partition("\n")
            seed_ids.add(R.add_article(c, f"https://seed-{i}.example/2026/04/muse-spark", outlet=OUTLETS[i],
                                       title=title.strip(), text=body.strip(),
                                       published_at=first + timedelta(hours=3 * i)))
        for j, rec in enumerate(sorted(truth.values(), key=lambda r: r["url"])[:12]):
            body = rec["articleBody"]
            other_ids.add(R.add_article(c, rec["url"], outlet=None, title=body.split(".")[0][:120], text=body,
                                        published_at=datetime(2026, 4, 9, 8, tzinfo=UTC) + timedelta(minutes=37 * j)))
    return seed_ids, other_ids


def _state(engine, vault):
    files = {str(p.relative_to(vault)): p.read_bytes() for p in sorted(vault.rglob("*.md"))}
    with engine.connect() as c:
        d = [{k: v for k, v in r._mapping.items() if k != "generated_at"} for r in c.execute(select(Digest))]
        items = [dict(r._mapping) for r in c.execute(select(DigestItem).order_by(DigestItem.rank))]
        tl = [dict(r._mapping) for r in c.execute(select(EntityTimeline).order_by(EntityTimeline.id))]
    return files, d, items, tl


def test_seed_day_digest_and_topic_notes(warehouse, settings, seeds, corpus):
    seed_ids, other_ids = _load_day(warehouse, seeds, corpus)
    assert tag_new_articles(settings)["articles"] == len(seed_ids) + len(other_ids)
    process_articles(warehouse)
    sources = SourcesFile.model_validate({"beat": "AI", "timezone": "Europe/London",
                                          "digest": {"top_n": 5, "hour": 6}})
    res = build_daily_digest(warehouse, DAY, settings=settings, sources=sources)
    vault = settings.output_dir
    note_path = vault / "digests" / "2026-04-09-AI-Digest.md"
    assert res["path"] == str(note_path.resolve())

    with warehouse.connect() as c:
        items = c.execute(select(DigestItem).order_by(DigestItem.rank)).all()
    muse = [i for i in items if {s["article_id"] for s in i.sources} & seed_ids]
    assert len(muse) == 1, "the five seeds are one story"
    story = muse[0]
    assert story.rank == 1 and story.featured
    assert {s["article_id"] for s in story.sources} == seed_ids  # five sources, nothing unrelated
    assert sorted(s["outlet"] for s in story.sources) == sorted(OUTLETS)
    assert {"meta", "muse-spark"} <= {e["id"] for e in story.entities if e["primary"]}
    assert "Muse Spark" in story.summary

    note = note_path.read_text()
    assert "## 1. " in note and "5 outlets · 5 sources" in note
    assert all(f"[{n}] " in note for n in range(1, 6))
    assert "[[Meta]]" in note and "[[Muse Spark]]" in note
    assert "14.3 billion" in note  # a key figure two outlets agree on

    for name in ("Meta", "Muse Spark"):
        topic = (vault / "entities" / f"{name}.md").read_text()
        assert "- [[2026-04-09-AI-Digest]] — " in topic, name
    assert "[[MOC - Major Companies]]" in (vault / "entities" / "Meta.md").read_text()
    assert "[[Meta]]" in (vault / "MOC - Major Companies.md").read_text()

    before = _state(warehouse, vault)
    build_daily_digest(warehouse, DAY, settings=settings, sources=sources)
    assert _state(warehouse, vault) == before


def _beat_sources() -> SourcesFile:
    """The shipped AI beat (its beat terms), five featured stories, London days."""
    from tests.conftest import PROJECT

    beat = load_sources(PROJECT / "include" / "newsroom" / "defaults" / "sources.yaml").digest
    return SourcesFile.model_validate({"beat": "AI", "timezone": "Europe/London",
                                       "digest": {"top_n": 5, "hour": 6, "beat_terms": beat.beat_terms}})


def test_two_seed_days_develop_one_story_on_the_beat_in_a_vault_that_links_up(warehouse, settings, seeds, corpus):
    seed_ids, other_ids = _load_day(warehouse, seeds, corpus)
    tag_new_articles(settings)
    process_articles(warehouse)
    sources = _beat_sources()
    for d in (date(2026, 4, 8), DAY):
        build_daily_digest(warehouse, d, settings=settings, sources=sources)
    vault = settings.output_dir
    with warehouse.connect() as c:
        items = c.execute(select(DigestItem).order_by(DigestItem.day, DigestItem.rank)).all()
    by_day = {d: [i for i in items if i.day == d] for d in (date(2026, 4, 8), DAY)}
    # one story, leading both days; on 9 April it cites all five outlets by name, canonical URLs
    for d, day_items in by_day.items():
        top = day_items[0]
        assert {s["article_id"] for s in top.sources} <= seed_ids and top.rank == 1, d
        assert all({s["article_id"] for s in i.sources}.isdisjoint(seed_ids) for i in day_items[1:]), d
    top = by_day[DAY][0]
    assert top.story_id == by_day[date(2026, 4, 8)][0].story_id
    assert sorted(s["outlet"] for s in top.sources) == sorted(OUTLETS)
    assert all(s["url"].startswith("https://seed-") for s in top.sources)
    assert not any(i.headline.startswith("Editorial_board") for i in items)
    # what 9 April added: the three seeds published that day, and a TL;DR drawn from them first
    assert sorted(s["n"] for s in top.sources if s["new"]) == [3, 4, 5]
    note = (vault / "digests" / "2026-04-09-AI-Digest.md").read_text()
    assert "first reported 8 April" in note and "**New today:** 3 sources — " in note
    tldr = next(ln for ln in note.splitlines() if ln.startswith("**TL;DR**"))
    assert "[3]" in tldr or "[4]" in tldr or "[5]" in tldr
    assert "\\*" not in tldr and "<" not in tldr
    # distinct Timeline lines day to day
    muse = (vault / "entities" / "Muse Spark.md").read_text()
    lines = [ln.split(" — ", 1)[1] for ln in muse.splitlines() if ln.startswith("- [[2026-04-0")]
    assert len(lines) == 2 and lines[0] != lines[1]
    # every ranked story is on the beat: the unrelated corpus pages name no tracked entity next to
    # the beat's vocabulary, so they are under "Elsewhere" or nowhere
    ranked_other = [i for i in items if {s["article_id"] for s in i.sources} & other_ids]
    for i in ranked_other:
        assert any(e["primary"] for e in i.entities), i.headline
    # the vault links up
    assert link_count(vault) > 10
    assert unresolved_links(vault) == []
