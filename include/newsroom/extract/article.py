"""Page bytes → :class:`~newsroom.records.Extraction` (article text and metadata).

The body text is what ``trafilatura.extract(html_bytes)`` returns with its
default settings except reader comments (``comments=False``, see ``_text``):
measured on the article extraction benchmark (``benchmarks/extraction_quality.py``)
it loses nothing against the defaults (same recall, higher precision), and any
further tuning would have to beat it there first. Metadata (title, author, date,
sitename, canonical URL, description) comes from trafilatura too
(its metadata functions on the same parsed tree, so the page is parsed once,
without the categories/tags/licence steps the warehouse has no column for).

Outcomes (``Extraction.status``):

* ``ok``: text from the page.
* ``feed_content``: the page gave no text, or too little to be the article
  (paywall teaser, consent wall, JS-only page), and the feed carried the
  article: its HTML becomes the text and ``reason`` says why the page was not used.
* ``failed``: neither; ``reason`` is ``empty_body``, ``not_html``,
  ``no_text_extracted`` or ``extractor_error: …``.

``extract_article`` never raises on bad input.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, set_date_params

from newsroom.extract.sniff import looks_binary, strip_control_bytes
from newsroom.extract.text import html_to_text
from newsroom.extract.trafilatura_adapter import page_author_in_place, page_text, parse_html
from newsroom.records import Extraction

log = logging.getLogger(__name__)

__all__ = ["extract_article", "MIN_ARTICLE_WORDS"]

# Below this many words a page's text is treated as "too little" when the
# feed offers more: teasers and consent walls are shorter, real articles longer.
MIN_ARTICLE_WORDS = 60

# htmldate keeps the time and zone when the page gives them (article:published_time).
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

_WORD = re.compile(r"\w+")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_LANG_CODE = re.compile(r"\s*([A-Za-z]{2,3})(?![A-Za-z])")


def _date_params() -> dict:
    # trafilatura's defaults (original date, extensive search, no future dates) plus the time of day.
    return {**set_date_params(True), "outputformat": _DATE_FORMAT}


def _text(tree, url: str) -> str:
    """The page's text: ``trafilatura.extract()``'s output, minus reader comments.

    An article's text is what its author wrote: comment threads under it are not
    part of it (Reddit discussion is kept separately, as comments). On the
    extraction benchmark this raises precision (0.937 → 0.948) at equal recall,
    and saves the comment-extraction pass. Metadata is read separately.

    trafilatura's ``fast`` mode first: it skips the fallback extractors
    (readability, jusText) that trafilatura runs on every page to compare with
    its own result, a third of its CPU. Those fallbacks are for pages where the
    main extractor finds too little, so when the fast text is under
    ``MIN_ARTICLE_WORDS`` the full comparison runs and the longer text is kept.
    On the benchmark pages this is F1 0.9630 either way (3 of 127 texts differ:
    one better each way, one equal), at two thirds of the CPU.
    """
    text = page_text(tree, url, fast=True)
    if _words(text) < MIN_ARTICLE_WORDS:
        full = page_text(tree, url, fast=False)
        if _words(full) > _words(text):
            text = full
    return text


def _page_metadata(tree, url: str, need_date: bool = True) -> Document:
    """trafilatura's ``extract_metadata`` without what the warehouse does not keep.

    Same steps and order (meta tags, JSON-LD, title, author, canonical URL,
    htmldate, sitename), minus categories, tags and licence, which cost about
    a third of metadata time on the benchmark pages and are not stored — except
    the author search in the page body when the meta tags and JSON-LD named none:
    it prunes the tree, so trafilatura runs it on a deep copy; here it runs last,
    on the tree itself, once nothing else reads it (``page_author_in_place``). No later
    step reads the author, so the result is the same, without one copy of the tree.
    """
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None  # single words are usually handles or boilerplate (as trafilatura does)
    try:
        meta = extract_meta_json(tree, meta)
    except Exception as exc:  # trafilatura guards this call the same way
        log.debug("JSON-LD metadata failed on %s: %r", url, exc)
    if not meta.title:
        meta.title = extract_title(tree)
    if not meta.url:
        meta.url = extract_url(tree, url)
    # htmldate is the costliest metadata step; skip it when the source already dated the entry.
    meta.date = find_date(tree, url=meta.url, **_date_params()) if need_date else None
    if not meta.sitename:
        meta.sitename = extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif meta.url:
        m = META_URL.match(meta.url)
        if m:
            meta.sitename = m[1]
    meta.clean_and_trim()
    return meta


def _as_utc(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in (_DATE_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            dt = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)  # a date alone, or no zone given
        return dt.astimezone(timezone.utc)
    return None


def _lang_code(value: str | None) -> str | None:
    m = _LANG_CODE.match(value or "")
    return m.group(1).lower() if m else None


def _language(tree) -> str | None:
    """The page's declared language (ISO 639 code): ``<html lang>``, then the
    Content-Language meta, then ``og:locale``; read from the parsed tree."""
    if tree is None:
        return None
    root = tree.getroottree().getroot()
    code = _lang_code(root.get("lang") or root.get("xml:lang") or root.get(_XML_LANG))
    if code:
        return code
    locale = None
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() == "content-language":
            code = _lang_code(meta.get("content"))
            if code:
                return code
        elif locale is None and (meta.get("property") or "").strip().lower() == "og:locale":
            locale = _lang_code(meta.get("content"))
    return locale


def _absolute(candidate: str | None, base: str) -> str | None:
    if not candidate:
        return None
    try:
        url = urljoin(base, candidate.strip())
    except ValueError:
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def _relative_canonical(tree, url: str) -> str | None:
    """The first ``<link rel="canonical" href>`` of the parsed page, made absolute against ``url``."""
    if tree is None:
        return None
    for link in tree.getroottree().getroot().iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            return _absolute(link.get("href"), url)
    return None


def _words(text: str | None) -> int:
    return len(_WORD.findall(text or ""))


def _with_metadata(result: Extraction, doc, tree, url: str, need_author: bool = True) -> Extraction:
    if doc is not None:
        result.title = doc.title or None
        result.author = doc.author or None
        result.published_at = _as_utc(doc.date)
        result.sitename = doc.sitename or None
        result.description = doc.description or None
        result.canonical_url = _absolute(doc.url, url)
        if result.canonical_url in (None, url):
            # trafilatura drops a relative canonical link unless og: tags give a base.
            result.canonical_url = _relative_canonical(tree, url) or result.canonical_url
    else:
        result.canonical_url = _relative_canonical(tree, url)
    result.language = _language(tree)
    if need_author and doc is not None and not doc.author and tree is not None:
        result.author = page_author_in_place(tree)  # last: it prunes the tree
    return result


def _without_page(url: str, reason: str, feed_fallback: str | None, doc=None, tree=None,
                  need_author: bool = True) -> Extraction:
    """The page is unusable: the feed's own content if it has any, else a recorded failure."""
    text = html_to_text(feed_fallback) if feed_fallback else ""
    if text.strip():
        result = Extraction(url=url, status="feed_content", reason=reason, text=text)
    else:
        result = Extraction(url=url, status="failed", reason=reason)
    return _with_metadata(result, doc, tree, url, need_author)


