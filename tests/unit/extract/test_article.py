"""extract_article: text as good as trafilatura's defaults, metadata, outcomes, fuzz."""

from __future__ import annotations

import json
from datetime import date, timezone

import pytest
import trafilatura
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.extraction_metric import score_corpus
from newsroom.extract import article as article_mod
from newsroom.extract.article import MIN_ARTICLE_WORDS, extract_article
from newsroom.records import Extraction
from tests.unit.extract.pages import FEED_CONTENT, NAV_ONLY, PARAGRAPHS, article_page

URL = "https://daily.example/news/tram?utm_source=feed"


# ------------------------------------------------------------------ real pages

@pytest.fixture(scope="module")
def benchmark_sample(corpus):
    """Every 8th page of the extraction benchmark (16 pages) with its ground truth."""
    root = corpus / "extraction"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)[::8]
    return [(truth[i]["url"], (root / "html" / f"{i}.html").read_bytes(), truth[i]["articleBody"]) for i in ids]


@pytest.mark.corpus
def test_text_is_at_least_as_good_as_trafilatura_defaults(benchmark_sample):
    direct, ours = [], []
    for url, html, truth in benchmark_sample:
        direct.append((trafilatura.extract(html), truth))
        ex = extract_article(html, url)
        assert ex.status == "ok", (url, ex.reason)
        ours.append((ex.text, truth))
    f1_direct, f1_ours = score_corpus(direct).f1, score_corpus(ours).f1
    assert f1_ours >= f1_direct
    assert f1_ours > 0.85  # sanity: the sample really is extractable


@pytest.mark.corpus
def test_metadata_from_real_pages(benchmark_sample):
    results = [extract_article(html, url) for url, html, _ in benchmark_sample]
    assert sum(bool(r.title) for r in results) == len(results)
    dated = [r.published_at for r in results if r.published_at]
    assert len(dated) >= len(results) * 0.8
    assert all(d.tzinfo is not None and d.utcoffset().total_seconds() == 0 for d in dated)
    assert all(r.canonical_url and r.canonical_url.startswith("http") for r in results)
    assert sum(bool(r.language) for r in results) >= len(results) * 0.6
    assert sum(bool(r.sitename) for r in results) >= len(results) * 0.8


@pytest.mark.corpus
def test_trafilatura_regression_pages_metadata(corpus):
    """Titles and dates on trafilatura's own pages agree with its evaldata where given."""
    root = corpus / "extraction" / "trafilatura"
    evaldata = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    with_meta = {u: m for u, m in evaldata.items() if m.get("title") and m.get("date")}
    assert len(with_meta) >= 10
    title_ok = date_ok = author_ok = authored = 0
    for url, meta in sorted(with_meta.items()):
        ex = extract_article((root / "html" / meta["file"]).read_bytes(), url)
        assert ex.status == "ok", (url, ex.reason)
        title_ok += bool(ex.title) and (meta["title"] in ex.title or ex.title in meta["title"])
        # Dates are calendar days in the page's own zone; UTC may shift them by one.
        date_ok += bool(ex.published_at) and abs(
            (ex.published_at.date() - date.fromisoformat(meta["date"][:10])).days) <= 1
        if meta.get("author"):
            authored += 1
            author_ok += bool(ex.author) and meta["author"].split()[-1].lower() in ex.author.lower()
    assert title_ok >= len(with_meta) * 0.8
    assert date_ok >= len(with_meta) * 0.8
    assert author_ok >= authored * 0.6


# ------------------------------------------------------------------ metadata on hand-made pages

def test_metadata_fields():
    head = ('<link rel="canonical" href="/news/tram">'
            '<meta property="article:published_time" content="2024-03-05T10:15:00+02:00">'
            '<meta name="author" content="Jane Doe">'
            '<meta name="description" content="Four new tram lines.">'
            '<meta property="og:site_name" content="The Daily Example">')
    ex = extract_article(article_page(head=head, lang="de-AT"), URL)
    assert ex.status == "ok" and ex.reason is None
    assert ex.title == "Council approves tram network expansion"
    assert ex.author == "Jane Doe"
    assert ex.published_at.isoformat() == "2024-03-05T08:15:00+00:00"
    assert ex.published_at.tzinfo == timezone.utc
    assert ex.description == "Four new tram lines."
    assert ex.sitename == "The Daily Example"
    assert ex.language == "de"
    assert ex.canonical_url == "https://daily.example/news/tram"
    for p in PARAGRAPHS:
        assert p in ex.text
    assert "All rights reserved" not in ex.text


def test_byline_search_in_the_body_only_when_the_source_named_no_author():
    def page(head=""):
        html = article_page(head=head).decode()
        return html.replace("<main><article>", '<main><article><p class="byline">By Ann Lee-Smith</p>').encode()

    found = extract_article(page(), URL)
    assert found.author == "Ann Lee-Smith"
    skipped = extract_article(page(), URL, need_author=False)  # the feed named the author
    assert skipped.author is None
    # the rest of the record is the same: the search runs last, after text and metadata
    assert skipped.model_dump(exclude={"author"}) == found.model_dump(exclude={"author"})
    # the meta tags' author costs nothing and is still read
    assert extract_article(page('<meta name="author" content="Jane Doe">'), URL, need_author=False).author == "Jane Doe"


def test_canonical_from_og_url_and_absolute_link():
    ex = extract_article(article_page(head='<meta property="og:url" content="https://daily.example/og">'), URL)
    assert ex.canonical_url == "https://daily.example/og"
    ex = extract_article(article_page(head='<link href="https://other.example/c" rel=canonical>'), URL)
    assert ex.canonical_url == "https://other.example/c"


