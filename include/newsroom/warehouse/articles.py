"""The one writer of ``articles`` rows, and the one rule for an article's metadata.

Feeds, Reddit link posts and Reddit self posts all reach an article; which got
there first must not decide what the article says. The rule, per field:

* **outlet**: the configured feed that lists the URL (its ``outlet``), else the
  page's own site name (og:site_name, JSON-LD publisher: ``sitename``), else
  the registered domain (the host for IP addresses and ``localhost``);
* **title, published_at, author**: a feed's, else the page's; a Reddit post's
  only when neither has one (it fills a gap, never replaces);
* **url, source_id, origin**: the feed that lists it, else whoever stored it;
* **text**: a page that failed, or gave a teaser shorter than what a feed
  carries, is replaced by that feed's content (``feed_content``), as it would
  have been had the feed come first.

When several configured feeds list one URL, the feed whose name sorts first
decides (per field, among those that have a value), so the result is the same
whatever order the sources ran in. The page's metadata is read once, when the
page is extracted (:func:`article_row`); later claims are applied by
:func:`apply_metadata_rule` from what the warehouse holds (``feed_entries``
linked to the article, ``reddit_posts`` linked to it), so a later, better
source upgrades an earlier guess and a rerun changes nothing.

Also here: the enrichment queue (``processed_at``: :func:`unprocessed_article_ids`,
:func:`mark_processed`) and re-extraction in place from the captures
(:func:`stored_pages`, :func:`apply_reextractions`). The duplicate columns
(``duplicate_of``, ``duplicate_kind``) are written by :mod:`newsroom.warehouse.stories`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, and_, func, select, update

from newsroom.extract.fingerprint import normalised_text_hash  # pure: computed in the extraction workers too
from newsroom.warehouse.db import _storable, dialect_insert, insert_ignore
from newsroom.warehouse.schema import Article, Capture, FeedEntryRow, Source, utcnow
from newsroom.warehouse.schema.reddit import RedditPost as PostRow

__all__ = ["normalised_text_hash", "site_outlet", "article_row", "insert_articles", "record_page_captures",
           "store_page_batch", "apply_metadata_rule",
           "article_ids_by_canonical_url", "unprocessed_article_ids", "mark_processed",
           "article_ids_dated_in", "StoredPage", "stored_pages", "ReExtraction", "apply_reextractions"]

_WORD = re.compile(r"\w+")
# What the extractor calls "too little to be the article" (newsroom.extract.article.MIN_ARTICLE_WORDS).
MIN_ARTICLE_WORDS = 60
_CHUNK = 500


def site_outlet(sitename: str | None, url: str) -> str | None:
    """The outlet when no configured feed names one: the page's site name, else the
    registered domain (``www.bbc.co.uk`` → ``bbc.co.uk``), else the host itself."""
    from newsroom.dedup.urls import _registered_domain

    parts = urlsplit(url)
    # The extractor falls back to the URL's host as "site name" (trafilatura does): that is no name.
    hosts = {h.lower() for h in (parts.netloc, parts.hostname or "") if h}
    hosts |= {h[4:] for h in hosts if h.startswith("www.")}
    name = (sitename or "").strip()
    if name and name.lower() not in hosts:
        return name[:200]
    return _registered_domain(url) or (parts.hostname or None)


def article_row(*, canonical_url: str, url: str, source_id: int | None, origin: str, now: datetime,
                outlet: str | None, title: str | None, author: str | None, published_at: datetime | None,
                page_title: str | None = None, page_author: str | None = None,
                page_published_at: datetime | None = None, sitename: str | None = None,
                text: str | None = None, extraction_status: str, extraction_reason: str | None = None,
                language: str | None = None, description: str | None = None,
                capture_id: int | None = None, text_hash: str | None = None) -> dict:
    """A new ``articles`` row under the rule: ``title``/``author``/``published_at``/``outlet``
    are what the *source* said (a feed's, or a Reddit post's), ``page_*`` and ``sitename``
    what the page said. A feed's values win over the page's, the page's over a post's.

    ``text_hash`` is ``normalised_text_hash(text)`` when the caller has it already (the
    extraction workers compute it); it is computed here otherwise."""
    from_feed = origin == "feed"

    def pick(source_value, page_value):
        first, second = (source_value, page_value) if from_feed else (page_value, source_value)
        return first if first not in (None, "") else (second if second not in (None, "") else None)

    if origin == "feed":
        chosen_outlet = outlet or site_outlet(sitename, canonical_url)
    elif origin == "reddit_self":
        chosen_outlet = outlet  # the post is the article: its subreddit is the outlet
    else:
        chosen_outlet = site_outlet(sitename, canonical_url)
    text = text or None
    return {
        "canonical_url": canonical_url, "url": url, "source_id": source_id,
        "origin": "reddit" if origin == "reddit_self" else origin,
        "outlet": chosen_outlet, "title": pick(title, page_title), "author": pick(author, page_author),
        "published_at": pick(published_at, page_published_at), "first_seen_at": now,
        "language": language, "sitename": sitename, "description": description, "text": text,
        "text_hash": (text_hash or normalised_text_hash(text)) if text else None, "word_count": len(text.split()) if text else 0,
        "extraction_status": extraction_status, "extraction_reason": extraction_reason,
        "capture_id": capture_id, "updated_at": now,
    }


def insert_articles(conn: Connection, rows: list[dict]) -> int:
    """Insert rows; a canonical URL already stored is left alone (a concurrent run that stored
    the same page first wins, no duplicate) — :func:`apply_metadata_rule` then upgrades it.
    Returns how many rows were new.

    One executemany of one small cached statement (the driver batches the rows): a
    multi-row ``VALUES`` statement, as :func:`~newsroom.warehouse.db.upsert` builds, is
    compiled afresh for every batch size, which cost the ingest's main process more
    CPU than the insert itself. Rows are inserted in the order given, so ids follow it.
    """
    if not rows:
        return 0
    first: dict[str, dict] = {}
    for r in rows:  # two candidates of one batch resolving to one canonical page: one row
        first.setdefault(r["canonical_url"], r)
    # Same column set in every row (article_row builds them); RETURNING counts the new ones.
    return len(insert_ignore(conn, Article, list(first.values()), keys=["canonical_url"], returning="id"))


def store_page_batch(engine: Engine, captures: list[dict], rows: list[dict],
                     capture_of_row: list[int | None]) -> int:
    """One transaction for a batch of fetched pages: their ``captures`` rows, then their
    ``articles`` rows, each article pointing at its page's capture (``capture_of_row[i]`` is
    the index in ``captures`` of row ``i``'s page, or None). Returns how many articles are new.
    Together, so a batch is never half stored: no article without its capture, and the reverse."""
    with engine.begin() as conn:
        capture_ids = record_page_captures(conn, captures)
        for row, k in zip(rows, capture_of_row):
            if k is not None:
                row["capture_id"] = capture_ids[k]
        return insert_articles(conn, rows)


def record_page_captures(conn: Connection, rows: list[dict]) -> list[int]:
    """Upsert ``captures`` rows (``kind, url, sha256, path, content_type, status, bytes,
    fetched_at``) on ``(url, sha256)``, refreshing ``fetched_at``; returns their ids in order.

    The page path's batch writer: one executemany per batch, in the transaction that then
    inserts the batch's articles (which reference these ids). ``fetched_at`` is the last
    time these bytes came from that URL: retention (:mod:`newsroom.warehouse.retention`)
    ages captures by it, so one seen again is fresh.
    """
    if not rows:
        return []
    table = Capture.__table__
    stmt = dialect_insert(conn)(table)
    stmt = stmt.on_conflict_do_update(index_elements=["url", "sha256"], set_={"fetched_at": stmt.excluded.fetched_at})
    conn.execute(stmt, [{k: _storable(v) for k, v in r.items()} for r in rows])
    ids = {(u, h): i for u, h, i in conn.execute(
        select(table.c.url, table.c.sha256, table.c.id).where(table.c.sha256.in_({r["sha256"] for r in rows})))}
    return [ids[(r["url"], r["sha256"])] for r in rows]


def _feed_claims(conn: Connection, ids: list[int]) -> dict[int, list]:
    rows = conn.execute(
        select(FeedEntryRow.article_id, Source.name, Source.id.label("source_id"), Source.outlet, FeedEntryRow.url,
               FeedEntryRow.title, FeedEntryRow.author, FeedEntryRow.published_at, FeedEntryRow.content,
               FeedEntryRow.summary, FeedEntryRow.id.label("entry_id"))
        .join(Source, Source.id == FeedEntryRow.source_id)
        .where(FeedEntryRow.article_id.in_(ids), Source.kind == "feed")).all()
    out: dict[int, list] = {}
    for r in rows:
        out.setdefault(r.article_id, []).append(r)
    for claims in out.values():
        claims.sort(key=lambda r: (r.name, r.entry_id))
    return out


def _post_claims(conn: Connection, ids: list[int]) -> dict[int, list]:
    rows = conn.execute(select(PostRow.article_id, PostRow.id, PostRow.title, PostRow.created_at)
                        .where(PostRow.article_id.in_(ids))).all()
    out: dict[int, list] = {}
    for r in rows:
        out.setdefault(r.article_id, []).append(r)
    for claims in out.values():
        claims.sort(key=lambda r: r.id)
    return out


def _first(claims, field: str):
    for c in claims:
        value = getattr(c, field)
        if value not in (None, ""):
            return value
    return None


def _feed_text(claims) -> tuple[str | None, int]:
    """The text of the first feed (by name) that carries content, and its word count."""
    from newsroom.extract.text import html_to_text

    for c in claims:
        raw = c.content or c.summary
        text = html_to_text(raw) if raw else ""  # as the extractor's fallback does (not stripped)
        if text.strip():
            return text, len(_WORD.findall(text))
    return None, 0


def _words_up_to(text: str | None, limit: int) -> int:
    """How many words ``text`` has, counting no further than ``limit``: the rule only asks
    whether a page is shorter than that, and counting a whole article's words for every
    linked entry was most of the linking step's CPU."""
    n = 0
    for _ in _WORD.finditer(text or ""):
        n += 1
        if n >= limit:
            break
    return n


