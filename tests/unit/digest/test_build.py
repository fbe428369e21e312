"""The digest stage on a real migrated warehouse (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from newsroom.config.sources import SourcesFile
from newsroom.digest.vault import VaultError
from newsroom.pipeline.digest import build_daily_digest
from newsroom.warehouse.schema.digest import Digest, DigestItem, EntityTimeline

from . import rows as R

UTC = timezone.utc
D = date(2026, 4, 9)
LONG = "Meta launched Muse Spark, its first model from Meta Superintelligence Labs, on Wednesday. "


def _text(i: int, topic: str) -> str:
    return (f"{topic} {LONG}The company said the model uses ten times less compute than Llama 4 Maverick. "
            f"Analysts at outlet {i} said Meta paid $14.3 billion for a 49% stake in Scale AI last year. "
            f"Muse Spark will reach WhatsApp and Instagram in the coming weeks, Meta said on its blog.")


@pytest.fixture
def day(warehouse):
    """A small day: one 3-outlet story, one single-article story, one loose undated article, a
    duplicate and an article of the next local day (both must be ignored)."""
    with warehouse.begin() as c:
        R.add_entity(c, "meta", "Meta", "company", categories=["MOC - Major Companies"], aliases=["Meta Platforms"],
                     description="Owner of Facebook, Instagram and WhatsApp.",
                     links={"website": "https://about.meta.com"})
        R.add_entity(c, "muse-spark", "Muse Spark", "model", parent_id="meta",
                     categories=["MOC - Frontier Models"], related=["llama"])
        R.add_entity(c, "llama", "Llama", "model-family", parent_id="meta", categories=["MOC - Open Source Models"])
        R.add_entity(c, "openai", "OpenAI", "lab", categories=["MOC - Major Companies"])
        a = R.add_article(c, "https://ars.example/muse", outlet="Ars Technica", title="Meta unveils Muse Spark",
                          text=_text(1, "Ars:"), published_at=datetime(2026, 4, 8, 20, tzinfo=UTC))
        b = R.add_article(c, "https://vb.example/muse", outlet="VentureBeat", title="Goodbye, Llama? Muse Spark",
                          text=_text(2, "VB:"), published_at=datetime(2026, 4, 9, 10, tzinfo=UTC))
        cc = R.add_article(c, "https://tc.example/muse", outlet="TechCrunch", title="Meta debuts Muse Spark",
                           text=_text(3, "TC:"), published_at=datetime(2026, 4, 9, 15, tzinfo=UTC))
        dup = R.add_article(c, "https://copy.example/muse", outlet="Copycat", title="Meta debuts Muse Spark",
                            text=_text(3, "TC:"), published_at=datetime(2026, 4, 9, 16, tzinfo=UTC), duplicate_of=cc)
        o = R.add_article(c, "https://oa.example/pro", outlet="The Verge", title="OpenAI offers a $100 Pro plan",
                          text="OpenAI launched a new ChatGPT Pro tier priced at $100 per month on Thursday. "
                               "The plan sits between the $20 Plus plan and the $200 tier, OpenAI said today.",
                          published_at=datetime(2026, 4, 9, 9, tzinfo=UTC))
        loose = R.add_article(c, "https://blog.example/post", outlet=None, title="A loose blog post",
                              text="Nothing tracked here at all, just words about gardening and tomatoes today. "
                                   "The tomatoes ripened late this year, and the beans were eaten by slugs "
                                   "before anyone noticed them.",
                              published_at=None, first_seen_at=datetime(2026, 4, 9, 12, tzinfo=UTC))
        nxt = R.add_article(c, "https://next.example/x", outlet="WIRED", title="Next day Meta news",
                            text=_text(9, "Next:"), published_at=datetime(2026, 4, 9, 23, 30, tzinfo=UTC))
        R.add_story(c, 100, [a, b, cc, dup], title="Meta debuts Muse Spark",
                    first=datetime(2026, 4, 8, 20, tzinfo=UTC), last=datetime(2026, 4, 9, 16, tzinfo=UTC))
        R.add_story(c, 200, [o], title="OpenAI offers a $100 Pro plan",
                    first=datetime(2026, 4, 9, 9, tzinfo=UTC), last=datetime(2026, 4, 9, 9, tzinfo=UTC))
        R.add_story(c, 300, [nxt], title="Next day Meta news",
                    first=datetime(2026, 4, 9, 23, 30, tzinfo=UTC), last=datetime(2026, 4, 9, 23, 30, tzinfo=UTC))
        for art in (a, b, cc, dup, nxt):
            R.tag(c, art, "meta", mentions=5, in_title=True, salience=0.9)
            R.tag(c, art, "muse-spark", mentions=4, in_title=art != b, salience=0.8)
        R.tag(c, b, "llama", mentions=1, in_title=True, salience=0.3)
        R.tag(c, o, "openai", mentions=3, in_title=True, salience=0.9)
        R.add_reddit(c, "1sfxlpj", article_id=b, url="https://vb.example/muse", subreddit="LocalLLaMA", score=1234,
                     comments=456, taken_at=datetime(2026, 4, 9, 20, tzinfo=UTC),
                     top_comments=[("alice", "RIP open weights [[pwned]] <b>x</b>", 300), ("bob", "meh", 50)])
        R.add_reddit(c, "1sfxlpj", article_id=b, url="https://vb.example/muse", subreddit="LocalLLaMA", score=9999,
                     comments=999, taken_at=datetime(2026, 4, 12, 20, tzinfo=UTC))  # long after: not used
    return {"a": a, "b": b, "c": cc, "dup": dup, "openai": o, "loose": loose, "next": nxt}


def _sources(top_n=1) -> SourcesFile:
    return SourcesFile.model_validate({
        "beat": "AI", "timezone": "Europe/London",
        "feeds": [{"name": f"f{i}", "url": f"https://f{i}.example/rss"} for i in range(3)],
        "reddit": {"subreddits": [{"name": "LocalLLaMA"}]},
        "digest": {"top_n": top_n, "hour": 6},
    })


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.md"))}


def _rows(engine):
    with engine.connect() as c:
        d = [dict(r._mapping) for r in c.execute(select(Digest).order_by(Digest.day))]
        for r in d:
            r.pop("generated_at")
        items = [dict(r._mapping) for r in c.execute(select(DigestItem).order_by(DigestItem.day, DigestItem.rank))]
        tl = [dict(r._mapping) for r in c.execute(
            select(EntityTimeline).order_by(EntityTimeline.day, EntityTimeline.entity_id, EntityTimeline.story_key))]
    return d, items, tl


def test_digest_rows_and_notes(warehouse, settings, day):
    res = build_daily_digest(warehouse, D, settings=settings, sources=_sources(top_n=1))
    assert res["articles"] == 4  # b, c, openai, loose (not a: previous local day; not dup; not next)
    # the loose gardening post names no tracked entity: off the beat, under "Elsewhere", not ranked
    assert res["stories"] == 2 and res["featured"] == 1 and res["also"] == 1 and res["elsewhere"] == 1
    vault = settings.output_dir
    note = (vault / "digests" / "2026-04-09-AI-Digest.md").read_text()
    assert res["path"] == str((vault / "digests" / "2026-04-09-AI-Digest.md").resolve())
    assert "Checked 3 feeds and 1 subreddits: 4 articles in 2 stories" in note
    assert "## 1. Meta debuts Muse Spark" in note
    # the story cites its three originals (incl. the previous evening's), oldest first; not the copy
    assert "[1] Ars Technica — [Meta unveils Muse Spark](https://ars.example/muse)" in note
    # the copy is no source of its own: credited as carrying TechCrunch's text
    assert "[3] TechCrunch" in note and "[4]" not in note and "also carried by 1 outlet (Copycat)" in note
    # a continuing story says what the day added, and repeats no figure the 8 April source gave
    assert "first reported 8 April" in note and "**New today:** 2 sources — VentureBeat, TechCrunch" in note
    assert "[2] VentureBeat — [Goodbye, Llama? Muse Spark](https://vb.example/muse) *(new)*" in note
    assert "**Key figures**" not in note
    assert "**Entities:** [[Meta]] · [[Muse Spark]]" in note
    assert "r/LocalLLaMA — 1,234 points · 456 comments" in note  # snapshot of the day, not 3 days later
    assert "RIP open weights \\[\\[pwned\\]\\] \\<b\\>x\\</b\\>" in note
    assert "## Also today" in note and "## Elsewhere\n\n- A loose blog post — blog.example" in note
    with warehouse.connect() as c:
        items = c.execute(select(DigestItem).order_by(DigestItem.rank)).all()
        assert [(i.rank, i.story_id, i.featured) for i in items] == [(1, 100, True), (2, 200, False)]
        assert [s["article_id"] for s in items[0].sources] == [day["a"], day["b"], day["c"]]
        assert items[0].summary_method == "extractive" and "Muse Spark" in items[0].summary
        tl = c.execute(select(EntityTimeline.entity_id, EntityTimeline.story_id)).all()
        assert sorted(tl) == [("meta", 100), ("muse-spark", 100)]  # llama: in one title of three sources
        d = c.execute(select(Digest)).one()
        assert (d.title, d.articles_count, d.stories_count, d.path) == (
            "2026-04-09-AI-Digest", 4, 2, "digests/2026-04-09-AI-Digest.md")
        assert d.markdown == note
    meta = (vault / "entities" / "Meta.md").read_text()
    assert ("- [[2026-04-09-AI-Digest]] — Meta debuts Muse Spark (first reported 8 April). "
            "New coverage: VentureBeat, TechCrunch.") in meta
    assert "[[Muse Spark]]" in meta and "[[MOC - Major Companies]]" in meta
    assert "Owner of Facebook" in meta and "[https://about.meta.com](https://about.meta.com)" in meta
    muse = (vault / "entities" / "Muse Spark.md").read_text()
    # related from the entities file, but Llama has no note: no link that would not resolve
    assert "**Part of:** [[Meta]]" in muse and "Llama" not in muse
    moc = (vault / "MOC - Major Companies.md").read_text()
    assert "[[Meta]] — 1 day in the digest, latest [[2026-04-09-AI-Digest]]" in moc
    assert "OpenAI" not in moc  # no topic note yet: a map of content lists only notes the vault has
    assert not (vault / "entities" / "OpenAI.md").exists()


def test_rerun_gives_same_rows_and_files(warehouse, settings, day):
    build_daily_digest(warehouse, D, settings=settings, sources=_sources(top_n=2))
    files1, rows1 = _snapshot(settings.output_dir), _rows(warehouse)
    build_daily_digest(warehouse, D, settings=settings, sources=_sources(top_n=2))
    assert _snapshot(settings.output_dir) == files1
    assert _rows(warehouse) == rows1
    # fewer featured stories: OpenAI leaves the timeline and its generated note goes with it
    assert (settings.output_dir / "entities" / "OpenAI.md").exists()
    res = build_daily_digest(warehouse, D, settings=settings, sources=_sources(top_n=1))
    assert res["notes_removed"] == 1 and not (settings.output_dir / "entities" / "OpenAI.md").exists()
    with warehouse.connect() as c:
        assert c.execute(select(EntityTimeline.entity_id).where(EntityTimeline.entity_id == "openai")).all() == []


def test_backfilling_days_in_any_order_gives_the_same_vault(warehouse, settings, day, tmp_path):
    days = [date(2026, 4, 8), D, date(2026, 4, 10)]
    vaults = []
    for order in (days, list(reversed(days))):
        with warehouse.begin() as c:
            for t in (Digest, DigestItem, EntityTimeline):
                c.execute(delete(t))
        out = tmp_path / f"vault-{len(vaults)}"
        s = settings.model_copy(update={"output_dir": out})
        for d in order:
            build_daily_digest(warehouse, d, settings=s, sources=_sources(top_n=3))
        vaults.append(out)
    a, b = _snapshot(vaults[0]), _snapshot(vaults[1])
    assert a == b and len(a) >= 6
    meta = (vaults[0] / "entities" / "Meta.md").read_text()
    lines = [ln for ln in meta.splitlines() if ln.startswith("- [[2026-04-")]
    assert [ln[4:25] for ln in lines] == ["2026-04-08-AI-Digest]", "2026-04-09-AI-Digest]", "2026-04-10-AI-Digest]"]
    # the next day's digest names the earlier Muse Spark story and links the notes that hold its days
    assert "**Related:** Meta debuts Muse Spark (9 April 2026) — see [[Meta]], [[Muse Spark]]" in (
        vaults[0] / "digests" / "2026-04-10-AI-Digest.md").read_text()


def test_failed_vault_write_rolls_back_the_day(warehouse, settings, day):
    settings.output_dir.mkdir(parents=True)
    (settings.output_dir / "entities").write_text("a file where the folder should be")
    with pytest.raises(VaultError):
        build_daily_digest(warehouse, D, settings=settings, sources=_sources())
    with warehouse.connect() as c:
        assert c.execute(select(Digest)).all() == [] and c.execute(select(DigestItem)).all() == []


def test_unwritable_output_dir_fails_before_touching_the_warehouse(warehouse, settings, day, tmp_path):
    (tmp_path / "blocker").write_text("")
    s = settings.model_copy(update={"output_dir": tmp_path / "blocker" / "vault"})
    with pytest.raises(VaultError, match="not writable"):
        build_daily_digest(warehouse, D, settings=s, sources=_sources())
    with warehouse.connect() as c:
        assert c.execute(select(Digest)).all() == []


def test_empty_day(warehouse, settings):
    res = build_daily_digest(warehouse, date(2020, 1, 1), settings=settings, sources=_sources())
    assert res["stories"] == 0
    assert "No stories today." in Path(res["path"]).read_text()


def test_llm_summary_is_used_cached_and_falls_back(warehouse, settings, day, replay_server):
    import json

    from newsroom.digest.llm import LLMConfig

    answer = "Meta launched Muse Spark, a closed model from its new Superintelligence Labs."
    status = {"code": 200}

    def chat(req):
        if status["code"] != 200:
            return status["code"], {"Content-Type": "application/json"}, b'{"error": "down"}'
        body = {"choices": [{"message": {"role": "assistant", "content": answer}}]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    replay_server.add("/v1/chat/completions", handler=chat)
    cfg = LLMConfig(base_url=replay_server.url("/v1"), model="m", api_key="k", timeout_s=5)
    res = build_daily_digest(warehouse, D, settings=settings, sources=_sources(), llm=cfg)
    assert res["summaries"] == {"llm": 1}
    note = (settings.output_dir / "digests" / "2026-04-09-AI-Digest.md").read_text()
    assert f"**TL;DR** {answer}" in note
    build_daily_digest(warehouse, D, settings=settings, sources=_sources(), llm=cfg)
    assert replay_server.hits("/v1/chat/completions") == 1  # cached by content
    status["code"] = 503
    other = LLMConfig(base_url=replay_server.url("/v1"), model="other-model", timeout_s=5)
    res = build_daily_digest(warehouse, D, settings=settings, sources=_sources(), llm=other)
    assert res["summaries"] == {"extractive": 1} and res["llm_errors"] == {"http_503": 1}
    with warehouse.connect() as c:
        assert c.execute(select(DigestItem.summary_method).where(DigestItem.rank == 1)).scalar() == "extractive"


def test_articles_of_a_merged_story_are_cited_under_the_surviving_story(warehouse, settings, day):
    with warehouse.begin() as c:
        late = R.add_article(c, "https://reg.example/muse", outlet="The Register", title="Meta's Muse Spark is closed",
                             text=_text(4, "Reg:"), published_at=datetime(2026, 4, 9, 18, tzinfo=UTC))
        R.tag(c, late, "meta", mentions=3, in_title=True, salience=0.9)
        R.add_story(c, 500, [late], title="Meta's Muse Spark is closed", first=datetime(2026, 4, 9, 18, tzinfo=UTC),
                    last=datetime(2026, 4, 9, 18, tzinfo=UTC), merged_into=100)
    build_daily_digest(warehouse, D, settings=settings, sources=_sources())
    with warehouse.connect() as c:
        top = c.execute(select(DigestItem).where(DigestItem.rank == 1)).one()
    assert top.story_id == 100
    assert [s["outlet"] for s in top.sources] == ["Ars Technica", "VentureBeat", "TechCrunch", "The Register"]
