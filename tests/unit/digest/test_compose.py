"""Composition rules on records: prose, attribution, relevance, headlines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from newsroom.digest.attribution import citable, outlet_name, story_sources
from newsroom.digest.compose import headline
from newsroom.digest.records import ArticleRow, ArticleTag, StoryBundle
from newsroom.digest.relevance import story_entities, story_relevance
from newsroom.digest.text import prose

UTC = timezone.utc
T0 = datetime(2026, 4, 9, 8, tzinfo=UTC)
WINDOW = (datetime(2026, 4, 8, 23, tzinfo=UTC), datetime(2026, 4, 9, 23, tzinfo=UTC))
BODY = ("Meta released Muse Spark, a new AI model from its superintelligence lab, on Wednesday. "
        "The language model is closed, and developers can reach it only through a private API preview. ") * 3
TERMS = ("AI", "language model", "superintelligence")


def art(i, *, outlet="Ars Technica", title="Meta launches Muse Spark today", text=BODY, at=T0, **kw) -> ArticleRow:
    url = kw.pop("url", f"https://o{i}.example/a")
    return ArticleRow(id=i, url=url, canonical_url=kw.pop("canonical_url", url), outlet=outlet, title=title, text=text,
                      description=None, published_at=at, first_seen_at=at, **kw)


def test_prose_reduces_reddit_markdown_and_html():
    assert prose("**Muse Spark** is *out* &amp; <b>free</b> — [post](https://x.example/a_(b))") == \
        "Muse Spark is out & free — post"
    assert prose(r"snake_case stays, \*literal\* stars stay") == "snake_case stays, *literal* stars stay"


def test_outlet_is_a_name_never_a_bare_host_when_one_is_known():
    assert outlet_name(art(1, outlet="127.0.0.1")) == "o1.example"  # no name known: the host
    assert outlet_name(art(1, outlet="127.0.0.1", sitename="Deeper Insights")) == "Deeper Insights"
    assert outlet_name(art(1, outlet="The Decoder", sitename="decoder")) == "The Decoder"


def test_sources_cite_the_first_publisher_at_its_canonical_url_and_skip_empty_pages():
    orig = art(1, outlet="TechCrunch", url="https://tc.example/a?utm_source=x", canonical_url="https://tc.example/a")
    wire = art(2, outlet="Wire", at=T0 - timedelta(hours=1), duplicate_of=None)
    empty = art(3, outlet="Papers", text="", title="Model card (PDF)")
    b = StoryBundle("1", 1, None, [orig, empty], {1, 3}, copies={1: [art(4, outlet="Wire", at=T0 + timedelta(hours=1))]})
    srcs = story_sources(b, WINDOW)
    assert [(s.outlet, s.url, s.also_carried_by) for s in srcs] == [("TechCrunch", "https://tc.example/a", ["Wire"])]
    assert not citable(empty) and citable(wire)
    # the copy published first is the original: credited, the later one listed as a copy
    b2 = StoryBundle("2", 2, None, [orig], {1}, copies={1: [wire]})
    assert [(s.outlet, s.also_carried_by) for s in story_sources(b2, WINDOW)] == [("Wire", ["TechCrunch"])]


def _tags(a, eid, name, mentions, in_title, salience):
    return ArticleTag(a.id, eid, mentions, in_title, salience, name, "company", [])


def test_a_strong_entity_without_the_beat_vocabulary_is_off_the_beat():
    rainforest = art(1, title="The Amazon Is on Fire",
                     text="The Amazon burned for weeks. Farmers cleared land in the Amazon as rivers fell. " * 4)
    ents = story_entities([rainforest], {1: [_tags(rainforest, "amazon", "Amazon", 3, True, 0.8)]})
    assert ents[0].primary
    assert not story_relevance([rainforest], ents, beat_terms=TERMS).on_beat
    assert story_relevance([rainforest], ents).on_beat  # no beat terms configured: entities decide
    muse = art(2)
    ents = story_entities([muse], {2: [_tags(muse, "meta", "Meta", 3, True, 0.8)]})
    assert story_relevance([muse], ents, beat_terms=TERMS).on_beat


def test_one_weak_mention_does_not_make_a_story_about_an_entity():
    a, b = art(1), art(2)
    tags = {1: [_tags(a, "instagram", "Instagram", 1, False, 0.3)], 2: [_tags(b, "instagram", "Instagram", 1, False, 0.3)]}
    (ent,) = story_entities([a, b], tags)
    assert not ent.strong and not ent.primary


def test_headline_is_an_articles_not_a_reddit_post_title():
    post = art(1, title="Meta new reasoning model Muse Spark launches today", origin="reddit")
    a = art(2, title="Meta debuts the Muse Spark model in a ground-up overhaul")
    b = art(3, title="Meta launches Muse Spark, its first proprietary model")
    bundle = StoryBundle("1", 1, "Meta new reasoning model Muse Spark", [post, a, b], {1, 2, 3})
    h = headline(bundle, story_sources(bundle, WINDOW))
    assert h in {a.title, b.title}
