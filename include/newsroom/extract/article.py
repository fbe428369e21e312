"""Page bytes → :class:`~newsroom.records.Extraction` (article text and metadata).

The body text is what ``trafilatura.extract(html_bytes)`` returns with its
default settings except reader comments (``comments=False``, see ``_options``):
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
from html import unescape as _html_unescape
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from trafilatura.core import bare_extraction, determine_returnstring
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, Extractor, set_date_params
from trafilatura.utils import load_html

from newsroom.extract.sniff import looks_binary, strip_control_bytes
from newsroom.extract.text import html_to_text
from newsroom.records import Extraction

log = logging.getLogger(__name__)

__all__ = ["extract_article", "MIN_ARTICLE_WORDS"]

# Below this many words a page's text is treated as "too little" when the
# feed offers more: teasers and consent walls are shorter, real articles longer.
MIN_ARTICLE_WORDS = 60

# htmldate keeps the time and zone when the page gives them (article:published_time).
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

_LANG_PATTERNS = (
    re.compile(rb"""<html\b[^>]*?\b(?:xml:)?lang\s*=\s*["']?\s*([A-Za-z]{2,3})(?![A-Za-z])""", re.IGNORECASE),
    re.compile(rb"""<meta\b[^>]*?http-equiv\s*=\s*["']?content-language["']?[^>]*?content\s*=\s*["']?\s*([A-Za-z]{2,3})(?![A-Za-z])""",
               re.IGNORECASE),
    re.compile(rb"""<meta\b[^>]*?property\s*=\s*["']?og:locale["']?[^>]*?content\s*=\s*["']?\s*([A-Za-z]{2,3})(?![A-Za-z])""",
               re.IGNORECASE),
)
_WORD = re.compile(r"\w+")
_CANONICAL_TAG = re.compile(rb"""<link\b[^>]*?\brel\s*=\s*["']?\s*canonical\b[^>]*>""", re.IGNORECASE)
_HREF = re.compile(rb"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


def _date_params() -> dict:
    # trafilatura's defaults (original date, extensive search, no future dates) plus the time of day.
    return {**set_date_params(True), "outputformat": _DATE_FORMAT}


def _options(url: str) -> Extractor:
    """trafilatura.extract()'s defaults, minus reader comments.

    An article's text is what its author wrote: comment threads under it are not
    part of it (Reddit discussion is kept separately, as comments). On the
    extraction benchmark this raises precision (0.937 → 0.948) at equal recall,
    and saves the comment-extraction pass. Metadata is read separately.
    """
    return Extractor(output_format="txt", url=url, comments=False)


def _page_metadata(tree, url: str, need_date: bool = True) -> Document:
    """trafilatura's ``extract_metadata`` without what the warehouse does not keep.

    Same steps and order (meta tags, JSON-LD, title, author, canonical URL,
    htmldate, sitename), minus categories, tags and licence, which cost about
    a third of metadata time on the benchmark pages and are not stored.
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
    if not meta.author:
        meta.author = extract_author(tree)
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


def _language(html: bytes) -> str | None:
    head = html[:65536]
    for pattern in _LANG_PATTERNS:
        m = pattern.search(head)
        if m:
            return m.group(1).decode("ascii").lower()
    return None


def _absolute(candidate: str | None, base: str) -> str | None:
    if not candidate:
        return None
    try:
        url = urljoin(base, candidate.strip())
    except ValueError:
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def _relative_canonical(html: bytes, url: str) -> str | None:
    tag = _CANONICAL_TAG.search(html[:131072])
    href = _HREF.search(tag.group(0)) if tag else None
    if not href:
        return None
    value = next(g for g in href.groups() if g is not None).decode("utf-8", "replace")
    return _absolute(_html_unescape(value), url)


def _words(text: str | None) -> int:
    return len(_WORD.findall(text or ""))


def _with_metadata(result: Extraction, doc, html: bytes, url: str) -> Extraction:
    if doc is not None:
        result.title = doc.title or None
        result.author = doc.author or None
        result.published_at = _as_utc(doc.date)
        result.sitename = doc.sitename or None
        result.description = doc.description or None
        result.canonical_url = _absolute(doc.url, url)
        if result.canonical_url in (None, url):
            # trafilatura drops a relative canonical link unless og: tags give a base.
            result.canonical_url = _relative_canonical(html, url) or result.canonical_url
    elif html:
        result.canonical_url = _relative_canonical(html, url)  # cheap: a regex over the head
    result.language = _language(html)
    return result


def _without_page(url: str, reason: str, feed_fallback: str | None, doc=None, html: bytes = b"") -> Extraction:
    """The page is unusable: the feed's own content if it has any, else a recorded failure."""
    text = html_to_text(feed_fallback) if feed_fallback else ""
    if text.strip():
        result = Extraction(url=url, status="feed_content", reason=reason, text=text)
    else:
        result = Extraction(url=url, status="failed", reason=reason)
    return _with_metadata(result, doc, html, url)


def _extract(html: bytes, url: str, feed_fallback: str | None, need_date: bool = True,
             page_metadata: bool = True) -> Extraction:
    if not html or not html.strip():
        return _without_page(url, "empty_body", feed_fallback)
    if looks_binary(html):  # a real signature (PNG, PDF, …), not a stray NUL
        return _without_page(url, "not_html", feed_fallback)
    html = strip_control_bytes(html)  # libxml2 stops at a NUL: controls go before the parse
    tree = load_html(html)  # the one parse: metadata reads it, extraction works on a copy
    if tree is None:
        return _without_page(url, "not_html", feed_fallback, html=html)
    meta = _page_metadata(tree, url, need_date) if page_metadata else None
    options = _options(url)
    doc = bare_extraction(tree, options=options)
    # The text as trafilatura.extract() renders it (txt output, same options).
    text = determine_returnstring(doc, options).strip() if doc is not None else ""
    if not text:
        return _without_page(url, "no_text_extracted", feed_fallback, meta, html)
    doc = meta
    if feed_fallback:
        words = _words(text)
        fallback = html_to_text(feed_fallback)
        if words < MIN_ARTICLE_WORDS and _words(fallback) > words:
            return _with_metadata(
                Extraction(url=url, status="feed_content", reason=f"page_text_too_short: {words} words",
                           text=fallback),
                doc, html, url)
    return _with_metadata(Extraction(url=url, status="ok", text=text), doc, html, url)


def extract_article(html: bytes, url: str, *, feed_fallback: str | None = None,
                    need_date: bool = True, page_metadata: bool = True) -> Extraction:
    """Extract the article in ``html`` (the page's raw bytes) fetched from ``url``.

    ``feed_fallback`` is the HTML the feed itself carried for this entry
    (``FeedEntry.content`` or its summary); it is used only when the page
    yields no or too little text. ``need_date=False`` skips the page-date search
    when the feed already gave the entry's date; ``page_metadata=False`` skips
    the page's metadata (title, author, date, sitename, description) altogether
    when the source already told them — language and canonical URL are still
    read, by cheap scans of the head. Never raises.
    """
    try:
        return _extract(html, url, feed_fallback, need_date, page_metadata)
    except Exception as exc:  # a crash in the extractor is one failed page, not a failed batch
        log.warning("extractor error on %s: %r", url, exc)
        reason = f"extractor_error: {type(exc).__name__}: {exc}"[:500]
        try:
            return _without_page(url, reason, feed_fallback)
        except Exception:
            return Extraction(url=url, status="failed", reason=reason)
