"""Contract of newsroom.extract.xpath_speedups: each Python matcher selects exactly the
elements its trafilatura XPath selects, in the same order — on every shared corpus page
(the raw trees, and the cleaned/converted trees trafilatura really passes each expression
during extraction), on random pages built from the tokens the expressions test — and the
extractor's output is the same with and without them."""

from __future__ import annotations

import copy
import json
import random

import lxml.html
import pytest
import trafilatura
from trafilatura import load_html

from newsroom.extract import xpath_speedups as S
from newsroom.extract.article import extract_article
from newsroom.extract.trafilatura_adapter import CHECKED_VERSION, parse_html

NAMES = [s.name for s in S.SPEEDUPS]


@pytest.fixture(autouse=True)
def _reinstalled():
    yield
    S.install()  # whatever a test did, the next one starts with the product's state


def _pages(corpus):
    manifest = sorted(json.loads((corpus / "extraction" / "manifest.json").read_text()), key=lambda r: r["id"])
    return [(r["url"], (corpus / "extraction" / r["file"]).read_bytes()) for r in manifest]


def _originals():
    S.install()
    assert all(s.original is not None for s in S.SPEEDUPS)
    return {s.name: s.original for s in S.SPEEDUPS}


def test_every_matcher_is_installed_on_the_pinned_trafilatura():
    assert trafilatura.__version__ == CHECKED_VERSION
    # Installed by importing the extractor (newsroom.extract.trafilatura_adapter), not by this test.
    assert S.installed() == NAMES
    import importlib

    from trafilatura import core, main_extractor, xpaths

    # (trafilatura.baseline the module, not the function trafilatura exports under that name)
    assert isinstance(importlib.import_module("trafilatura.baseline").BASIC_CLEAN_XPATH, S._Matcher)
    # The lists are shared by the modules that import them, so one replacement serves all.
    assert isinstance(main_extractor.OVERALL_DISCARD_XPATH[1], S._Matcher)
    assert isinstance(core.REMOVE_COMMENTS_AND_LISTS_XPATH[0], S._Matcher)
    assert xpaths.BODY_XPATH is main_extractor.BODY_XPATH


def test_uninstall_restores_the_librarys_own_xpath():
    from lxml.etree import XPath
    from trafilatura import xpaths

    with S.stock_trafilatura():
        assert S.installed() == []
        assert all(isinstance(x, XPath) for x in xpaths.OVERALL_DISCARD_XPATH)
    assert S.installed() == NAMES


def test_an_expression_that_is_not_the_transcribed_one_is_left_alone(monkeypatch):
    # What a trafilatura upgrade that edits an expression looks like: the text differs.
    from lxml.etree import XPath
    from trafilatura import xpaths

    S.uninstall()
    changed = copy.copy(S.SPEEDUPS[0])
    changed.text = changed.text.replace("infinite-?scroll", "infinite-scroll")
    changed.original = None
    monkeypatch.setattr(S, "SPEEDUPS", [changed])
    assert S.install() == []
    assert isinstance(xpaths.RAW_TREE_PRUNE_XPATH[0], XPath)


def _recorded_inputs(pages):
    """The trees trafilatura hands each expression while extracting the pages (deep copies)."""
    originals = _originals()
    seen = {name: [] for name in originals}

    class Recorder:
        def __init__(self, s):
            self.s, self.path = s, s.original.path

        def __call__(self, tree, **_kw):
            seen[self.s.name].append(copy.deepcopy(tree))
            return self.s.original(tree)

    try:
        for s in S.SPEEDUPS:
            S._put(s, Recorder(s))
        for url, html in pages:
            extract_article(html, url)  # our path: comments off, fast first
            trafilatura.extract(html)  # the library's defaults: comments on, fallbacks compared
    finally:
        for s in S.SPEEDUPS:
            S._put(s, s.original)
        S.install()
    return seen


def _same(s, tree):
    want = s.original(tree)
    got = s.matcher(tree)
    # lxml elements compare by identity: the very same nodes, in the same order.
    return len(want) == len(got) and all(a is b for a, b in zip(want, got))


def test_each_matcher_selects_its_xpaths_elements_on_every_corpus_page(corpus):
    pages = _pages(corpus)
    assert len(pages) > 50
    recorded = _recorded_inputs(pages)
    raw = [t for _, html in pages for t in (parse_html(html), load_html(html)) if t is not None]
    for s in S.SPEEDUPS:
        assert recorded[s.name], f"{s.name} never ran during extraction"
        trees = recorded[s.name] + raw
        bad = [i for i, t in enumerate(trees) if not _same(s, t)]
        assert not bad, f"{s.name}: differs from its XPath on {len(bad)} of {len(trees)} trees"
    # The expressions select something on these pages (the comparison is not between empty lists).
    for s in S.SPEEDUPS:
        assert sum(len(s.original(t)) for t in raw) > 0, s.name


# Tags and attribute values drawn from what the expressions test, near misses included.
_TAGS = ["div", "section", "aside", "article", "main", "list", "item", "p", "span", "ol", "ul", "details",
         "h1", "footer", "script", "style", "svg", "template", "fencedframe", "a", "b", "table"]
