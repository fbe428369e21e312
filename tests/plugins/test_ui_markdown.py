"""Digest Markdown → HTML for the operator page: what is allowed, and what must stay inert."""

from __future__ import annotations

import re

import pytest

from tests.ui.htmlcheck import live_markup
from newsroom_ui.markdown import render_markdown, safe_link, strip_front_matter


@pytest.mark.parametrize("url, ok", [
    ("https://example.com/a?b=1", True), ("http://x", True), ("mailto:desk@example.com", True),
    ("../relative/path", True), ("#section", True), ("page?x=a:b", True),
    ("javascript:alert(1)", False), ("JAVASCRIPT:alert(1)", False), ("java\tscript:alert(1)", False),
    ("\x00javascript:alert(1)", False), (" javascript:alert(1)", False), ("vbscript:msgbox", False),
    ("data:text/html;base64,PHNjcmlwdD4=", False), ("file:///etc/passwd", False), ("obsidian://open", False),
])
def test_safe_link(url, ok):
    assert safe_link(url) is ok


@pytest.mark.parametrize("md", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](https://tracker.invalid/p.png)",
    '[[a" onmouseover="alert(1)|b]]',
    "[[<script>alert(1)</script>]]",
    "```html\n<script>alert(1)</script>\n```",
    "<!-- <script>alert(1)</script> -->",
    "[x](data:image/svg+xml;base64,PHN2Zz4=)",
])
def test_hostile_markdown_produces_no_live_markup(md):
    html = render_markdown(md)
    assert live_markup(html) == [], html
    assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', html)).lower()


def test_the_checker_sees_live_markup():
    """The check above would notice, had the renderer let any of these through."""
    assert live_markup('<p><img src=x onerror="y"><a href=" JaVa\tscript:x">a</a><b onclick=z>b</b></p>') == [
        "<img>", "<img onerror=…>", "<a href=' JaVa\\tscript:x'>", "<b onclick=…>"]
    assert live_markup('<p title="a&quot; onmouseover=&quot;x">&lt;script&gt;</p>') == []


def test_wikilinks_are_inert_spans_with_alias():
    assert render_markdown("See [[Meta Platforms|Meta]] and [[Muse Spark]].") == (
        '<p>See <span class="wikilink" title="Meta Platforms">Meta</span> and '
        '<span class="wikilink" title="Muse Spark">Muse Spark</span>.</p>\n')


def test_links_open_outside_the_frame_without_referrer():
    assert render_markdown("[a](https://example.com/x)") == (
        '<p><a href="https://example.com/x" target="_blank" rel="noopener noreferrer nofollow">a</a></p>\n')


def test_front_matter_is_dropped_only_at_the_top():
    doc = "---\ntitle: x\ntags: [a]\n---\n# Head\n\n---\n\ntext\n"
    assert strip_front_matter(doc) == "# Head\n\n---\n\ntext\n"
    assert render_markdown(doc) == "<h1>Head</h1>\n<hr />\n<p>text</p>\n"
    assert strip_front_matter("# no front matter\n---\n") == "# no front matter\n---\n"


def test_tables_render():
    assert "<table>" in render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n")