def _extract(html: bytes, url: str, feed_fallback: str | None, need_date: bool = True,
             page_metadata: bool = True, need_author: bool = True) -> Extraction:
    if not html or not html.strip():
        return _without_page(url, "empty_body", feed_fallback)
    if looks_binary(html):  # a real signature (PNG, PDF, …), not a stray NUL
        return _without_page(url, "not_html", feed_fallback)
    html = strip_control_bytes(html)  # libxml2 stops at a NUL: controls go before the parse
    tree = parse_html(html)  # the one parse: metadata reads it, extraction works on a copy
    if tree is None:
        return _without_page(url, "not_html", feed_fallback)
    meta = _page_metadata(tree, url, need_date) if page_metadata else None
    text = _text(tree, url)
    if not text:
        return _without_page(url, "no_text_extracted", feed_fallback, meta, tree, need_author)
    doc = meta
    if feed_fallback:
        words = _words(text)
        fallback = html_to_text(feed_fallback)
        if words < MIN_ARTICLE_WORDS and _words(fallback) > words:
            return _with_metadata(
                Extraction(url=url, status="feed_content", reason=f"page_text_too_short: {words} words",
                           text=fallback),
                doc, tree, url, need_author)
    return _with_metadata(Extraction(url=url, status="ok", text=text), doc, tree, url, need_author)


def extract_article(html: bytes, url: str, *, feed_fallback: str | None = None,
                    need_date: bool = True, page_metadata: bool = True, need_author: bool = True) -> Extraction:
    """Extract the article in ``html`` (the page's raw bytes) fetched from ``url``.

    ``feed_fallback`` is the HTML the feed itself carried for this entry
    (``FeedEntry.content`` or its summary); it is used only when the page
    yields no or too little text. ``need_date=False`` skips the page-date search
    when the feed already gave the entry's date; ``page_metadata=False`` skips
    the page's metadata (title, author, date, sitename, description) altogether
    when the source already told them — language and canonical URL are still
    read, from the parsed tree. ``need_author=False`` (the feed named the author)
    skips the search for a byline in the page's body, the costliest metadata step
    left; the author the page's meta tags and JSON-LD give is still read. Never raises.
    """
    try:
        return _extract(html, url, feed_fallback, need_date, page_metadata, need_author)
    except Exception as exc:  # a crash in the extractor is one failed page, not a failed batch
        log.warning("extractor error on %s: %r", url, exc)
        reason = f"extractor_error: {type(exc).__name__}: {exc}"[:500]
        try:
            return _without_page(url, reason, feed_fallback)
        except Exception:
            return Extraction(url=url, status="failed", reason=reason)
