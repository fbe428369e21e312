"""Every feed of the shared corpus parses with the outcome the corpus README documents.

The expected format and entry count of each file are read from
``corpus/README.md`` (the ``[rss20, 55 entries]`` notes), so a file added to the
corpus without a documented outcome fails here instead of being skipped.
"""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path

import pytest

from newsroom.feeds.parse import parse_feed

pytestmark = pytest.mark.corpus

_DOC_LINE = re.compile(r"^\* `(?P<path>(?:malformed/)?[^`]+\.xml)` — .*?\[(?P<fmt>[^,\]]*), (?P<n>\d+) entries")

# Malformed files: what must come out, beyond the documented entry count.
MALFORMED = {
    "reuters_truncated_server_exception_2020.xml": ("error", "malformed_feed: SAXParseException"),
    "sixcolors_homepage_html.xml": ("error", "not_a_feed: an HTML page"),
    "DERIVED_guardian_truncated_mid_item.xml": ("warning", "SAXParseException"),
    "le_cercle_psy_undeclared_iso8859-1_2018.xml": ("warning", "encoding: bytes are not valid UTF-8"),
    "fcutrecht_phpxml_prolog_2021.xml": ("clean", None),
    "dont_hit_save_bom_2019.xml": ("clean", None),
    "tablix_atom_wrapped_in_xhtml_2014.xml": ("clean", None),
    "russcox_huge_entries_atom_2019.xml": ("clean", None),
    "touchnokia_pathological_css_atom_2009.xml": ("clean", None),
}


def documented(corpus: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for line in (corpus / "README.md").read_text(encoding="utf-8").splitlines():
        m = _DOC_LINE.match(line)
        if m:
            out[m["path"]] = (m["fmt"].strip(), int(m["n"]))
    return out


def feed_files(corpus: Path) -> list[str]:
    root = corpus / "feeds"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.xml"))


def test_every_corpus_feed_is_documented(corpus):
    files = feed_files(corpus)
    docs = documented(corpus)
    assert len(files) >= 40
    assert sorted(set(files) - set(docs)) == []


def test_corpus_feeds_parse_with_documented_outcome(corpus):
    docs = documented(corpus)
    for rel in feed_files(corpus):
        body = (corpus / "feeds" / rel).read_bytes()
        fmt, count = docs[rel]
        parsed = parse_feed(body, url=f"https://feeds.example.org/{rel}")
        name = Path(rel).name
        assert len(parsed.entries) == count, rel
        if fmt != "not a feed":
            assert parsed.format == fmt, rel
        kind, text = MALFORMED.get(name, ("clean", None))
        if kind == "error":
            assert parsed.error and parsed.error.startswith(text), (rel, parsed.error)
            assert parsed.entries == []
        else:
            assert parsed.error is None, (rel, parsed.error)
        if kind == "warning":
            assert parsed.warning and text in parsed.warning, (rel, parsed.warning)
        if kind == "clean":
            assert parsed.warning is None, (rel, parsed.warning)
        for e in parsed.entries:
            assert e.guid
            assert e.url is None or e.url.startswith(("http://", "https://"))
            assert e.published_at is None or e.published_at.tzinfo is not None
            assert e.published_at is None or e.published_at.utcoffset() == timezone.utc.utcoffset(None)
            assert e.title is None or "<" not in e.title or not re.search(r"<[a-z/][^>]*>", e.title)
        # Guids identify entries within a feed.
        assert len({e.guid for e in parsed.entries}) == len(parsed.entries), rel


def test_html_page_served_as_feed_points_at_its_feed(corpus):
    parsed = parse_feed((corpus / "feeds/malformed/sixcolors_homepage_html.xml").read_bytes(),
                        url="https://sixcolors.com/")
    assert parsed.error.startswith("not_a_feed")
    assert parsed.discovered_feeds == ["http://feedpress.me/sixcolors"]
    assert "feedpress.me/sixcolors" in parsed.error


def test_truncated_feed_keeps_entries_before_the_cut(corpus):
    whole = parse_feed((corpus / "feeds/guardian_rss2_2018.xml").read_bytes(), url="https://www.theguardian.com/")
    cut = parse_feed((corpus / "feeds/malformed/DERIVED_guardian_truncated_mid_item.xml").read_bytes(),
                     url="https://www.theguardian.com/")
    assert [e.guid for e in cut.entries] == [e.guid for e in whole.entries][: len(cut.entries)]
    assert "no element found" in cut.warning


@pytest.mark.parametrize(
    ("rel", "needle"),
    [
        ("golem_de_iso8859-1_rss2_2018.xml", "ü"),
        ("ibash_org_ru_windows1251_rss2_2018.xml", "Цитата"),
        ("kc0011_gb2312_rss2_2020.xml", "纪念"),
        ("malformed/le_cercle_psy_undeclared_iso8859-1_2018.xml", "é"),
    ],
)
def test_non_utf8_feeds_decode(corpus, rel, needle):
    parsed = parse_feed((corpus / "feeds" / rel).read_bytes(), url="https://example.org/feed")
    text = " ".join(f"{e.title} {e.summary}" for e in parsed.entries)
    assert needle in text
    assert "\ufffd" not in text
    assert "Ã" not in text  # UTF-8 read as Latin-1


def test_dates_feedparser_gets_wrong_or_cannot_read(corpus):
    kc = parse_feed((corpus / "feeds/kc0011_gb2312_rss2_2020.xml").read_bytes(), url="http://www.kc0011.net/")
    # "2020/1/10 14:33:00": feedparser alone reads it as 2020-11-01.
    assert kc.entries[0].published_at.isoformat() == "2020-01-10T14:33:00+00:00"
    med = parse_feed((corpus / "feeds/medscape_family_medicine_rss2_2025.xml").read_bytes(),
                     url="https://www.medscape.com/")
    # "Wed, 5 Nov 2025 13:52:10  EST" is 18:52 UTC.
    assert med.entries[0].published_at.isoformat() == "2025-11-05T18:52:10+00:00"


def test_entry_fields_from_real_feeds(corpus):
    hn = parse_feed((corpus / "feeds/hacker_news_rss2_2022.xml").read_bytes(), url="https://news.ycombinator.com/rss")
    assert all(e.comments_url and e.comments_url.startswith("https://news.ycombinator.com/item?id=")
               for e in hn.entries)
    gt = parse_feed((corpus / "feeds/google_testing_blog_atom_2017.xml").read_bytes(),
                    url="http://testing.googleblog.com/feeds/posts/default")
    first = gt.entries[0]
    # The feedburner tracking link is replaced by the original article URL.
    assert first.url == "http://testing.googleblog.com/2017/09/code-health-providing-context-with.html"
    assert first.guid.startswith("tag:blogger.com")
    assert first.content and "<" in first.content  # full HTML content kept
    assert first.summary and "<" not in first.summary  # summary is plain text
    assert "Code Health" in first.tags
    assert first.author == "Google Testing Bloggers"
    dcr = parse_feed((corpus / "feeds/dcrainmaker_rss2_2017.xml").read_bytes(), url="https://www.dcrainmaker.com/feed")
    assert all(len(e.content or "") > 1000 for e in dcr.entries)  # content:encoded
