"""XML bombs, external entities, wrong charsets and fuzzed bytes: parse_feed refuses or
recovers, never reads local files, never blows up memory, never raises."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsroom.feeds.parse import choose_encoding, parse_feed
from newsroom.records import ParsedFeed

ITEM = "<item><title>{title}</title><link>https://example.org/a</link></item>"


def rss(items: str, prolog: str = "", decl: str = '<?xml version="1.0"?>') -> str:
    return f'{decl}\n{prolog}\n<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


def billion_laughs() -> bytes:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)
    ]
    return rss(ITEM.format(title="&lol9;"), "<!DOCTYPE lolz [\n" + "\n".join(levels) + "\n]>").encode()


def quadratic_blowup() -> bytes:
    return rss(ITEM.format(title="&a;" * 20000), f'<!DOCTYPE r [\n<!ENTITY a "{"A" * 20000}">\n]>').encode()


def external_entity(path: Path) -> bytes:
    return rss(ITEM.format(title="&x;"), f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{path}">]>').encode()


@pytest.fixture
def secret(tmp_path) -> Path:
    p = tmp_path / "secret.txt"
    p.write_text("TOPSECRET-42")
    return p


def _bounded(fn):
    """Run fn and return (result, seconds, extra max-RSS in MB)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


@pytest.mark.parametrize("make", [billion_laughs, quadratic_blowup], ids=["billion_laughs", "quadratic_blowup"])
def test_entity_expansion_bombs_are_refused(make):
    parsed, seconds, extra_mb = _bounded(lambda: parse_feed(make(), url="https://example.org/feed"))
    assert parsed.error.startswith("xml_entities_refused")
    assert parsed.entries == []
    assert seconds < 5 and extra_mb < 100


def test_external_entity_is_refused_and_file_not_read(secret):
    parsed = parse_feed(external_entity(secret), url="https://example.org/feed")
    assert parsed.error.startswith("xml_entities_refused")
    assert "TOPSECRET" not in parsed.model_dump_json()


def test_external_parameter_entity_is_refused(secret):
    doc = rss(ITEM.format(title="x"), f'<!DOCTYPE r [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>').encode()
    assert parse_feed(doc, url="https://example.org/feed").error.startswith("xml_entities_refused")


def test_entities_hidden_behind_markup_in_the_dtd_are_still_seen():
    # A '<x' inside a DTD comment ends the head feedparser scans, but expat still
    # honours the declaration after it: the expat pass must catch it.
    doc = rss(ITEM.format(title="&a;"), '<!DOCTYPE r [ <!-- <x> --> <?pi <y ?>\n<!ENTITY a "AAAA">]>').encode()
    assert parse_feed(doc, url="https://example.org/feed").error.startswith("xml_entities_refused")


def test_entities_in_a_dtd_expat_cannot_parse_are_still_seen():
    # expat stops at <!BOGUS> before the declaration; feedparser's loose parser
    # would still receive the entity from its own DOCTYPE rewriting.
    doc = rss(ITEM.format(title="&a;"), '<!DOCTYPE r [ <!BOGUS>\n<!ENTITY a "AAAA">\n]>').encode()
    assert parse_feed(doc, url="https://example.org/feed").error.startswith("xml_entities_refused")


@pytest.mark.parametrize("encoding", ["utf-16", "gb2312", "utf-8-sig"])
def test_entities_are_seen_in_any_encoding(encoding):
    decl = f'<?xml version="1.0" encoding="{encoding.replace("-sig", "")}"?>'
    doc = rss(ITEM.format(title="&a;中"), '<!DOCTYPE r [\n<!ENTITY a "AAAA">\n]>', decl=decl).encode(encoding)
    assert parse_feed(doc, url="https://example.org/feed").error.startswith("xml_entities_refused")


def test_external_dtd_without_entities_parses_and_is_not_fetched(secret):
    doc = rss(ITEM.format(title="Hello"), f'<!DOCTYPE rss SYSTEM "file://{secret}">').encode()
    parsed = parse_feed(doc, url="https://example.org/feed")
    assert parsed.error is None
    assert [e.title for e in parsed.entries] == ["Hello"]
    assert "TOPSECRET" not in parsed.model_dump_json()


def test_entity_text_inside_content_is_not_a_declaration():
    doc = rss(ITEM.format(title="How &lt;!ENTITY&gt; works <![CDATA[ <!ENTITY x 'y'> ]]>")).encode()
    parsed = parse_feed(doc, url="https://example.org/feed")
    assert parsed.error is None
    assert parsed.entries[0].title.startswith("How <!ENTITY> works")


@pytest.mark.parametrize("body", [b"", b"   \n\t "])
def test_empty_body(body):
    assert parse_feed(body, url="https://example.org/feed").error == "empty_body"


