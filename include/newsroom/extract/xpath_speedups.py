"""trafilatura's five costliest XPath expressions as Python matchers: the same elements, less CPU.

    from newsroom.extract import xpath_speedups
    xpath_speedups.install()     # done on import of newsroom.extract.trafilatura_adapter
    xpath_speedups.installed()   # → names of the expressions replaced
    xpath_speedups.uninstall()   # stock trafilatura again (the throughput baseline does this)
    with xpath_speedups.stock_trafilatura(): ...   # the same, for a block

Why: about 40 % of an extraction's CPU went to evaluating trafilatura's XPath
expressions (``benchmarks/extraction_throughput.py``, issue 15), most of it in
five that libxml2 evaluates slowly — ``.//*`` expands to every element of the
page, and each ``re:test()`` (EXSLT regex) is a call back into Python that
builds a "smart string" and an element proxy per attribute tested. A loop over
``iterdescendants()`` reading the attributes with ``get()`` and testing them
with the *same* regular expressions selects the same elements in the same
(document) order at a quarter of the cost; on the benchmark pages it takes
about 4 ms off each page's 14–16 ms.

Each matcher transcribes one expression of the pinned trafilatura release
(``trafilatura_adapter.CHECKED_VERSION``). XPath semantics kept, and why they
matter here:

* ``re:test(@a, p)`` is ``re.search(p, value of a or "")`` — lxml compiles the
  pattern with Python's ``re`` (``re.I`` for the ``'i'`` flag);
* a function of a union (``@id|@class``) reads the *first* of those attributes
  in document order, i.e. as written in the tag (:func:`_first`);
* ``.//*[...][1]`` (no parentheses) is the first match *among each parent's
  children*, ``(.//*[...])[1]`` the first of the whole page;
* ``.//*`` is elements only, never the context node itself, and a union is
  de-duplicated in document order.

A matcher is only installed when the library's expression text is exactly the
one transcribed (compared with whitespace collapsed), so a trafilatura upgrade
that changes one leaves the library's own XPath in place: slower, never wrong.
tests/unit/extract/test_xpath_speedups.py checks that every matcher is
installed on the pinned version, that each returns the very elements of its
XPath on every shared corpus page — on the raw trees and on the cleaned and
converted trees trafilatura really passes it — and on pages built to hit each
branch, and that ``extract_article`` and ``trafilatura.extract`` give the
same output with and without them.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from lxml import etree

__all__ = ["install", "installed", "uninstall", "stock_trafilatura", "SPEEDUPS"]

_ELEMENTS = etree.Element  # as an iter() filter: elements only (no comments, PIs, entities)


def _first(el, names: tuple[str, str]) -> str:
    """The string value of the union ``@a|@b``: the first of the two attributes as written, else ''."""
    return _pick(el, names[0], el.get(names[0]), names[1], el.get(names[1]))


def _pick(el, a: str, av: str | None, b: str, bv: str | None) -> str:
    """:func:`_first` with both values already read (``av`` is ``el.get(a)``, ``bv`` ``el.get(b)``)."""
    if av is None:
        return bv or ""
    if bv is None:
        return av
    for key in el.keys():  # both present: document order is the order in the tag
        if key == a:
            return av
        if key == b:
            return bv
    return av


# --- RAW_TREE_PRUNE_XPATH[0] ------------------------------------------------------------
_RAW_PRUNE_TEXT = """
.//*[self::div or self::section or self::aside][
re:test(@id, 'mvp-post-add-(?:box|wrap)|infinite-?scroll') or
re:test(@class, 'mvp-post-add-(?:box|wrap)|infinite-?scroll')][
not(.//h1) or re:test(@id, 'mvp-post-add-(?:box|wrap)') or re:test(@class, 'mvp-post-add-(?:box|wrap)')]
"""
_RP_ANY = re.compile(r"mvp-post-add-(?:box|wrap)|infinite-?scroll")
_RP_BOX = re.compile(r"mvp-post-add-(?:box|wrap)")


def raw_tree_prune(tree) -> list:
    out = []
    for el in tree.iterdescendants("div", "section", "aside"):
        i, c = (el.get("id") or ""), (el.get("class") or "")
        if (_RP_ANY.search(i) or _RP_ANY.search(c)) and (
                next(el.iterdescendants("h1"), None) is None or _RP_BOX.search(i) or _RP_BOX.search(c)):
            out.append(el)
    return out


# --- REMOVE_COMMENTS_AND_LISTS_XPATH[0] --------------------------------------------------
_COMMENTS_LISTS_TEXT = """
.//*[self::div or self::list or self::section or self::details or self::ol or self::ul][
re:test(@id, '^(?:[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments)') or
re:test(@class, '^[Cc]omment(?!ary)|(?:article|post)-comments')][
not(self::ol or self::ul) or re:test(@id, '^(?:[Cc]omment(?!ary)|comol)') or re:test(@class, '^[Cc]omment(?!ary)|(?:article|post)-comments')]
"""
_CL_ID = re.compile(r"^(?:[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments)")
_CL_CLASS = re.compile(r"^[Cc]omment(?!ary)|(?:article|post)-comments")
_CL_LIST_ID = re.compile(r"^(?:[Cc]omment(?!ary)|comol)")


def comments_and_lists(tree) -> list:
    out = []
    for el in tree.iterdescendants("div", "list", "section", "details", "ol", "ul"):
        i, c = (el.get("id") or ""), (el.get("class") or "")
        if (_CL_ID.search(i) or _CL_CLASS.search(c)) and (
                el.tag not in ("ol", "ul") or _CL_LIST_ID.search(i) or _CL_CLASS.search(c)):
            out.append(el)
    return out


# --- OVERALL_DISCARD_XPATH[0] ------------------------------------------------------------
_DISCARD_ID = (r"^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author|"
               r"^(?:jp-|dpsp-content)|bmdh|footer|Footer|share|Share|nav|Nav|menu|related|message-container|"
               r"premium|^ad-")
_DISCARD_CLASS = (r"^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author|"
                  r"^(?:nav|post-nav|ZendeskForm)|subnav|avigation|navbar|navbox|menu|bar| ad |-ad-|(?:^| )ad-|"
                  r"dfp[Aa]d|outbrain|taboola|criteo|paid-?content|widget|footer|Footer|byline|Byline|share-|"
                  r"sociable|embedded|embed|tag-list|consent|modal-content|permission|elated|next-|-stories|"
                  r"most-popular|more-on|meta|rating|attachment|timestamp|user-info|user-profile|-icon|"
                  r"article-infos|message-container|slide|viewport|overlay|options|expand|obfuscated|blurred|"
                  r"mol-factbox|yin|zlylin|nfoline")
_DISCARD_TEXT = f"""
.//*[self::div or self::item or self::list or self::p or self::section or self::span][
@data-lp-replacement-content or
contains(translate(@role, 'N', 'n'), 'nav') or
contains(@data-component, 'MostPopularStories') or
re:test(@id|@class, 'cookie') or
re:test(@id, '{_DISCARD_ID}') or
re:test(@class, '{_DISCARD_CLASS}')]
"""
_D_ID = re.compile(_DISCARD_ID)
_D_CLASS = re.compile(_DISCARD_CLASS)
_COOKIE = re.compile("cookie")


def overall_discard(tree) -> list:
    out = []
    for el in tree.iterdescendants("div", "item", "list", "p", "section", "span"):
        if (el.get("data-lp-replacement-content") is not None
                or "nav" in (el.get("role") or "").replace("N", "n")
                or "MostPopularStories" in (el.get("data-component") or "")
                or _COOKIE.search(_first(el, ("id", "class")))
                or _D_ID.search((el.get("id") or ""))
                or _D_CLASS.search((el.get("class") or ""))):
            out.append(el)
    return out


# --- OVERALL_DISCARD_XPATH[1] ------------------------------------------------------------
_HIDDEN_CLASS = (r"^hide-|comments-title|nocomments|-reply-|message|akismet|suggest-links|-hide-|hide-print|"
                 r" hidden| hide|noprint|notloaded")
_HIDDEN_TEXT = f"""
.//*[@class='comments-title' or
starts-with(@id|@class, 'reply-') or
re:test(@id|@style, 'hidden') or
contains(@style, 'display:none') or contains(@style, 'display: none') or
re:test(@id, 'reader-comments|akismet') or
re:test(@class, '{_HIDDEN_CLASS}') or @aria-hidden='true']
"""
_H_CLASS = re.compile(_HIDDEN_CLASS)
_H_ID = re.compile(r"reader-comments|akismet")
_HIDDEN = re.compile("hidden")


def overall_discard_hidden(tree) -> list:
    out = []
    for el in tree.iterdescendants(_ELEMENTS):
        cls, ident, style = el.get("class"), el.get("id"), el.get("style")
        if cls is None and ident is None and style is None:
            # Only @aria-hidden is left to test (an absent attribute is '', which matches nothing).
            if el.get("aria-hidden") == "true":
                out.append(el)
            continue
        if (cls == "comments-title"
                or _pick(el, "id", ident, "class", cls).startswith("reply-")
                or _HIDDEN.search(_pick(el, "id", ident, "style", style))
                or (style and ("display:none" in style or "display: none" in style))
                or (ident and _H_ID.search(ident))
                or (cls and _H_CLASS.search(cls))
                or el.get("aria-hidden") == "true"):
            out.append(el)
    return out


# --- BODY_XPATH[0] ---------------------------------------------------------------------
_BODY_ID = r"(?:entry|article|art)-content|article__content|article(?:-|__)?body|articleBody|body-text"
_BODY_CLASS = (r"post[-_]text|post-body|post-?entry|post[-_]?content|postContent|post_inner_wrapper|article-?text|"
               r"articleText|(?:entry|page|text|article|art)-content|article__content|article(?:-|__)?body|"
               r"articleBody|ArticleContent|body-text|article__container")
_BODY_TEXT = f"""
.//*[self::article or self::div or self::main or self::section][
@class='post' or @class='entry' or
@itemprop='articleBody' or @id='articleContent' or
re:test(@id, '{_BODY_ID}') or
re:test(@class, '{_BODY_CLASS}')
][1]
"""
_B_ID = re.compile(_BODY_ID)
_B_CLASS = re.compile(_BODY_CLASS)


def body_first(tree) -> list:
    """``.//*[…][1]``: per parent, its first child that matches (the caller takes the first overall)."""
    out, parents = [], set()
    for el in tree.iterdescendants("article", "div", "main", "section"):
        i, c = el.get("id"), el.get("class")
        if (c == "post" or c == "entry" or el.get("itemprop") == "articleBody" or i == "articleContent"
                or _B_ID.search((i or "")) or _B_CLASS.search((c or ""))):
            parent = el.getparent()
            if parent not in parents:  # lxml keeps one proxy per node while it is referenced
                parents.add(parent)
                out.append(el)
    return out


