"""The article path shared by feeds and Reddit: URLs in, full-text articles out.

    ids = store_articles(engine, candidates, settings=..., fetcher=..., store=..., source_id=..., run_id=...)

For each candidate URL not yet in the warehouse: fetch the page (concurrently,
per-host limit, robots.txt), keep the raw HTML as a capture, extract the text
in a process pool, and insert one ``articles`` row per canonical URL through
the one article writer (:mod:`newsroom.warehouse.articles`, which also holds
the metadata rule the callers re-apply after linking their entries/posts).
When a page can't be fetched or extracted, the feed's own content is stored
instead and the reason recorded, so nothing the feed told us is lost.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from pydantic import BaseModel

from newsroom.dedup.urls import canonical_from_page, canonicalize_url
from newsroom.fetch.charset import html_as_utf8
from newsroom.records import Extraction, FetchResult
from newsroom.warehouse import Warehouse
from newsroom.warehouse.articles import (  # noqa: F401  (normalised_text_hash: re-exported)
    article_ids_by_canonical_url,
    article_row,
    normalised_text_hash,
    store_new_articles,
)
# Re-exported for the callers that keep a capture inside their own transaction (pipeline/reddit.py).
from newsroom.warehouse.captures import record_capture, record_captures, save_captures  # noqa: F401
from newsroom.warehouse import utcnow

log = logging.getLogger(__name__)

HTML_TYPES = {"text/html", "application/xhtml+xml", ""}


class ArticleCandidate(BaseModel):
    """A URL some source pointed at, with what that source said about it."""

    url: str
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    feed_content: str | None = None  # HTML/text the source carried (fallback)
    outlet: str | None = None
    origin: str = "feed"
    source_name: str | None = None  # the configured source that listed it (breaks ties between sources)


class StoredArticles(BaseModel):
    """Article ids per candidate URL (None when nothing could be stored) and counts."""

    ids: dict[str, int | None]
    new_articles: int = 0
    failures_by_reason: dict[str, int] = {}


def existing_article_ids(engine: Warehouse, canonical_urls: list[str]) -> dict[str, int]:
    return article_ids_by_canonical_url(engine, canonical_urls)


def _article_row(c: ArticleCandidate, ex: Extraction, canonical: str, source_id: int | None,
                 capture_id: int | None, now: datetime) -> dict:
    return article_row(
        canonical_url=canonical, url=c.url, source_id=source_id, origin=c.origin, now=now,
        outlet=c.outlet, title=c.title, author=c.author, published_at=c.published_at,
        page_title=ex.title, page_author=ex.author, page_published_at=ex.published_at, sitename=ex.sitename,
        text=ex.text, extraction_status=ex.status, extraction_reason=ex.reason, language=ex.language,
        description=ex.description, capture_id=capture_id)


def _fetch_failure_reason(res: FetchResult) -> str:
    if res.error:
        return res.error
    if res.content_type not in HTML_TYPES:
        return f"not_html: {res.content_type}"
    return "empty_body"


FETCH_CHUNK = 16


class _Fetched(BaseModel):
    """One candidate after fetching: the extraction task, or why there is none."""

    model_config = {"arbitrary_types_allowed": True}

    candidate: ArticleCandidate
    task: object | None = None  # ExtractTask
    reason: str = ""
    capture_id: int | None = None
    final_url: str | None = None


def _fetch_and_capture(engine: Warehouse, chunk: list[ArticleCandidate], *, settings, fetcher, store) -> list[_Fetched]:
    """Fetch the chunk's pages (concurrently, robots.txt honoured) and keep each body as a capture."""
    from newsroom.extract.pool import ExtractTask

    # Hosts outside NEWSROOM_ALLOWED_HOSTS are not fetched; their feed content still counts.
    results = fetcher.get_many([c.url for c in chunk if settings.host_allowed(c.url)], kind="page",
                               check_robots=True)
    out: list[_Fetched] = []
    to_capture: list[tuple[bytes, dict]] = []
    captured: list[_Fetched] = []
    for c in chunk:
        res = results.get(c.url)
        f = _Fetched(candidate=c, final_url=res.final_url if res is not None else None)
        if res is not None and res.ok and res.body:
            # The whole Content-Type (its charset too), so a re-extraction decodes the page the same way.
            to_capture.append((res.body, {"url": res.final_url or c.url, "status": res.status,
                                          "content_type": (res.headers.get("content-type") or "")[:200] or None}))
            captured.append(f)
        if res is not None and res.ok and res.body and res.content_type in HTML_TYPES:
            # The page's metadata is always read: its site name names the outlet when no feed does,
            # and a Reddit post's title and time only count when page and feed have none. Only the
            # date search (htmldate, the costly step) is skipped when a feed dated the entry.
            # The declared charset (HTTP, <meta>) decides; the extractor alone would only detect.
            html = html_as_utf8(res.body, res.headers.get("content-type"))
            f.task = ExtractTask(url=res.final_url or c.url, html=html, feed_fallback=c.feed_content,
                                 need_date=c.published_at is None or c.origin != "feed", page_metadata=True)
        elif not settings.host_allowed(c.url):
            f.reason = "host_not_allowed"
        else:
            f.reason = _fetch_failure_reason(res) if res is not None else "not_fetched"
        out.append(f)
    for f, cap_id in zip(captured, save_captures(engine, store, to_capture, kind="page")):
        f.capture_id = cap_id
    return out


