"""A fetched page → a finished record, with every per-page CPU step in the extraction worker.

    extract_many([FetchedPage(url=final_url, body=res.body, content_type=ct, ...)],
                 extract_fn=extract_fetched)   # → [PageExtraction, ...]

The ingest task's main process fetches, writes and orchestrates; anything that
is a pure function of one page's bytes belongs on the worker cores, so the
main process never holds the two workers up (issue 15: the whole path cost
28 ms of CPU per article against 18 ms for ``extract_many`` alone, most of
the difference serial in the main process). What a worker now does for a
page, in the order the main process used to:

1. decode the body by its declared charset (:func:`newsroom.fetch.charset.html_as_utf8`:
   HTTP ``charset``, ``<meta charset>``; the extractor alone would only detect);
2. :func:`newsroom.extract.article.extract_article` (text and metadata, one parse);
3. the article's canonical URL (:func:`newsroom.dedup.urls.canonical_from_page`:
   the page's own ``rel=canonical`` when it is on the same site, else the final URL);
4. the normalised text hash (:func:`newsroom.extract.fingerprint.normalised_text_hash`).

Each step is the same function on the same input as before, so the stored
rows are identical (tests/e2e/test_ingest_same_rows.py compares them).
"""

from __future__ import annotations

from dataclasses import dataclass

from newsroom.dedup.urls import canonical_from_page
from newsroom.extract.article import extract_article
from newsroom.extract.fingerprint import normalised_text_hash
from newsroom.fetch.charset import html_as_utf8
from newsroom.records import Extraction

__all__ = ["FetchedPage", "PageExtraction", "extract_fetched", "finish"]


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One page as the fetcher returned it: final URL, raw body and its Content-Type."""

    url: str  # where redirects ended: the base for relative links and the fallback canonical
    body: bytes
    content_type: str | None = None  # the whole header (its charset parameter decides the decoding)
    feed_fallback: str | None = None
    need_date: bool = True  # False when the source already dated the entry
    page_metadata: bool = True
    need_author: bool = True  # False when the source already named the author


class PageExtraction(Extraction):
    """An :class:`~newsroom.records.Extraction` plus what the warehouse row derives from it."""

    article_url: str  # the canonical key of the ``articles`` row
    text_hash: str | None = None  # normalised_text_hash(text)


def finish(ex: Extraction, url: str) -> PageExtraction:
    """``ex`` with its canonical key (resolved against ``url``, the page's final URL) and text hash.

    Used by the workers, and by the main process for pages it handles itself
    (unfetchable pages stored from the feed's content, a crashed worker's page).
    """
    if isinstance(ex, PageExtraction):
        return ex
    return PageExtraction(**dict(ex), article_url=canonical_from_page(url, ex.canonical_url, None),
                          text_hash=normalised_text_hash(ex.text))


def extract_fetched(page: FetchedPage) -> PageExtraction:
    """The worker's whole job for one fetched page (never raises on bad input)."""
    html = html_as_utf8(page.body, page.content_type)
    ex = extract_article(html, page.url, feed_fallback=page.feed_fallback, need_date=page.need_date,
                         page_metadata=page.page_metadata, need_author=page.need_author)
    return finish(ex, page.url)
