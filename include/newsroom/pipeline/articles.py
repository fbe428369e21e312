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
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from pydantic import BaseModel

from newsroom.dedup.urls import canonicalize_url
from newsroom.records import Extraction, FetchResult
from newsroom.warehouse import Warehouse
from newsroom.warehouse.articles import (  # noqa: F401  (normalised_text_hash: re-exported)
    article_ids_by_canonical_url,
    article_row,
    normalised_text_hash,
    store_page_batch,
)
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
        description=ex.description, capture_id=capture_id, text_hash=getattr(ex, "text_hash", None))


def _fetch_failure_reason(res: FetchResult) -> str:
    if res.error:
        return res.error
    if res.content_type not in HTML_TYPES:
        return f"not_html: {res.content_type}"
    return "empty_body"


# Pages per extract_many call. Small, so extraction starts as soon as the first pages
# arrive instead of after a whole chunk's fetch; big enough that a systemic failure
# (every page of a batch crashing its worker) is still told apart from one bad page.
EXTRACT_BATCH = 4
# Rows per warehouse transaction (captures and articles together, executemany).
WRITE_BATCH = 32


class _Fetched(BaseModel):
    """One candidate after fetching: the page to extract, or why there is none."""

    model_config = {"arbitrary_types_allowed": True}

    candidate: ArticleCandidate
    task: object | None = None  # FetchedPage
    reason: str = ""
    capture: tuple[bytes, dict] | None = None  # (body, {"url", "status", "content_type"}) to keep
    final_url: str | None = None


def _fetched(c: ArticleCandidate, res: FetchResult | None, settings) -> _Fetched:
    """What to do with one candidate's fetch result (the extraction itself runs in a worker)."""
    from newsroom.extract.page import FetchedPage

    f = _Fetched(candidate=c, final_url=res.final_url if res is not None else None)
    if res is not None and res.ok and res.body:
        # The whole Content-Type (its charset too), so a re-extraction decodes the page the same way.
        f.capture = (res.body, {"url": res.final_url or c.url, "status": res.status,
                                "content_type": (res.headers.get("content-type") or "")[:200] or None})
    if res is not None and res.ok and res.body and res.content_type in HTML_TYPES:
        # The page's metadata is always read: its site name names the outlet when no feed does,
        # and a Reddit post's title and time only count when page and feed have none. Only the
        # date search (htmldate, the costly step) is skipped when a feed dated the entry, and
        # the byline search in the page's body when a feed named the author (a feed's values
        # win over the page's: article_row). The declared charset (HTTP, <meta>) decides; the
        # worker decodes the page by it.
        from_feed = c.origin == "feed"
        f.task = FetchedPage(url=res.final_url or c.url, body=res.body, content_type=res.headers.get("content-type"),
                             feed_fallback=c.feed_content, need_date=c.published_at is None or not from_feed,
                             page_metadata=True, need_author=not (from_feed and c.author))
    elif not settings.host_allowed(c.url):
        f.reason = "host_not_allowed"
    else:
        f.reason = _fetch_failure_reason(res) if res is not None else "not_fetched"
    return f


class _OrderedWriter:
    """Turns extracted pages into ``captures`` and ``articles`` rows, written in candidate order.

    Extraction batches finish in any order (fetches complete as they do, workers race);
    rows are written in the order of the candidates all the same, in transactions of
    ``WRITE_BATCH`` rows, so article ids and "first candidate wins" do not depend on
    timing. Called from the extraction threads (and the fetch loop), under one lock.
    Once a batch could not be extracted (the pool is broken), nothing after it is written.
    """

    def __init__(self, engine: Warehouse, store, todo: list[ArticleCandidate], source_id: int | None,
                 now: datetime):
        self.engine, self.store, self.source_id, self.now = engine, store, source_id, now
        self.position = {c.url: i for i, c in enumerate(todo)}
        self.done: dict[int, tuple[_Fetched, object]] = {}  # position → (fetched, PageExtraction)
        self.next = 0  # the first position not yet written
        self.total = len(todo)
        self.lock = threading.Lock()
        self.error: BaseException | None = None
        self.failures: Counter[str] = Counter()
        self.canonical: dict[str, str] = {}  # candidate URL → article key
        self.new = 0
        self.rows = 0

    def accept(self, fetched: list[_Fetched], extracted: list[Extraction] | None) -> None:
        """Record a batch: ``extracted`` holds one result per fetched page with a task
        (None when the batch has no task: pages stored from the feed's content)."""
        from newsroom.extract.article import extract_article
        from newsroom.extract.page import finish
        from newsroom.pipeline.outcome import raise_if_extraction_broken

        finished = []
        results = iter(extracted or [])
        for f in fetched:
            if f.task is not None:
                ex = next(results)
            else:
                # The page is unusable: keep what the source itself carried, with the reason.
                ex = extract_article(b"", f.candidate.url, feed_fallback=f.candidate.feed_content)
                ex.reason = f.reason + (f"; {ex.reason}" if ex.status == "failed" and ex.reason else "")
            # The page's own rel=canonical/og:url when it is on the same site, else where redirects ended.
            finished.append((f, finish(ex, f.final_url or f.candidate.url)))
        with self.lock:
            if self.error is not None:
                return
            if extracted:
                try:
                    # A pool that cannot run at all fails the task (Airflow retries it) before anything
                    # is stored as if the pages were bad: their feed entries stay pending for the retry.
                    raise_if_extraction_broken(extracted)
                except Exception as exc:
                    self.error = exc
                    raise
            for f, ex in finished:
                self.done[self.position[f.candidate.url]] = (f, ex)
            self._write(final=False)

    def fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = exc

    def flush(self) -> None:
        with self.lock:
            if self.error is None:
                self._write(final=True)

    def _write(self, *, final: bool) -> None:
        end = self.next
        while end in self.done:
            end += 1
        if end == self.next or (end - self.next < WRITE_BATCH and not final and end < self.total):
            return
        batch = [self.done.pop(i) for i in range(self.next, end)]
        captures, captured = [], []
        for i, (f, _) in enumerate(batch):
            if f.capture is not None:
                body, meta = f.capture
                ref = self.store.put(body, kind="page")
                captures.append({"kind": "page", "url": meta["url"], "sha256": ref.sha256, "path": ref.path,
                                 "content_type": meta.get("content_type"), "status": meta.get("status"),
                                 "bytes": ref.bytes, "fetched_at": utcnow()})
                captured.append(i)
        rows, capture_of_row = [], []
        capture_index = {row: n for n, row in enumerate(captured)}
        for i, (f, ex) in enumerate(batch):
            if ex.status != "ok":
                self.failures[(ex.reason or ex.status).split(":")[0].split(";")[0]] += 1
            rows.append(_article_row(f.candidate, ex, ex.article_url, self.source_id, None, self.now))
            capture_of_row.append(capture_index.get(i))
            self.canonical[f.candidate.url] = ex.article_url
        # Captures and articles in one transaction, through the one article writer; the caller
        # links its entries/posts, then applies the metadata rule.
        self.new += store_page_batch(self.engine, captures, rows, capture_of_row)
        self.rows += len(rows)
        self.next = end


