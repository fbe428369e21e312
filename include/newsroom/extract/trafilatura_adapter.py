"""What the project needs from trafilatura beyond its public API, in one place.

trafilatura's public ``load_html`` parses with a module-level ``lxml.html``
parser whose element-class lookup is written in Python
(``HtmlElementClassLookup.lookup``): lxml calls it for every element proxy it
creates, hundreds of thousands of times per page batch — about 5 % of an
extraction's CPU on the benchmark pages. :func:`parse_html` is ``load_html``
step for step (decode, repair, parse; same parser options) but with lxml's
C-level default lookup mapping every element to the same ``HtmlElement`` class,
so trafilatura, htmldate and our metadata code see the same tree at less cost.
Only the form-specific element classes (``FormElement``, ``InputElement``…),
which none of them use, are lost.

The helpers used here (``decode_file``, ``is_dubious_html``,
``repair_faulty_html``, the parser's options) are trafilatura internals, so this
module is pinned to the version it was checked against:
tests/unit/extract/test_trafilatura_adapter.py fails on any other version and
checks that :func:`parse_html` gives the same text as ``load_html`` on the
shared corpus pages, and that :func:`page_author_in_place` finds the author
``extract_author`` finds there.

Importing this module also installs :mod:`newsroom.extract.xpath_speedups`
(Python matchers for trafilatura's five costliest XPath expressions, same
elements selected), so every extraction in the process runs with them.
"""

from __future__ import annotations

import logging
from html import unescape

import trafilatura
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, fromstring
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import extract_metainfo
from trafilatura.utils import decode_file, is_dubious_html, line_processing, repair_faulty_html
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

from newsroom.extract import xpath_speedups

log = logging.getLogger(__name__)

# trafilatura's costliest XPath expressions, as Python matchers selecting the same elements
# (newsroom.extract.xpath_speedups): installed for the whole process, as soon as extraction
# code is imported — the extraction workers' forkserver imports it before it forks them.
SPEEDUPS = xpath_speedups.install()

__all__ = ["CHECKED_VERSION", "page_author_in_place", "parse_html", "page_text"]

# The trafilatura release whose load_html this module mirrors (see the contract test).
CHECKED_VERSION = "2.3.1"

_PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                     remove_pis=True)
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))


def _fromstring_bytes(text: str) -> HtmlElement | None:
    try:
        return fromstring(text.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception as err:
        log.debug("lxml parser bytestring %s", err)
    return None


def parse_html(html: bytes | str) -> HtmlElement | None:
    """``trafilatura.load_html(html)`` with a C-level element-class lookup; None when not HTML."""
    text = decode_file(html)
    beginning = text[:50].lower()
    dubious = is_dubious_html(beginning)
    text = repair_faulty_html(text, beginning)
    tree = None
    fallback = False
    try:
        tree = fromstring(text, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree = _fromstring_bytes(text)
        fallback = True
    except Exception as err:  # as load_html: a parser crash is "not HTML"
        log.debug("lxml parsing failed: %s", err)
    if (tree is None or len(tree) < 1) and not fallback:
        tree = _fromstring_bytes(text)
    if tree is not None and dubious and len(tree) < 2:
        tree = None
    return tree


def page_text(tree: HtmlElement, url: str, *, fast: bool) -> str:
    """The page's text as ``trafilatura.extract`` renders it (txt, no reader comments).

    Public API only: ``extract`` takes a parsed tree (and copies it, so the
    caller's tree stays intact for metadata). ``fast`` skips trafilatura's
    fallback extractors (readability, jusText); see ``newsroom.extract.article``.
    """
    return (trafilatura.extract(tree, url=url, include_comments=False, fast=fast) or "").strip()


def page_author_in_place(tree: HtmlElement) -> str | None:
    """``trafilatura.metadata.extract_author(tree)``, trimmed as ``Document.clean_and_trim``
    trims it, but on ``tree`` itself instead of a deep copy: the author search first
    prunes comment sections, dates and figures, which is why trafilatura copies the tree
    (a third of a millisecond per page). The caller calls it last, when nothing else
    will read the tree."""
    author = extract_metainfo(prune_unwanted_nodes(tree, AUTHOR_DISCARD_XPATHS), AUTHOR_XPATHS, len_limit=120)
    if author:
        author = normalize_authors(None, author)
    if not author:
        return None
    if len(author) > 10000:
        author = author[:9999] + "…"
    return line_processing(unescape(author)) or None