def store_articles(engine: Warehouse, candidates: list[ArticleCandidate], *, settings, fetcher, store,
                   source_id: int | None, run_id: str | None = None, workers: int | None = None) -> StoredArticles:
    """Fetch, capture, extract and upsert the candidates that are not articles yet.

    Returns the article id of every candidate (existing ones included), so the
    caller can link feed entries / Reddit posts to them.
    """
    from newsroom.extract.article import extract_article
    from newsroom.extract.pool import MIN_BATCH_FOR_NEW_POOL, extract_many, warm_pool
    from newsroom.pipeline.outcome import raise_if_extraction_broken

    now = utcnow()
    by_canon: dict[str, ArticleCandidate] = {}
    canon_of: dict[str, str] = {}
    for c in candidates:
        try:
            cu = canonicalize_url(c.url)
        except Exception:
            continue
        canon_of[c.url] = cu
        by_canon.setdefault(cu, c)
    known = existing_article_ids(engine, list(by_canon))
    todo = [c for cu, c in by_canon.items() if cu not in known]
    failures: Counter[str] = Counter()
    if not todo:
        return StoredArticles(ids={c.url: known.get(canon_of.get(c.url, "")) for c in candidates})

    n_workers = workers if workers is not None else settings.extract_workers
    if sum(settings.host_allowed(c.url) for c in todo) >= MIN_BATCH_FOR_NEW_POOL:
        warm_pool(n_workers)  # worker start-up overlaps the first chunk's fetch
    rows: list[dict] = []
    # Fetch chunk k+1 while the process pool extracts chunk k: the main process's
    # work (HTTP, captures, SQL) overlaps the CPU-bound extraction on the other cores.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="newsroom-extract") as background:
        pending = []
        for start in range(0, len(todo), FETCH_CHUNK):
            fetched = _fetch_and_capture(engine, todo[start:start + FETCH_CHUNK], settings=settings,
                                         fetcher=fetcher, store=store)
            tasks = [f.task for f in fetched if f.task is not None]
            pending.append((fetched, background.submit(extract_many, tasks, workers=n_workers)))
        for fetched, future in pending:
            batch = future.result()
            # A pool that cannot run at all fails the task (Airflow retries it) before anything
            # is stored as if the pages were bad: their feed entries stay pending for the retry.
            raise_if_extraction_broken(batch)
            extracted = iter(batch)
            for f in fetched:
                if f.task is not None:
                    ex = next(extracted)
                else:
                    # The page is unusable: keep what the source itself carried, with the reason.
                    ex = extract_article(b"", f.candidate.url, feed_fallback=f.candidate.feed_content)
                    ex.reason = f.reason + (f"; {ex.reason}" if ex.status == "failed" and ex.reason else "")
                if ex.status != "ok":
                    failures[(ex.reason or ex.status).split(":")[0].split(";")[0]] += 1
                # The page's own rel=canonical/og:url when it is on the same site, else where redirects ended.
                canonical = canonical_from_page(f.final_url or f.candidate.url, ex.canonical_url, None)
                rows.append(_article_row(f.candidate, ex, canonical, source_id, f.capture_id, now))
                canon_of[f.candidate.url] = canonical
    if failures:
        # One line for the whole batch, not one (or a traceback) per page.
        log.warning("%d of %d pages not extracted: %s", sum(failures.values()), len(rows),
                    ", ".join(f"{n} × {r}" for r, n in failures.most_common()))
    # The one article writer; the caller links its entries/posts, then applies the metadata rule.
    new = store_new_articles(engine, rows)
    ids = existing_article_ids(engine, [canon_of.get(c.url, "") for c in candidates])
    return StoredArticles(
        ids={c.url: ids.get(canon_of.get(c.url, "")) for c in candidates},
        new_articles=new,
        failures_by_reason=dict(failures),
    )
