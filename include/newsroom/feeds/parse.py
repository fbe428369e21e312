"""Feed bytes → :class:`~newsroom.records.ParsedFeed` (RSS 0.9x/1.0/2.0, Atom).

feedparser does the parsing; this module decides what feedparser cannot:

* **Charset.** HTTP ``charset`` parameters are often wrong (server defaults)
  and feedparser obeys them (RFC 3023), turning good UTF-8 into mojibake. So
  the encoding is chosen here, in the order that is right most often in
  practice (as Miniflux does): a BOM; bytes that are valid UTF-8 are UTF-8;
  else the document's own XML declaration; else the HTTP charset (a declared
  label is obeyed, bad bytes replaced, as browsers do); charset detection only
  when nothing but a contradicted UTF-8 is declared. Labels are read as the
  WHATWG Encoding Standard defines them (``newsroom.fetch.charset``:
  iso-8859-1 → windows-1252, gb2312 → gb18030, the C1 bytes of windows-1252).
  feedparser is then handed the decoded text as UTF-8.
* **Hostile XML.** Entity declarations are refused before any parser expands
  them (``xml_entities_refused``): no real feed needs them, and they are how
  billion-laughs / quadratic-blowup bombs and external-entity reads
  (``<!ENTITY x SYSTEM "file:///etc/passwd">``) are built. Both prologs a parser
  could honour are checked: the one expat sees (strict parse) and the head
  feedparser's own DOCTYPE rewriting keeps for its loose parser.
* **Usable or not.** ``error`` (and no entries) when nothing usable came out:
  ``empty_body``, ``xml_entities_refused``, ``not_a_feed`` (HTML or other XML;
  advertised feeds are listed in ``discovered_feeds``), ``malformed_feed:
  <reason>`` (broken and no entries). A broken feed that still yielded entries
  keeps them, with ``warning`` set.
* **Entry fields.** Stable guid (id → link → hash), absolute URLs, plain-text
  titles and summaries, aware UTC dates (feedparser's, fixed for formats it
  gets wrong, dateutil as a fallback).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import time
import xml.parsers.expat
from datetime import datetime, timezone
from email.message import Message
from urllib.parse import urljoin, urlsplit

import feedparser
from dateutil import parser as dateutil_parser

from newsroom.extract.text import html_to_text, looks_like_html
from newsroom.fetch.charset import decode_bytes, python_codec, strictly_decodes, whatwg_encoding
from newsroom.records import FeedEntry, ParsedFeed

log = logging.getLogger(__name__)

__all__ = ["parse_feed", "choose_encoding"]

# --------------------------------------------------------------------------- charset

_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
)
_XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")


def _codec(label: str | None) -> str | None:
    """The Python codec that decodes what browsers decode under ``label`` (WHATWG
    labels: iso-8859-1 → windows-1252, gb2312 → gb18030, …), or None if unknown.
    Detector names that are not WHATWG labels (``cp1257``) are looked up as Python codecs."""
    if not label:
        return None
    enc = whatwg_encoding(label)
    if enc is not None:
        try:
            return codecs.lookup(python_codec(enc)).name
        except LookupError:  # "replacement", "x-user-defined": nothing a feed should use
            return None
    try:
        return codecs.lookup(label.strip().strip("'\"")).name
    except LookupError:
        return None


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    msg = Message()
    msg["content-type"] = content_type
    return msg.get_param("charset")  # type: ignore[return-value]


def _decodes(body: bytes, codec: str) -> bool:
    return strictly_decodes(body, codec)


def choose_encoding(body: bytes, content_type: str | None = None) -> tuple[str, str | None]:
    """The encoding to read ``body`` with, and a note when it had to be guessed or
    overrode what was declared (the note becomes the feed's warning)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, None
    if body[:2] in (b"\x00<", b"<\x00"):
        return ("utf-16-be" if body[0] == 0 else "utf-16-le"), None
    declared_http = _header_charset(content_type)
    m = _XML_DECL_ENCODING.match(body[:512])
    declared_xml = m.group(1).decode("ascii") if m else None
    if _decodes(body, "utf-8"):
        declared = _codec(declared_xml or declared_http)
        if declared and declared != "utf-8" and not body.isascii():
            return "utf-8", f"declared {declared_xml or declared_http} but the bytes are UTF-8"
        return "utf-8", None
    # A declared, known charset is obeyed (as browsers do), the first that fits every byte,
    # else the first declared at all, bad bytes replaced. A UTF-8 declaration the bytes
    # contradict is the one kind of label known to be wrong (server defaults): detection then.
    declared = [(label, _codec(label)) for label in (declared_xml, declared_http)]
    declared = [(label, codec) for label, codec in declared if codec and codec != "utf-8"]
    for label, codec in declared:
        if _decodes(body, codec):
            return codec, None
    if declared:
        label, codec = declared[0]
        return codec, f"bytes not all valid in the declared {label}; invalid ones replaced"
    guess = None
    try:
        from charset_normalizer import from_bytes

        matches = from_bytes(body[:200_000])
        best = matches.best()
        if best is not None:
            guess = _codec(best.encoding)
            # Ties are common on mostly-ASCII text; windows-1252 is the web's default
            # for undeclared bytes, so it wins a tie.
            tied = [m for m in matches if m.chaos <= best.chaos and m.coherence >= best.coherence]
            if any("cp1252" in m.could_be_from_charset for m in tied):
                guess = "cp1252"
    except Exception:  # detection is best effort
        guess = None
    if guess and _decodes(body, guess):
        return guess, f"bytes are not valid {declared_xml or declared_http or 'UTF-8'}; detected {guess}"
    return "windows-1252", f"bytes are not valid {declared_xml or declared_http or 'UTF-8'}; read as windows-1252"


# --------------------------------------------------------------------------- entity refusal

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<\w")  # feedparser.sanitizer.replace_doctype's head boundary


class _EntityDeclared(Exception):
    pass


class _PrologEnd(Exception):
    pass


def _declares_entities(utf8: bytes) -> bool:
    """True when a parser reading ``utf8`` could see an ``<!ENTITY`` declaration.

    Checks expat's view of the prolog (stopping at the root element, nothing
    is expanded) and the head feedparser's ``replace_doctype`` scans before
    handing entities to its loose parser.
    """
    start = _FIRST_ELEMENT.search(utf8)
    head = utf8[: start.start() + 1] if start else utf8
    if _ENTITY_DECL.search(head):
        return True

    def entity(*_args) -> None:
        raise _EntityDeclared

    def root(*_args) -> None:
        raise _PrologEnd

    p = xml.parsers.expat.ParserCreate(encoding="utf-8")
    p.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.EntityDeclHandler = entity
    p.UnparsedEntityDeclHandler = entity
    p.StartElementHandler = root
    try:
        for i in range(0, len(utf8), 65536):
            p.Parse(utf8[i : i + 65536], False)
        p.Parse(b"", True)
    except _EntityDeclared:
        return True
    except (_PrologEnd, xml.parsers.expat.ExpatError):
        return False
    return False


# --------------------------------------------------------------------------- dates

_SLASH_DATE = re.compile(
    r"^\s*(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)


def _parse_slash_date(value: str):
    """``2020/1/10 14:33:00`` (no zone: taken as UTC). feedparser's own handlers read
    it as 2020-11-01, so this one is registered in front of them."""
    m = _SLASH_DATE.match(value or "")
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc).timetuple()
    except ValueError:
        return None


if _parse_slash_date not in getattr(feedparser.datetimes, "_date_handlers", []):
    feedparser.registerDateHandler(_parse_slash_date)

# North American zone names dateutil does not know by itself.
_TZINFOS = {
    "EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
    "MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "BST": 3600, "CET": 3600, "CEST": 7200,
}


def _to_utc(parsed: time.struct_time | None, raw: str | None) -> datetime | None:
    if parsed is not None:
        try:
            return datetime(*parsed[:6], tzinfo=timezone.utc)
        except (TypeError, ValueError):
            pass
    if not raw:
        return None
    try:
        dt = dateutil_parser.parse(raw, tzinfos=_TZINFOS)
    except (ValueError, OverflowError, TypeError, dateutil_parser.ParserError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def _entry_datetime(entry) -> datetime | None:
    for key in ("published", "updated", "created"):
        dt = _to_utc(entry.get(f"{key}_parsed"), entry.get(key))
        if dt is not None:
            return dt
    return None


# --------------------------------------------------------------------------- entries

_WS = re.compile(r"\s+")
_WS_LINES = re.compile(r"[ \t]*\n\s*\n\s*")
_FEED_LINK_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
                    "application/rdf+xml", "application/xml", "text/xml")


def _is_html(value: str, detail) -> bool:
    """feedparser tells whether a text construct is HTML (``text/html``,
    ``application/xhtml+xml``) or plain text, which may contain a literal ``<``.
    Without that (e.g. a summary feedparser copied from ``content``), guess."""
    kind = (detail or {}).get("type")
    return "html" in kind if kind else looks_like_html(value)


def _text(value: str | None, detail=None) -> str | None:
    """Multi-line plain text of a feed text construct (summaries)."""
    if not value:
        return None
    text = html_to_text(value) if _is_html(value, detail) else _WS_LINES.sub("\n\n", value).strip()
    return text or None


def _plain(value: str | None, detail=None) -> str | None:
    """One-line plain text (titles, names, tags)."""
    text = _text(value, detail)
    if not text:
        return None
    return _WS.sub(" ", text).strip() or None


def _absolute(link: str | None, base: str) -> str | None:
    if not link:
        return None
    link = link.strip()
    try:
        absolute = urljoin(base, link)
    except ValueError:
        return None
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _content_html(entry) -> str | None:
    """The fullest body the feed carries (``content:encoded`` / Atom ``content``)."""
    contents = entry.get("content") or []
    best = None
    for c in contents:
        value = c.get("value") or ""
        if not value.strip():
            continue
        # Prefer HTML over plain text, then the longest.
        rank = ("html" in (c.get("type") or ""), len(value))
        if best is None or rank > best[0]:
            best = (rank, value)
    return best[1] if best else None


def _comments_url(entry, base: str) -> str | None:
    if entry.get("comments"):
        return _absolute(entry["comments"], base)
    for link in entry.get("links") or []:
        if link.get("rel") == "replies" and "html" in (link.get("type") or "text/html"):
            return _absolute(link.get("href"), base)
    return None


def _entry_url(entry, base: str) -> str | None:
    # Feedburner rewrites links through its tracker; the original is kept alongside.
    for candidate in (entry.get("feedburner_origlink"), entry.get("link")):
        url = _absolute(candidate, base)
        if url:
            return url
    for link in entry.get("links") or []:
        if link.get("rel", "alternate") == "alternate":
            url = _absolute(link.get("href"), base)
            if url:
                return url
    return None


def _guid(entry, url: str | None, title: str | None, published: datetime | None) -> str:
    guid = (entry.get("id") or "").strip()
    if guid:
        return guid
    if url:
        return url
    raw = f"{title or ''}|{published.isoformat() if published else entry.get('published', '')}"
    return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _fingerprint(entry: FeedEntry) -> str:
    raw = "|".join((entry.url or "", entry.title or "", entry.published_at.isoformat() if entry.published_at else "",
                    (entry.summary or "")[:500]))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def _tags(entry) -> list[str]:
    seen: dict[str, None] = {}
    for t in entry.get("tags") or []:
        term = _plain(t.get("term") or t.get("label"))
        if term and term not in seen:
            seen[term] = None
    return list(seen)


def _author(entry) -> str | None:
    detail = entry.get("author_detail") or {}
    return _plain(detail.get("name") or entry.get("author"))


def _to_entry(entry, base: str) -> FeedEntry:
    url = _entry_url(entry, base)
    title = _plain(entry.get("title"), entry.get("title_detail"))
    published = _entry_datetime(entry)
    summary = _text(entry.get("summary"), entry.get("summary_detail"))
    return FeedEntry(
        guid=_guid(entry, url, title, published),
        url=url,
        title=title,
        author=_author(entry),
        published_at=published,
        summary=summary,
        content=_content_html(entry),
        tags=_tags(entry),
        comments_url=_comments_url(entry, base),
    )


# --------------------------------------------------------------------------- documents

_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html|<head|<body)", re.IGNORECASE | re.DOTALL)