@pytest.mark.parametrize(
    "body",
    [b'{"version": "https://jsonfeed.org/version/1", "items": []}', b"<note><to>x</to></note>", b"\x89PNG\r\n\x1a\n\x00\x00"],
    ids=["json", "other_xml", "binary"],
)
def test_not_a_feed(body):
    parsed = parse_feed(body, url="https://example.org/feed")
    assert parsed.error.startswith("not_a_feed")
    assert parsed.entries == []


def test_wellformed_feed_without_items_is_usable_and_empty():
    parsed = parse_feed(rss("").encode(), url="https://example.org/feed")
    assert parsed.error is None and parsed.entries == [] and parsed.format == "rss20"


# ------------------------------------------------------------------ charsets

def _latin_feed(decl_encoding: str | None) -> bytes:
    decl = f'<?xml version="1.0" encoding="{decl_encoding}"?>' if decl_encoding else ""
    return rss(ITEM.format(title="Grüße aus Köln – “quoted”"), decl=decl).encode("windows-1252")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (rss(ITEM.format(title="Grüße aus Köln – “quoted”")).encode("utf-8"), "text/xml; charset=iso-8859-1"),
        (rss(ITEM.format(title="Grüße aus Köln – “quoted”")).encode("utf-8"), "text/xml"),
        (rss(ITEM.format(title="Grüße aus Köln – “quoted”")).encode("utf-8"), "application/rss+xml; charset=windows-1251"),
        (_latin_feed("windows-1252"), "application/rss+xml; charset=utf-8"),
        (_latin_feed("iso-8859-1"), None),
        (_latin_feed(None), "text/xml; charset=iso-8859-1"),
        (_latin_feed(None), None),
    ],
    ids=["utf8-labelled-latin1", "utf8-text-xml-no-charset", "utf8-labelled-cp1251", "cp1252-labelled-utf8",
         "latin1-declared", "undeclared-http-latin1", "undeclared-nothing"],
)
def test_wrong_or_missing_charset(body, content_type):
    parsed = parse_feed(body, url="https://example.org/feed", content_type=content_type)
    assert parsed.error is None
    assert parsed.entries[0].title == "Grüße aus Köln – “quoted”"


def test_real_windows1251_feed_served_with_wrong_charset(corpus):
    body = (corpus / "feeds/ibash_org_ru_windows1251_rss2_2018.xml").read_bytes()
    right = parse_feed(body, url="http://ibash.org.ru/rss.xml")
    wrong = parse_feed(body, url="http://ibash.org.ru/rss.xml", content_type="text/xml; charset=utf-8")
    assert [e.title for e in wrong.entries] == [e.title for e in right.entries]
    assert wrong.entries[0].title.startswith("Цитата")


def test_choose_encoding_notes_overrides():
    assert choose_encoding("é".encode(), "text/xml; charset=windows-1251")[0] == "utf-8"
    assert choose_encoding(b"\xef\xbb\xbf<rss/>")[0] == "utf-8"
    assert choose_encoding("<r>ü</r>".encode("utf-16"))[0] == "utf-16"
    enc, note = choose_encoding('<?xml version="1.0" encoding="gb2312"?><r>中</r>'.encode("gb18030"))
    assert (enc, note) == ("gb18030", None)


# ------------------------------------------------------------------ fuzz

_FEED_PIECES = st.sampled_from([
    b'<?xml version="1.0" encoding="utf-8"?>', b'<?xml version="1.0" encoding="gb2312"?>', b"<rss version=\"2.0\">",
    b"<channel>", b"</channel>", b"</rss>", b"<item>", b"</item>", b"<title>", b"</title>", b"<link>",
    b"</link>", b"https://example.org/x", b"/rel/path", b"<guid>1</guid>", b"<pubDate>", b"</pubDate>",
    b"Mon, 06 Sep 2021 10:17:00 +0200", b"2020/13/45 99:99:99", b'<feed xmlns="http://www.w3.org/2005/Atom">',
    b"<entry>", b"</entry>", b'<link href="x"/>', b"<![CDATA[<b>x</b>]]>", b"&amp;", b"&bogus;", b"&#0;",
    b"<!DOCTYPE rss>", b"<!--", b"-->", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3\x28", b"<html><head>",
    b'<link rel="alternate" type="application/rss+xml" href="/feed">', b"\x00", b"<description>", b"</description>",
])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), st.lists(_FEED_PIECES | st.binary(max_size=20), max_size=40).map(b"".join)))
def test_fuzzed_feed_bytes_never_raise(body):
    parsed = parse_feed(body, url="https://example.org/feed.xml", content_type="application/rss+xml")
    assert isinstance(parsed, ParsedFeed)
    assert (parsed.error is None) or parsed.entries == []
    ParsedFeed.model_validate(parsed.model_dump())
    for e in parsed.entries:
        assert e.guid
        assert e.published_at is None or e.published_at.tzinfo is not None
