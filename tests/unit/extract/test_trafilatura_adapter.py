"""Contract of newsroom.extract.trafilatura_adapter: pinned to one trafilatura
release, and its parser gives the tree and text that trafilatura's own
``load_html`` gives, on every page of the shared extraction corpus."""

from __future__ import annotations

import json

import lxml.html
import pytest
import trafilatura
from trafilatura import load_html

from newsroom.extract.trafilatura_adapter import CHECKED_VERSION, page_author_in_place, page_text, parse_html


def test_pinned_to_the_checked_trafilatura_release():
    # parse_html mirrors trafilatura internals (decode_file, repair_faulty_html, the
    # parser's options): a new release must be re-checked against this file first.
    assert trafilatura.__version__ == CHECKED_VERSION, (
        f"trafilatura {trafilatura.__version__} installed, adapter checked against {CHECKED_VERSION}: "
        "compare newsroom/extract/trafilatura_adapter.py with trafilatura.utils.load_html, then bump CHECKED_VERSION")


def _pages(corpus):
    manifest = sorted(json.loads((corpus / "extraction" / "manifest.json").read_text()), key=lambda r: r["id"])
    return [(r["url"], (corpus / "extraction" / r["file"]).read_bytes()) for r in manifest]


def test_same_tree_as_load_html_on_every_corpus_page(corpus):
    pages = _pages(corpus)
    assert len(pages) > 50
    for url, html in pages:
        ours, theirs = parse_html(html), load_html(html)
        assert (ours is None) == (theirs is None), url
        if ours is not None:
            assert lxml.html.tostring(ours) == lxml.html.tostring(theirs), url
            # One element class for every tag: the C-level lookup, not lxml.html's Python one.
            assert {type(el) for el in ours.iter() if isinstance(el.tag, str)} == {lxml.html.HtmlElement}, url


def test_same_text_as_trafilatura_extract(corpus):
    for url, html in _pages(corpus)[::8]:
        for fast in (False, True):
            expected = (trafilatura.extract(html, url=url, include_comments=False, fast=fast) or "").strip()
            tree = parse_html(html)
            assert page_text(tree, url, fast=fast) == expected, url
            # extract() worked on a copy: the caller's tree still serves the metadata.
            assert lxml.html.tostring(tree) == lxml.html.tostring(load_html(html)), url


def test_author_in_place_is_trafilaturas_author_on_every_corpus_page(corpus):
    from trafilatura.metadata import extract_author
    from trafilatura.settings import Document

    found = 0
    for url, html in _pages(corpus):
        tree = parse_html(html)
        if tree is None:
            continue
        doc = Document()
        doc.author = extract_author(parse_html(html))  # on a copy, as trafilatura runs it
        doc.clean_and_trim()
        ours = page_author_in_place(tree)
        assert ours == (doc.author or None), url
        found += ours is not None
    assert found > 10  # the body search does find authors on this corpus


@pytest.mark.parametrize("body", [
    b"", b"just some text, no markup", b"<p>one fragment</p>", "<html><body><p>caf\u00e9</p></body></html>".encode("cp1252"),
    b'<?xml version="1.0" encoding="utf-8"?><html><body><p>x</p></body></html>', b"<html/>\n<body><p>x</p></body>",
    b"<!DOCTYPE html/><html><body><p>x</p></body></html>", b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00",
])
def test_odd_inputs_like_load_html(body):
    ours, theirs = parse_html(body), load_html(body)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert lxml.html.tostring(ours) == lxml.html.tostring(theirs)