def _decide(a, feeds: list, posts: list) -> dict:
    """The changes the rule makes to article row ``a`` given its feed and post claims."""
    values: dict = {}
    if feeds:
        best = feeds[0]
        for field in ("title", "author", "published_at"):
            v = _first(feeds, field)
            if v is not None:
                values[field] = v
        values.update(outlet=best.outlet or site_outlet(a.sitename, a.canonical_url), url=best.url or a.url,
                      source_id=best.source_id, origin="feed")
        status, words = a.extraction_status, _words_up_to(a.text, MIN_ARTICLE_WORDS)
        if status == "feed_content":  # the first feed by name with content, not whichever came first
            text, _ = _feed_text(feeds)
            if text and text != a.text:
                values.update(text=text, text_hash=normalised_text_hash(text), word_count=len(text.split()))
        elif status == "failed" or (status == "ok" and words < MIN_ARTICLE_WORDS):
            text, feed_words = _feed_text(feeds)
            if text and (status == "failed" or feed_words > words):
                reason = (a.extraction_reason or "").split(";")[0].strip() if status == "failed" \
                    else f"page_text_too_short: {words} words"
                values.update(text=text, text_hash=normalised_text_hash(text), word_count=len(text.split()),
                              extraction_status="feed_content", extraction_reason=reason or None)
    for field, post_field in (("title", "title"), ("published_at", "created_at")):
        current = values.get(field, getattr(a, field))
        if current in (None, "") and posts:
            values[field] = _first(posts, post_field)
    row = a._mapping
    changed = {k: v for k, v in values.items() if k not in row or v != row[k]}
    if set(changed) <= {"text_hash", "word_count"}:
        return {}  # derived from the text: they change only with it
    return changed