# --- BASIC_CLEAN_XPATH (trafilatura.settings; used by the baseline extractor and html2txt) ---
_CONSENT = (r"cookie[-_]?(?:banner|bar|consent|law|notice|policy|description)|notice[-_]{0,2}cookie|"
            r"consent[-_]?(?:banner|manager|sdk)|borlabs|cookiebot|cmplz|onetrust|moove[-_]?gdpr")
_BASIC_TEXT = (".//aside|.//div[contains(@class|@id, 'footer')]|.//fencedframe|.//footer|.//script|.//style|"
               f".//svg|.//template|.//*[re:test(@class, '{_CONSENT}', 'i') or re:test(@id, '{_CONSENT}', 'i')]")
_BC_TAGS = frozenset({"aside", "fencedframe", "footer", "script", "style", "svg", "template"})
_BC_CONSENT = re.compile(_CONSENT, re.I)


def basic_clean(tree) -> list:
    out = []
    search = _BC_CONSENT.search
    for el in tree.iterdescendants(_ELEMENTS):
        tag = el.tag
        if tag in _BC_TAGS:
            out.append(el)
            continue
        cls, ident = el.get("class"), el.get("id")
        if cls is None and ident is None:
            continue  # the other tests read one of the two; an absent one is '', which matches nothing
        if ((tag == "div" and "footer" in _pick(el, "class", cls, "id", ident))
                or (cls and search(cls)) or (ident and search(ident))):
            out.append(el)
    return out