def test_date_without_zone_is_taken_as_utc():
    head = '<meta property="article:published_time" content="2024-03-05">'
    ex = extract_article(article_page(head=head), URL)
    assert ex.published_at.isoformat() == "2024-03-05T00:00:00+00:00"


def test_declared_legacy_charset():
    page = article_page(paragraphs=[p.replace("euros", "€ – Größe") for p in PARAGRAPHS], charset="windows-1252")
    ex = extract_article(page, URL)
    assert "€ – Größe" in ex.text


# ------------------------------------------------------------------ outcomes

def test_empty_body_without_and_with_fallback():
    assert (extract_article(b"", URL).status, extract_article(b"", URL).reason) == ("failed", "empty_body")
    ex = extract_article(b"  \n", URL, feed_fallback=FEED_CONTENT)
    assert (ex.status, ex.reason) == ("feed_content", "empty_body")
    assert ex.text.startswith(PARAGRAPHS[0]) and "<" not in ex.text
    assert "\n\n" in ex.text  # paragraphs kept apart


@pytest.mark.parametrize("body", [b"\x89PNG\r\n\x1a\n" + bytes(range(256)), b"%PDF-1.7\n%\xe2\xe3", b"just words, no markup",
                                  b'{"json": true}'])
def test_not_html(body):
    ex = extract_article(body, URL)
    assert (ex.status, ex.reason) == ("failed", "not_html")


def test_no_text_extracted():
    page = b"<html><head><title>Empty</title></head><body><div><img src='x.png'></div></body></html>"
    ex = extract_article(page, URL)
    assert (ex.status, ex.reason) == ("failed", "no_text_extracted")
    assert ex.title == "Empty"  # metadata is kept even when the text is not
    ex = extract_article(page, URL, feed_fallback=FEED_CONTENT)
    assert (ex.status, ex.reason) == ("feed_content", "no_text_extracted")


def test_teaser_page_falls_back_to_longer_feed_content():
    teaser = article_page(paragraphs=["Only subscribers can read the rest of this story. Subscribe now."])
    ex = extract_article(teaser, URL, feed_fallback=FEED_CONTENT)
    assert ex.status == "feed_content"
    assert ex.reason.startswith("page_text_too_short: ")
    assert int(ex.reason.split(": ")[1].split()[0]) < MIN_ARTICLE_WORDS
    assert PARAGRAPHS[3] in ex.text
    assert ex.title == "Council approves tram network expansion"  # page metadata still used
    # Without a fallback the short text is all there is, and it is kept.
    alone = extract_article(teaser, URL)
    assert alone.status == "ok" and "subscribers" in alone.text
    # A paywall page with nothing but navigation, too.
    assert extract_article(NAV_ONLY, URL, feed_fallback=FEED_CONTENT).status == "feed_content"


def test_full_page_wins_over_feed_content():
    ex = extract_article(article_page(), URL, feed_fallback="<p>A two line summary from the feed.</p>")
    assert ex.status == "ok" and PARAGRAPHS[2] in ex.text


def test_short_feed_content_does_not_replace_short_page():
    teaser = article_page(paragraphs=["A short note of twelve words about the tram network vote today."])
    ex = extract_article(teaser, URL, feed_fallback="<p>Tram vote.</p>")
    assert ex.status == "ok"


def test_extractor_crash_is_recorded_not_raised(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("lxml exploded")

    monkeypatch.setattr(article_mod, "page_text", boom)
    ex = extract_article(article_page(), URL)
    assert ex.status == "failed" and ex.reason == "extractor_error: RuntimeError: lxml exploded"
    ex = extract_article(article_page(), URL, feed_fallback=FEED_CONTENT)
    assert ex.status == "feed_content" and ex.reason.startswith("extractor_error")


# ------------------------------------------------------------------ fuzz

_HTML_PIECES = st.sampled_from([
    b"<html>", b"</html>", b"<head>", b"<body>", b"<p>", b"</p>", b"<div class='content'>", b"</div>", b"<article>",
    b"<script>var x = '</p>';</script>", b"<style>p{}</style>", b"<!--", b"-->", b"<![CDATA[", b"]]>",
    b'<meta charset="utf-16">', b'<meta charset="bogus">', b"<meta http-equiv='refresh' content='0;url=x'>",
    b'<link rel="canonical" href="javascript:alert(1)">', b'<link rel=canonical href="//x">', b"<table><tr><td>",
    b"&nbsp;", b"&#0;", b"&#x110000;", b"\x00", b"\xff\xfe", b"\xc3\x28", b"<time datetime='9999-99-99'>",
    b'<meta property="article:published_time" content="2024-02-30T25:61:00+99:00">', b"<html lang='zz-'>",
    PARAGRAPHS[0].encode(), PARAGRAPHS[1].encode(), b"<svg><p>", b"<math>", b"<template>", b"<frameset>",
])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    html=st.one_of(st.binary(max_size=3000), st.lists(_HTML_PIECES | st.binary(max_size=30), max_size=60).map(b"".join)),
    fallback=st.none() | st.text(max_size=300),
)
def test_fuzzed_html_never_raises(html, fallback):
    ex = extract_article(html, "https://fuzz.example/a", feed_fallback=fallback)
    Extraction.model_validate(ex.model_dump())
    assert ex.status in ("ok", "feed_content", "failed")
    assert (ex.status == "ok") == (ex.reason is None)
    if ex.status != "failed":
        assert ex.text
    assert ex.published_at is None or ex.published_at.tzinfo is not None
    assert ex.canonical_url is None or ex.canonical_url.startswith(("http://", "https://"))