def apply_metadata_rule(conn: Connection, article_ids) -> int:
    """Re-apply the rule to these articles from every claim the warehouse holds for them
    (call it after linking feed entries or posts). Returns how many rows changed."""
    ids = sorted({i for i in article_ids if i is not None})
    changed = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        # Row locks (PostgreSQL) so two runs upgrading one article apply the rule one after the other.
        arts = conn.execute(select(Article.id, Article.canonical_url, Article.url, Article.source_id, Article.origin,
                                   Article.outlet, Article.title, Article.author, Article.published_at,
                                   Article.sitename, Article.text, Article.extraction_status,
                                   Article.extraction_reason)
                            .where(Article.id.in_(chunk)).order_by(Article.id).with_for_update()).all()
        feeds, posts = _feed_claims(conn, chunk), _post_claims(conn, chunk)
        for a in arts:
            values = _decide(a, feeds.get(a.id, []), posts.get(a.id, []))
            if not values:
                continue
            if "text" in values:
                values["processed_at"] = None  # new text: tags, duplicates and stories are redone
            conn.execute(update(Article).where(Article.id == a.id).values(**values, updated_at=utcnow()))
            changed += 1
    return changed


def article_ids_by_canonical_url(engine: Engine, canonical_urls: Iterable[str]) -> dict[str, int]:
    """{canonical URL: article id} for the URLs already stored."""
    out: dict[str, int] = {}
    urls = list(dict.fromkeys(canonical_urls))
    with engine.connect() as conn:
        for start in range(0, len(urls), _CHUNK):
            chunk = urls[start:start + _CHUNK]
            for cu, aid in conn.execute(select(Article.canonical_url, Article.id)
                                        .where(Article.canonical_url.in_(chunk))):
                out[cu] = aid
    return out