@dataclass
class Speedup:
    """One trafilatura expression and its Python matcher."""

    name: str  # "module.NAME[index]" as the library holds it (index None: a bare XPath)
    module: str
    attr: str
    index: int | None
    text: str  # the XPath as transcribed
    matcher: Callable[[object], list]
    original: object = field(default=None, repr=False)  # the library's XPath, kept for uninstall/tests

    def location(self):
        import importlib

        holder = getattr(importlib.import_module(self.module), self.attr)
        return holder

    def current(self):
        holder = self.location()
        return holder if self.index is None else holder[self.index]


SPEEDUPS = [
    Speedup("RAW_TREE_PRUNE_XPATH[0]", "trafilatura.xpaths", "RAW_TREE_PRUNE_XPATH", 0, _RAW_PRUNE_TEXT,
            raw_tree_prune),
    Speedup("REMOVE_COMMENTS_AND_LISTS_XPATH[0]", "trafilatura.xpaths", "REMOVE_COMMENTS_AND_LISTS_XPATH", 0,
            _COMMENTS_LISTS_TEXT, comments_and_lists),
    Speedup("OVERALL_DISCARD_XPATH[0]", "trafilatura.xpaths", "OVERALL_DISCARD_XPATH", 0, _DISCARD_TEXT,
            overall_discard),
    Speedup("OVERALL_DISCARD_XPATH[1]", "trafilatura.xpaths", "OVERALL_DISCARD_XPATH", 1, _HIDDEN_TEXT,
            overall_discard_hidden),
    Speedup("BODY_XPATH[0]", "trafilatura.xpaths", "BODY_XPATH", 0, _BODY_TEXT, body_first),
    # a bare XPath, imported by name into trafilatura.baseline: that binding is the one to replace
    Speedup("BASIC_CLEAN_XPATH", "trafilatura.baseline", "BASIC_CLEAN_XPATH", None, _BASIC_TEXT, basic_clean),
]