_VALUES = {
    "id": ["comment-1", "Comments", "commentary", "comol", "disqus_thread", "dsq-comments", "mvp-post-add-box",
           "infinite-scroll", "infinitescroll", "cookie-law", "CookieBot", "share", "Share", "nav", "hidden",
           "reply-42", "reader-comments", "akismet", "articleContent", "article-body", "story", "main",
           "x-footer", "sidebar", "ad-top", "jp-post", "prefix-shar", "", "plain"],
    "class": ["comment", "Commentary", "post-comments", "article-comments", "mvp-post-add-wrap",
              "infinite-scroll", "cookie-banner", "Cookie-Notice", "notice--cookie", "onetrust-x", "share-bar",
              "navbar", "post", "entry", "post-content", "article__body", "ArticleContent", "site-footer",
              "footer", "comments-title", "hide-print", "x hidden", " ad ", "dfpAd", "widget", "byline",
              "reply-box", "content", "main-content", "", "plain", "a b c"],
    "style": ["display:none", "display: none", "visibility:hidden", "color:red", ""],
    "role": ["navigation", "Navigation", "NAV", "main", "banner", ""],
    "data-component": ["MostPopularStories", "mostpopularstories", "Other"],
    "data-lp-replacement-content": ["", "1"],
    "aria-hidden": ["true", "false", "TRUE"],
    "itemprop": ["articleBody", "articlebody", "headline"],
}


def _random_html(rng: random.Random) -> str:
    def element(depth: int) -> str:
        tag = rng.choice(_TAGS)
        names = rng.sample(list(_VALUES), k=rng.choice([0, 1, 1, 2, 2, 3]))
        rng.shuffle(names)  # attribute order matters for a union like @id|@class
        attrs = "".join(f' {n}="{rng.choice(_VALUES[n])}"' for n in names)
        kids = [] if depth > 4 else [element(depth + 1) for _ in range(rng.choice([0, 1, 2, 3]))]
        if rng.random() < 0.2:
            kids.insert(0, "<!-- a comment -->")
        return f"<{tag}{attrs}>text {''.join(kids)}</{tag}>tail "

    return "<html><body>" + "".join(element(0) for _ in range(rng.randint(1, 6))) + "</body></html>"


def test_each_matcher_selects_its_xpaths_elements_on_random_pages():
    _originals()
    rng = random.Random(15)
    hits = dict.fromkeys(NAMES, 0)
    for _ in range(600):
        html = _random_html(rng)
        # Both parsers: ours drops HTML comments, lxml.html's keeps them (matchers must skip them).
        for tree in (parse_html(html.encode()), lxml.html.fromstring(html)):
            for s in S.SPEEDUPS:
                assert _same(s, tree), f"{s.name} differs on {html}"
                hits[s.name] += bool(s.original(tree))
    assert all(n > 20 for n in hits.values()), hits


@pytest.mark.parametrize("html, name, expected", [
    # The union @id|@class reads the first attribute as written.
    ('<div><div class="cookie" id="x"></div><div id="x" class="cookie"></div></div>',
     "OVERALL_DISCARD_XPATH[0]", 1),
    # .//*[…][1] without parentheses: the first match among each parent's children.
    ('<div><div class="post"></div><div class="entry"></div></div><section><div class="post"></div></section>',
     "BODY_XPATH[0]", 2),
    # An infinite-scroll container holding the page's h1 is kept, unless it is the theme's appended box.
    ('<div><div class="infinite-scroll"><h1>t</h1></div><div class="mvp-post-add-box"><h1>t</h1></div></div>',
     "RAW_TREE_PRUNE_XPATH[0]", 1),
    # ol/ul only when a list-specific pattern matches (not disqus ids).
    ('<div><ul id="disqus_thread"></ul><ol id="comments"></ol><div id="disqus_thread"></div></div>',
     "REMOVE_COMMENTS_AND_LISTS_XPATH[0]", 2),
    ('<div><div class="a" id="site-footer"></div><div id="site-footer" class="a"></div><p class="CMPLZ"></p></div>',
     "BASIC_CLEAN_XPATH", 2),
])
def test_the_xpath_rules_that_are_easy_to_get_wrong(html, name, expected):
    _originals()
    s = next(s for s in S.SPEEDUPS if s.name == name)
    tree = parse_html(html.encode())
    assert len(s.original(tree)) == expected  # the rule, as libxml2 applies it
    assert _same(s, tree)


def test_extraction_output_is_the_same_with_and_without_them(corpus):
    pages = _pages(corpus)
    with_them = [(extract_article(h, u).model_dump(), trafilatura.extract(h)) for u, h in pages]
    with S.stock_trafilatura():
        without = [(extract_article(h, u).model_dump(), trafilatura.extract(h)) for u, h in pages]
    assert with_them == without
    assert sum(1 for ex, _ in with_them if ex["status"] == "ok") > 50


def test_the_extraction_workers_run_with_them():
    # The workers fork from a forkserver that preloads the extractor, so they have them too.
    from newsroom.extract import pool

    try:
        assert pool.warm_pool(2)
        assert pool._POOL.get(2).submit(S.installed).result(timeout=120) == NAMES
    finally:
        pool.shutdown_pool()


def test_a_document_rather_than_an_element_goes_to_the_librarys_xpath():
    from trafilatura import xpaths

    tree = parse_html(b'<html><body><div id="comments"><p>c</p></div></body></html>')
    matcher = xpaths.REMOVE_COMMENTS_AND_LISTS_XPATH[0]
    assert isinstance(matcher, S._Matcher)
    found = matcher(tree.getroottree())
    assert [el.get("id") for el in found] == ["comments"]
    assert [el.get("id") for el in matcher(tree)] == ["comments"]