def store_articles(engine: Warehouse, candidates: list[ArticleCandidate], *, settings, fetcher, store,
                   source_id: int | None, run_id: str | None = None, workers: int | None = None) -> StoredArticles:
    """Fetch, capture, extract and upsert the candidates that are not articles yet.

    Returns the article id of every candidate (existing ones included), so the
    caller can link feed entries / Reddit posts to them.

    The stages overlap: each page goes to the extraction pool as soon as it is fetched
    (in batches of ``EXTRACT_BATCH``), the workers return finished records (decoded,
    extracted, canonical key, text hash: :mod:`newsroom.extract.page`), and rows are
    written in candidate order while later pages are still being fetched and extracted.
    The main process only fetches and writes, so it keeps the workers fed.
    """
    from newsroom.extract.page import extract_fetched
    from newsroom.extract.pool import MIN_BATCH_FOR_NEW_POOL, extract_many, warm_pool

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
    if not todo:
        return StoredArticles(ids={c.url: known.get(canon_of.get(c.url, "")) for c in candidates})

    n_workers = workers if workers is not None else settings.extract_workers
    # Hosts outside NEWSROOM_ALLOWED_HOSTS are not fetched; their feed content still counts.
    fetchable = [c for c in todo if settings.host_allowed(c.url)]
    if len(fetchable) >= MIN_BATCH_FOR_NEW_POOL:
        warm_pool(n_workers, background=True)  # worker start-up overlaps the first fetches
    writer = _OrderedWriter(engine, store, todo, source_id, now)
    by_url = {c.url: c for c in fetchable}
    unfetched = [_fetched(c, None, settings) for c in todo if not settings.host_allowed(c.url)]
    if unfetched:
        writer.accept(unfetched, None)

    def extract_and_write(batch: list[_Fetched]) -> None:
        try:
            results = extract_many([f.task for f in batch], workers=n_workers, extract_fn=extract_fetched)
        except BaseException as exc:
            writer.fail(exc)
            raise
        writer.accept(batch, results)

    jobs = []
    ready: list[_Fetched] = []
    seen: set[str] = set()
    # Enough extraction calls in flight to keep every worker busy while the next pages arrive.
    with ThreadPoolExecutor(max_workers=max(2, (n_workers or 2) + 2), thread_name_prefix="newsroom-extract") as bg:
        def on_result(url: str, res: FetchResult) -> None:
            seen.add(url)
            f = _fetched(by_url[url], res, settings)
            if f.task is None:
                writer.accept([f], None)
                return
            ready.append(f)
            if len(ready) >= EXTRACT_BATCH:
                jobs.append(bg.submit(extract_and_write, ready[:]))
                ready.clear()

        fetcher.get_many([c.url for c in fetchable], kind="page", check_robots=True, on_result=on_result)
        missing = [_fetched(c, None, settings) for c in fetchable if c.url not in seen]
        if missing:  # never the case today; a row per candidate all the same
            writer.accept(missing, None)
        if ready:
            jobs.append(bg.submit(extract_and_write, ready[:]))
        for job in jobs:
            job.result()  # an extraction pool that cannot run fails the task here
    writer.flush()
    canon_of.update(writer.canonical)
    failures = writer.failures
    if failures:
        # One line for the whole batch, not one (or a traceback) per page.
        log.warning("%d of %d pages not extracted: %s", sum(failures.values()), writer.rows,
                    ", ".join(f"{n} × {r}" for r, n in failures.most_common()))
    ids = existing_article_ids(engine, [canon_of.get(c.url, "") for c in candidates])
    return StoredArticles(
        ids={c.url: ids.get(canon_of.get(c.url, "")) for c in candidates},
        new_articles=writer.new,
        failures_by_reason=dict(failures),
    )
