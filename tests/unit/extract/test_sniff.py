"""A page is "not HTML" only by a real binary signature; control bytes go before the parse.

The case from unseen data: one NUL byte in the first KB of a real article page made the
whole page ``not_html`` (362 words became the feed's 3).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from newsroom.config.sources import SourcesFile
from newsroom.extract.article import extract_article
from newsroom.extract.sniff import looks_binary, strip_control_bytes
from newsroom.pipeline.ingest import ingest_feed
from newsroom.warehouse.schema import Article

URL = "https://daily.example/news/nul"


def _with_nul(page: bytes, at: int = 200) -> bytes:
    return page[:at] + b"\x00" + page[at:]


@pytest.fixture(scope="module")
def real_page(corpus):
    """The first page of the extraction benchmark (sorted by id) and its ground truth."""
    root = corpus / "extraction"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pid = sorted(truth)[0]
    return truth[pid]["url"], (root / "html" / f"{pid}.html").read_bytes()


@pytest.mark.corpus
@pytest.mark.parametrize("junk", [b"\x00", b"\x00\x00\x01\x08", b"\x0b\x1f\x7f"])
def test_control_bytes_in_the_head_do_not_discard_a_real_page(real_page, junk):
    url, html = real_page
    clean = extract_article(html, url)
    assert clean.status == "ok"
    for at in (0, 100, 900):
        dirty = extract_article(html[:at] + junk + html[at:], url)
        assert (dirty.status, dirty.reason) == ("ok", None), at
        assert dirty.text == clean.text and dirty.title == clean.title


def test_real_signatures_are_still_not_html():
    for body in (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), b"  %PDF-1.7\n%\xe2\xe3", b"GIF89a\x01\x00",
                 b"PK\x03\x04" + b"\x00" * 40, b"\x1f\x8b\x08\x00" + b"\x00" * 20):
        assert looks_binary(body)
        assert extract_article(body, URL).reason == "not_html"
    assert not looks_binary(b"<html>\x00<body>")
    assert not looks_binary("<html><body>ü</body></html>".encode("utf-16"))


def test_strip_keeps_whitespace_escape_and_wide_unicode():
    assert strip_control_bytes(b"a\x00b\x01\tc\nd\r\x0ce\x1b$Bf\x7f") == b"ab\tc\nd\r\x0ce\x1b$Bf"
    wide = "<html><body>x</body></html>".encode("utf-16-le")
    assert strip_control_bytes(wide) == wide
    sjis = "記事の本文".encode("cp932")
    assert strip_control_bytes(sjis + b"\x00") == sjis


def test_a_page_with_a_nul_is_stored_whole(replay_server, settings, warehouse):
    base = replay_server.base_url
    body = "".join(f"<p>Paragraph {k}: the council approved the new tram line after a long debate about costs "
                   f"and routes through the old town.</p>" for k in range(10))
    page = f"<html><head><title>Tram line approved</title></head><body><article><h1>Tram line approved</h1>" \
           f"{body}</article></body></html>".encode()
    replay_server.add("/a/1", _with_nul(page, 40), content_type="text/html; charset=utf-8")
    rss = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>{base}/</link>'
           f"<description>d</description><item><title>Tram line approved</title><link>{base}/a/1</link>"
           f"<description>Three word teaser</description></item></channel></rss>")
    replay_server.add("/feed.xml", rss, content_type="application/rss+xml")
    src = SourcesFile.model_validate({"feeds": [{"name": "local", "url": replay_server.url("/feed.xml")}]})
    ingest_feed("local", settings=settings, sources=src, run_id="r1", engine=warehouse)
    with warehouse.connect() as c:
        art = c.execute(select(Article)).one()
    assert art.extraction_status == "ok" and art.word_count > 150 and "Paragraph 9" in art.text