def _discover_feeds(text: str, base: str) -> list[str]:
    """Feed URLs an HTML page advertises with ``<link rel="alternate" type="application/rss+xml">``."""
    try:
        import lxml.html

        doc = lxml.html.document_fromstring(text)
    except Exception:
        return []
    found: dict[str, None] = {}
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "alternate" in rel and (link.get("type") or "").lower().strip() in _FEED_LINK_TYPES:
            url = _absolute(link.get("href"), base)
            if url:
                found.setdefault(url, None)
    return list(found)


def _bozo_reason(result) -> str:
    exc = result.get("bozo_exception")
    if exc is None:
        return "unknown parse error"
    detail = str(exc).replace("<unknown>:", "line ").strip()
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse one feed document fetched from ``url``.

    ``content_type`` is the response's Content-Type header (its charset is a
    hint, not gospel; see the module docstring). Never raises on bad input:
    problems come back in ``error`` / ``warning``.
    """
    if not body or not body.strip():
        return ParsedFeed(error="empty_body")
    encoding, note = choose_encoding(body, content_type)
    text = decode_bytes(body, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    utf8 = text.encode("utf-8")
    if _declares_entities(utf8):
        return ParsedFeed(error="xml_entities_refused: the document declares XML entities (DOCTYPE internal subset)")

    try:
        result = feedparser.parse(
            utf8,
            response_headers={
                # application/* makes feedparser take this charset over the XML declaration.
                "content-type": "application/xml; charset=utf-8",
                "content-location": url,
            },
            sanitize_html=True,
            resolve_relative_uris=True,
        )
    except Exception as exc:  # feedparser is robust, but input is hostile
        log.warning("feedparser failed on %s: %r", url, exc)
        return ParsedFeed(error=f"malformed_feed: {type(exc).__name__}: {exc}")

    base = url
    feed = result.get("feed") or {}
    fmt = result.get("version") or None
    raw_entries = result.get("entries") or []
    entries: list[FeedEntry] = []
    skipped = duplicates = 0
    seen: set[str] = set()
    for raw in raw_entries:
        try:
            entry = _to_entry(raw, base)
        except Exception as exc:  # one odd entry must not lose the others
            skipped += 1
            log.warning("skipping an entry of %s: %r", url, exc)
            continue
        if entry.guid in seen:
            # Some feeds reuse a guid for different posts (Scripting News does);
            # the guid is the load key, so a repeat gets a stable derived one.
            entry.guid = f"{entry.guid}#{_fingerprint(entry)}"
            if entry.guid in seen:  # the very same item twice
                duplicates += 1
                continue
        seen.add(entry.guid)
        entries.append(entry)

    title = _plain(feed.get("title"), feed.get("title_detail"))
    link = _absolute(feed.get("link"), base)
    bozo = bool(result.get("bozo"))

    if not entries:
        if not fmt:
            is_html = bool(_HTML_START.search(utf8[:4096])) or "<html" in text[:4096].lower()
            discovered = _discover_feeds(text, base) if is_html else []
            kind = "an HTML page" if is_html else "not RSS or Atom"
            detail = f"{kind}" + (f"; it advertises {', '.join(discovered)}" if discovered else "")
            return ParsedFeed(title=title, link=link, error=f"not_a_feed: {detail}", discovered_feeds=discovered)
        if bozo:
            return ParsedFeed(title=title, link=link, format=fmt, error=f"malformed_feed: {_bozo_reason(result)}")
        # A well-formed feed with no items is a usable (empty) feed.

    warnings = []
    if note:
        warnings.append(f"encoding: {note}")
    if bozo:
        warnings.append(_bozo_reason(result))
    if skipped:
        warnings.append(f"{skipped} entries could not be read")
    if duplicates:
        warnings.append(f"{duplicates} repeated entries dropped")
    return ParsedFeed(
        title=title,
        link=link,
        format=fmt,
        entries=entries,
        warning="; ".join(warnings) or None,
    )