# ---------------------------------------------------------------------------
# the enrichment queue (``processed_at``) and reprocessing reads/writes
# ---------------------------------------------------------------------------

def unprocessed_article_ids(engine: Engine, limit: int) -> list[int]:
    """The first ``limit`` articles (by id) not yet enriched (``processed_at`` unset):
    the one "processed" marker of the pipeline (new text resets it, see :func:`apply_metadata_rule`)."""
    with engine.connect() as conn:
        return list(conn.execute(
            select(Article.id).where(Article.processed_at.is_(None)).order_by(Article.id).limit(limit)).scalars())


def mark_processed(engine: Engine, article_ids: list[int]) -> None:
    """Set ``processed_at`` on the articles: tags, duplicates and stories are done for them."""
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, len(article_ids), _CHUNK):
            conn.execute(update(Article).where(Article.id.in_(article_ids[start:start + _CHUNK]))
                         .values(processed_at=now))


def article_ids_dated_in(engine: Engine, start: datetime, end: datetime) -> list[int]:
    """Articles published (or, lacking a date, first seen) in ``[start, end)`` — the digest's rule."""
    when = func.coalesce(Article.published_at, Article.first_seen_at)
    with engine.connect() as conn:
        return list(conn.execute(
            select(Article.id).where(and_(when >= start, when < end)).order_by(Article.id)).scalars())


@dataclass(frozen=True)
class StoredPage:
    """An article with the capture of its page (``path`` None: no capture), and the HTML
    its feed carried (content, else summary, as at ingest) for the extractor's fallback."""

    id: int
    url: str
    title: str | None
    author: str | None
    published_at: datetime | None
    text: str | None
    text_hash: str | None
    extraction_status: str
    capture_url: str | None
    path: str | None
    kind: str | None
    capture_type: str | None
    feed_fallback: str | None


def stored_pages(engine: Engine, article_ids: list[int]) -> list[StoredPage]:
    """The articles ``article_ids`` (by id) with their page captures and feed fallbacks."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Article.id, Article.url, Article.title, Article.author, Article.published_at, Article.text,
                   Article.text_hash, Article.extraction_status, Capture.url.label("capture_url"),
                   Capture.path, Capture.kind, Capture.content_type.label("capture_type"))
            .outerjoin(Capture, Capture.id == Article.capture_id)
            .where(Article.id.in_(article_ids)).order_by(Article.id)).all()
        fallbacks: dict[int, str] = {}
        for aid, content, summary in conn.execute(
                select(FeedEntryRow.article_id, FeedEntryRow.content, FeedEntryRow.summary)
                .where(FeedEntryRow.article_id.in_(article_ids)).order_by(FeedEntryRow.id)):
            if aid not in fallbacks and (content or summary):
                fallbacks[aid] = content or summary
    return [StoredPage(*r, feed_fallback=fallbacks.get(r.id)) for r in rows]


@dataclass(frozen=True)
class ReExtraction:
    """An article's new text and page fields; ``title``/``author``/``published_at``
    are set only when not None (they fill gaps, the feed's values stay)."""

    article_id: int
    text: str | None
    text_hash: str | None
    word_count: int
    extraction_status: str
    extraction_reason: str | None
    language: str | None
    sitename: str | None
    description: str | None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None


def apply_reextractions(engine: Engine, changes: Iterable[ReExtraction]) -> None:
    """Update the articles in place (ids and canonical URLs never change), in one transaction."""
    now = utcnow()
    with engine.begin() as conn:
        for ch in changes:
            values = {"text": ch.text, "text_hash": ch.text_hash, "word_count": ch.word_count,
                      "extraction_status": ch.extraction_status, "extraction_reason": ch.extraction_reason,
                      "language": ch.language, "sitename": ch.sitename, "description": ch.description,
                      "updated_at": now}
            for name in ("title", "author", "published_at"):
                if getattr(ch, name) is not None:
                    values[name] = getattr(ch, name)
            conn.execute(update(Article).where(Article.id == ch.article_id).values(**values))