def _norm(text: str) -> str:
    return " ".join(text.split())


class _Matcher:
    """Callable like an ``lxml.etree.XPath`` on a tree; ``path`` is the expression it stands for."""

    __slots__ = ("fn", "path", "speedup")

    def __init__(self, speedup: Speedup, path: str) -> None:
        self.fn, self.path, self.speedup = speedup.matcher, path, speedup

    def __call__(self, tree, **variables) -> list:
        if variables or not isinstance(tree, etree._Element):
            # A document (_ElementTree) or XPath variables: what only the XPath itself handles.
            return self.speedup.original(tree, **variables)
        return self.fn(tree)

    def __repr__(self) -> str:
        return f"<newsroom speedup for trafilatura {self.speedup.name}>"


def install() -> list[str]:
    """Replace each expression whose text is the transcribed one; return the names replaced."""
    done = []
    for s in SPEEDUPS:
        try:
            cur = s.current()
        except (ImportError, AttributeError, IndexError, TypeError):
            continue
        if isinstance(cur, _Matcher):
            done.append(s.name)
            continue
        if not isinstance(cur, etree.XPath) or _norm(cur.path) != _norm(s.text):
            continue  # another trafilatura: its own XPath stays (slower, never wrong)
        s.original = cur
        _put(s, _Matcher(s, cur.path))
        done.append(s.name)
    return done


def uninstall() -> None:
    """Put the library's own XPath objects back."""
    for s in SPEEDUPS:
        if s.original is not None and isinstance(s.current(), _Matcher):
            _put(s, s.original)


def installed() -> list[str]:
    """Names of the expressions currently replaced by a matcher."""
    out = []
    for s in SPEEDUPS:
        try:
            if isinstance(s.current(), _Matcher):
                out.append(s.name)
        except (ImportError, AttributeError, IndexError, TypeError):
            pass
    return out


def _put(s: Speedup, value) -> None:
    import importlib

    if s.index is None:
        setattr(importlib.import_module(s.module), s.attr, value)
    else:
        # Lists are shared by reference (core, main_extractor and external import them by
        # name), so the item is replaced in place for all of them at once.
        s.location()[s.index] = value


@contextmanager
def stock_trafilatura():
    """Within the block, trafilatura runs its own XPath expressions (for baselines and tests)."""
    was = installed()
    uninstall()
    try:
        yield
    finally:
        if was:
            install()
