"""Charsets by WHATWG labels: a declared label is obeyed, detection only when nothing is declared.

The feed case is the one seen on unseen data: a Brazilian feed declared windows-1252 whose
bytes include one of the five bytes Python's cp1252 leaves undefined (0x81 here); it used to
fall through to detection and come out as cp1257/cp852 ("simulaēões").
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsroom.config.sources import SourcesFile
from newsroom.feeds.parse import choose_encoding, parse_feed
from newsroom.fetch.charset import decode_bytes, python_codec, strictly_decodes, whatwg_encoding
from newsroom.pipeline.ingest import ingest_feed
from newsroom.warehouse.schema import Article, FeedEntryRow

TITLES = ["Simulações mostram lideranças em alta", "Prisão preventiva é mantida", "Ação da Petrobras sobe"]
PARA = ("<p>As simulações da equipe indicam que as lideranças regionais mantêm a posição; a prisão "
        "preventiva foi mantida e a ação judicial segue em tramitação, segundo a reportagem.</p>")


def _feed_1252(base: str) -> bytes:
    items = "".join(
        f"<item><title>{t}</title><link>{base}/n/{i}</link><guid>{base}/n/{i}</guid>"
        f"<description>Resumo: {t} @C1@ (notícia {i}).</description></item>" for i, t in enumerate(TITLES))
    xml = ('<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>Notícias</title>'
           f"<link>{base}/</link><description>Últimas</description>{items}</channel></rss>")
    return xml.encode("cp1252").replace(b"@C1@", b"\x81")  # 0x81: undefined in Python's cp1252


def test_labels_are_whatwg():
    assert whatwg_encoding(" Latin1 ") == "windows-1252"
    assert whatwg_encoding('"ISO-8859-1"') == "windows-1252"
    assert whatwg_encoding("us-ascii") == "windows-1252"
    assert whatwg_encoding("gb2312") == "gbk" and python_codec("gbk") == "gb18030"
    assert whatwg_encoding("x-sjis") == "shift_jis" and python_codec("shift_jis") == "cp932"
    assert whatwg_encoding("no-such-charset") is None


def test_windows_1252_c1_bytes_decode_as_the_standard_says():
    body = "simulações".encode("cp1252") + b"\x81\x8d\x8f\x90\x9d"
    with pytest.raises(UnicodeDecodeError):
        body.decode("cp1252")  # why Python alone is not enough
    assert strictly_decodes(body, "windows-1252")
    assert decode_bytes(body, "windows-1252") == "simulações\x81\x8d\x8f\x90\x9d"
    # Invalid bytes of a multi-byte encoding become U+FFFD, never an exception.
    assert decode_bytes(b"ok \xff", "utf-8") == "ok \ufffd" and not strictly_decodes(b"\xff", "utf-8")


def test_declared_label_is_obeyed_and_detection_only_without_one():
    body = _feed_1252("http://x.test")
    assert choose_encoding(body) == ("cp1252", None)
    assert choose_encoding(body.replace(b'encoding="windows-1252"', b""),
                           "text/xml; charset=iso-8859-1") == ("cp1252", None)
    # A declared multi-byte charset the bytes break is still obeyed, with a note.
    enc, note = choose_encoding('<?xml version="1.0" encoding="shift_jis"?><r>\x81\x20ok</r>'.encode("latin-1"))
    assert enc == "cp932" and "declared shift_jis" in note
    # Nothing declared (or only a UTF-8 the bytes contradict): detection, and it says so.
    undeclared = "<rss><channel><title>Café à la française, été</title></channel></rss>".encode("cp1252")
    enc, note = choose_encoding(undeclared)
    assert enc == "cp1252" and note and ("detected" in note or "read as" in note)


def test_windows_1252_feed_parses_to_the_right_text():
    parsed = parse_feed(_feed_1252("http://x.test"), url="http://x.test/feed",
                        content_type="application/rss+xml; charset=windows-1252")
    assert parsed.title == "Notícias" and parsed.warning is None
    assert [e.title for e in parsed.entries] == TITLES
    assert "notícia 0" in parsed.entries[0].summary


def test_windows_1252_feed_through_http_into_the_warehouse(replay_server, settings, warehouse):
    base = replay_server.base_url
    replay_server.add("/feed.xml", _feed_1252(base), content_type="application/rss+xml; charset=windows-1252")
    for i, t in enumerate(TITLES):
        page = f"<html><head><meta charset='windows-1252'><title>{t}</title></head><body><article><h1>{t}</h1>" \
               f"{PARA * 4}</article></body></html>"
        replay_server.add(f"/n/{i}", page.encode("cp1252"), content_type="text/html; charset=windows-1252")
    src = SourcesFile.model_validate({"feeds": [{"name": "br", "url": replay_server.url("/feed.xml"),
                                                 "outlet": "Notícias BR"}]})
    res = ingest_feed("br", settings=settings, sources=src, run_id="r1", engine=warehouse)
    assert res["status"] == "ok" and res["new_articles"] == 3 and not res.get("warning")
    with warehouse.connect() as c:
        entries = c.execute(select(FeedEntryRow.title).order_by(FeedEntryRow.id)).scalars().all()
        arts = c.execute(select(Article.title, Article.text)).all()
    assert sorted(entries) == sorted(TITLES)
    assert sorted(a.title for a in arts) == sorted(TITLES)
    assert all("simulações" in a.text and "lideranças" in a.text and "ē" not in a.text for a in arts)


def _page_1252(title: str, meta: bool) -> bytes:
    head = "<meta charset='windows-1252'>" if meta else ""
    html = (f"<html><head>{head}<title>{title}</title></head><body><article><h1>{title}</h1>{PARA * 4}"
            f"<p>Nota do editor @C1@ revisada.</p></article></body></html>")
    return html.encode("cp1252").replace(b"@C1@", b"\x81")


@pytest.mark.parametrize("declared", ["http", "meta"])
def test_windows_1252_pages_are_decoded_as_declared_at_ingest_and_reprocess(declared, replay_server, settings,
                                                                          warehouse):
    """Pages too: the extractor alone only detects (and read these as cp1257/cp852); the page's
    declaration, in the HTTP header or a <meta charset>, now decides — again on re-extraction."""
    from newsroom.captures import CaptureStore
    from newsroom.pipeline.reprocess import re_extract_articles

    base = replay_server.base_url
    replay_server.add("/feed.xml", _feed_1252(base), content_type="application/rss+xml; charset=windows-1252")
    ctype = "text/html; charset=windows-1252" if declared == "http" else "text/html"
    for i, t in enumerate(TITLES):
        replay_server.add(f"/n/{i}", _page_1252(t, meta=declared == "meta"), content_type=ctype)
    src = SourcesFile.model_validate({"feeds": [{"name": "br", "url": replay_server.url("/feed.xml")}]})
    ingest_feed("br", settings=settings, sources=src, run_id="r1", engine=warehouse)
    with warehouse.connect() as c:
        arts = c.execute(select(Article.id, Article.text, Article.extraction_status)).all()
    assert len(arts) == 3 and all(a.extraction_status == "ok" for a in arts)
    for a in arts:
        assert "simulações" in a.text and "lideranças" in a.text and "tramitação" in a.text, a.text[:200]
    out = re_extract_articles(warehouse, [a.id for a in arts], store=CaptureStore(settings.data_dir), workers=1)
    assert out["re_extracted"] == 3 and out["text_changed"] == 0
