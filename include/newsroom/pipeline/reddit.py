"""Reddit ingestion: one subreddit per call, as one Airflow mapped task.

    counts = ingest_subreddit("LocalLLaMA", settings=settings, run_key=run_id, credentials=creds)

Listing (JSON, following ``after``; RSS when configured or when JSON is
blocked) → posts above the score threshold with an engagement snapshot →
the top comments of threads whose comment count moved → articles: a self
post's own text, a link post's page through the shared article path
(:func:`newsroom.pipeline.articles.store_articles`), images/videos/Reddit
links recorded only.

A subreddit that fails (403 private/quarantined/banned, 404, 429, 5xx, HTML
instead of JSON) gets its reason on its ``sources`` row and in
``source_runs``, and the reason is returned — never raised — so the other
subreddits' tasks are unaffected. The returned dict holds counts and reasons
only: no credentials, no bodies (it travels through XCom).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from newsroom.captures import CaptureStore
from newsroom.config import SourcesFile, SubredditSource, load_sources
from newsroom.fetch.client import Fetcher
from newsroom.fetch.policy import FetchPolicy
from newsroom.pipeline.articles import ArticleCandidate, store_articles
from newsroom.reddit.client import RateLimited, RedditClient, RedditCredentials, RedditError
from newsroom.reddit.parse import ParseError, RedditPost, parse_thread, snapshot_of
from newsroom.reddit.rss import parse_subreddit_feed
from newsroom.warehouse import open_warehouse
from newsroom.warehouse.captures import save_capture
from newsroom.warehouse import reddit as reddit_store
from newsroom.warehouse.reddit import RequestRecord
from newsroom.warehouse.schema import utcnow

log = logging.getLogger("newsroom.reddit")

#: JSON failures worth trying the RSS feed for: the API is blocked for us,
#: not the subreddit closed (a quarantined or private subreddit's feed is closed too).
RSS_FALLBACK_REASONS = ("forbidden", "forbidden_blocked", "html_not_json", "invalid_json")
#: Comments requested per thread, as a multiple of the top N kept: scores
#: are only comparable over a sample larger than what is kept.
THREAD_SAMPLE = 5


class _RequestLog:
    """``fetch_log`` rows (kind ``reddit``) for the API requests of this call."""

    def __init__(self, run_key: str, source_id: int):
        self.run_key, self.source_id, self.rows = run_key, source_id, []

    def add(self, url: str, status: int | None, nbytes: int = 0, elapsed_ms: float = 0.0, error: str | None = None):
        self.rows.append(RequestRecord(url=url, status=status, bytes=nbytes, elapsed_ms=elapsed_ms, error=error,
                                       fetched_at=utcnow()))

    def flush(self, engine) -> None:
        if self.rows:
            reddit_store.record_requests(engine, self.run_key, self.source_id, self.rows)
            self.rows = []


def _capture(engine, captures: CaptureStore, body: bytes, url: str, status: int | None, ctype: str | None):
    """Keep the raw response, so parsing can be rerun without the network."""
    save_capture(engine, captures, body, kind="reddit", url=url, status=status, content_type=ctype or None)


def _read_json(client: RedditClient, sub: SubredditSource, engine, store, rlog) -> list[RedditPost]:
    """Up to ``limit`` posts from each configured listing, merged: a post listed in
    several (hot and new) is kept once, in the place it first appeared. A listing
    that fails fails the subreddit (a partial read would look like posts vanishing)."""
    merged: dict[str, RedditPost] = {}
    for listing in sub.listing:
        posts: list[RedditPost] = []
        pages = client.iter_listing(sub.name, listing, limit=sub.limit, time_filter=sub.time_filter)
        while True:
            try:
                resp, page = next(pages)
            except StopIteration:
                break
            except RedditError as exc:
                rlog.add(exc.url or "", exc.status, error=exc.reason)
                raise
            rlog.add(resp.url, resp.status, len(resp.body), resp.elapsed_ms)
            _capture(engine, store, resp.body, resp.url, resp.status, resp.content_type)
            posts.extend(page.posts)
        for p in posts[: sub.limit]:
            merged.setdefault(p.id, p)
    return list(merged.values())


def _read_rss(client: RedditClient, sub: SubredditSource, engine, store, rlog) -> list[RedditPost]:
    try:
        resp = client.get_rss(sub.name, limit=sub.limit)
    except RedditError as exc:
        rlog.add(exc.url or "", exc.status, error=exc.reason)
        raise
    rlog.add(resp.url, resp.status, len(resp.body))
    _capture(engine, store, resp.body, resp.url, resp.status, resp.headers.get("content-type"))
    try:
        return parse_subreddit_feed(resp.body)[: sub.limit]
    except ParseError as exc:
        raise RedditError(exc.reason, status=resp.status, url=resp.url, detail=str(exc)) from None


def _read_posts(client, sub, engine, store, rlog) -> tuple[list[RedditPost], str, str | None]:
    """The subreddit's posts and how they were read (``json`` | ``rss``), plus a
    note when JSON failed and RSS stood in."""
    if sub.use_rss:
        return _read_rss(client, sub, engine, store, rlog), "rss", None
    try:
        return _read_json(client, sub, engine, store, rlog), "json", None
    except RateLimited:
        raise
    except RedditError as exc:
        if not (sub.rss_fallback and exc.reason in RSS_FALLBACK_REASONS):
            raise
        log.warning("reddit: r/%s JSON unusable (%s), reading its RSS feed instead", sub.name, exc.reason)
        try:
            return _read_rss(client, sub, engine, store, rlog), "rss", f"json_{exc.reason}"
        except RedditError as rss_exc:
            raise RedditError(exc.reason, status=exc.status, url=exc.url,
                              detail=f"{exc.detail or ''}; RSS fallback failed: {rss_exc.reason}".lstrip("; ")) from None


def _keep(post: RedditPost, sub: SubredditSource) -> bool:
    """Posts worth storing: above the score threshold (RSS carries no score, so
    every RSS post is kept) and not a stickied moderator announcement."""
    if post.stickied:
        return False
    return post.score is None or post.score >= sub.min_score


def _store_link_articles(engine, listed: list[RedditPost], *, settings, source_id: int, run_key: str,
                         failures: Counter) -> tuple[int, int, int]:
    """Link posts' pages through the shared article path (fetch, capture, extract, upsert).

    The posts come from the warehouse's queue (:func:`~newsroom.warehouse.reddit.pending_link_posts`),
    up to ``max_articles_per_source`` a run, oldest first: what this run's listing showed and
    what earlier runs left past the cap, whether or not it is still listed. Returns posts
    linked, new articles and the posts still waiting."""
    refused = sum(1 for p in listed if not settings.host_allowed(p.url))
    if refused:  # counted in the run that lists them (no zero entries in failures_by_reason)
        failures["host_not_allowed"] += refused
    queue = reddit_store.pending_link_posts(engine, source_id, settings.max_articles_per_source,
                                            allowed=settings.host_allowed)
    allowed = queue.posts
    if not allowed:
        return 0, 0, queue.backlog
    cands = [ArticleCandidate(url=p.url, title=p.title, published_at=p.created_at, origin="reddit")
             for p in allowed]
    requests: list[RequestRecord] = []

    def on_request(res, kind):
        requests.append(RequestRecord(url=res.url, status=res.status, kind=kind, bytes=len(res.body or b""),
                                      elapsed_ms=res.elapsed_ms, error=res.error, fetched_at=utcnow()))

    with Fetcher(FetchPolicy.from_settings(settings), on_request=on_request) as fetcher:
        stored = store_articles(engine, cands, settings=settings, fetcher=fetcher,
                                store=CaptureStore(settings.data_dir), source_id=source_id, run_id=run_key)
    reddit_store.record_requests(engine, run_key, source_id, requests)
    failures.update(stored.failures_by_reason)
    linked = reddit_store.link_articles(engine, {p.id: stored.ids.get(p.url) for p in allowed})
    return linked, stored.new_articles, queue.backlog


def ingest_subreddit(name: str, *, settings, run_key: str, credentials: RedditCredentials | None = None,
                     sources: SourcesFile | None = None, engine=None,
                     now: datetime | None = None) -> dict:
    """Ingest one configured subreddit; returns counts and, on failure, ``reason``.

    Keys: ``subreddit``, ``status`` (ok | failed | skipped), ``via`` (json | rss),
    ``posts``, ``new_posts``, ``snapshots``, ``threads``, ``comments``,
    ``articles`` (posts linked to an article this run), ``new_articles``,
    ``requests`` (to Reddit), ``deferred`` (threads left for the next run after a
    rate limit), ``backlog`` (link posts past the per-run cap, taken by later runs),
    ``errors`` and ``failures_by_reason``, ``reason``.
    """
    now = now or utcnow()
    sources = sources or load_sources(settings.sources)
    counts: dict = {"subreddit": name, "status": "ok", "via": None, "posts": 0, "new_posts": 0, "snapshots": 0,
                    "threads": 0, "comments": 0, "articles": 0, "new_articles": 0, "requests": 0, "deferred": 0,
                    "backlog": 0, "errors": 0, "failures_by_reason": {}, "reason": None}
    try:
        sub = sources.reddit.subreddit(name)
    except KeyError:
        counts.update(status="failed", reason="not_configured")
        return counts
    counts["subreddit"] = sub.name
    engine = engine or open_warehouse(settings.resolved_warehouse_url)
    cfg = sources.reddit
    source_id = reddit_store.ensure_subreddit_source(engine, sub.name, f"{cfg.base_url.rstrip('/')}/r/{sub.name}/",
                                                     enabled=sub.enabled)
    if not sub.enabled:
        counts.update(status="skipped", reason="disabled")
        reddit_store.record_subreddit_outcome(engine, source_id, run_key, status="skipped", reason="disabled",
                                              now=now)
        return counts
    api_url = cfg.oauth_base_url if credentials else cfg.base_url
    if not settings.host_allowed(api_url):
        counts.update(status="failed", reason="host_not_allowed")
        reddit_store.record_subreddit_outcome(engine, source_id, run_key, status="failed",
                                              reason="host_not_allowed", now=now)
        return counts

    captures = CaptureStore(settings.data_dir)
    rlog = _RequestLog(run_key, source_id)
    failures: Counter[str] = Counter()
    client = RedditClient(cfg, user_agent=settings.user_agent, credentials=credentials,
                          policy=FetchPolicy.from_settings(settings))
    try:
        try:
            listed, via, note = _read_posts(client, sub, engine, captures, rlog)
        except RedditError as exc:
            counts.update(status="failed", reason=exc.reason, requests=client.requests)
            reddit_store.record_subreddit_outcome(engine, source_id, run_key, status="failed",
                                                  reason=f"{exc.reason}: {exc.detail}" if exc.detail else exc.reason,
                                                  http_status=exc.status, counts=counts, now=now)
            log.warning("reddit: r/%s failed: %s", sub.name, exc)
            return counts
        counts["via"] = via
        if note:
            failures[note] += 1
        kept = [p for p in listed if _keep(p, sub)]
        snaps = [s for s in (snapshot_of(p, now) for p in kept) if s is not None]
        listing = reddit_store.store_listing(engine, kept, snaps, source_id=source_id, via=via, run_key=run_key,
                                             want_threads=via == "json" and sub.top_comments > 0, now=now)
        todo = listing.threads_to_read
        counts.update(posts=len(kept), new_posts=len(listing.new_post_ids), snapshots=listing.snapshots)

        # Top comments, thread by thread; a rate limit defers the rest to the next run.
        for i, post in enumerate(todo):
            try:
                resp = client.get_thread(post.id, limit=min(500, max(50, sub.top_comments * THREAD_SAMPLE)))
                rlog.add(resp.url, resp.status, len(resp.body), resp.elapsed_ms)
                thread = parse_thread(resp.data, sub.top_comments)
            except RateLimited as exc:
                rlog.add(exc.url or "", exc.status, error=exc.reason)
                counts["deferred"] = len(todo) - i
                counts["reason"] = "rate_limited"
                failures["rate_limited"] += 1
                break
            except (RedditError, ParseError) as exc:
                if isinstance(exc, RedditError):
                    rlog.add(exc.url or "", exc.status, error=exc.reason)
                counts["errors"] += 1
                failures[f"thread_{exc.reason}"] += 1
                continue
            _capture(engine, captures, resp.body, resp.url, resp.status, resp.content_type)
            counts["comments"] += reddit_store.store_thread(engine, post.id, thread.comments, post.num_comments or 0,
                                                            now=now)
            counts["threads"] += 1

        # Articles: once per post (posts already linked are left alone).
        pending = reddit_store.unlinked_posts(engine, [p.id for p in kept])
        selfs = [p for p in kept if p.id in pending and p.link_kind == "self"]
        links = [p for p in kept if p.id in pending and p.link_kind == "article"]
        selves = reddit_store.store_self_post_articles(engine, selfs, source_id=source_id, now=now)
        counts["articles"] += selves.linked
        counts["new_articles"] += selves.new_articles
        if sub.articles:
            linked, new_links, counts["backlog"] = _store_link_articles(
                engine, links, settings=settings, source_id=source_id, run_key=run_key, failures=failures)
            counts["articles"] += linked
            counts["new_articles"] += new_links

        counts["requests"] = client.requests
        counts["failures_by_reason"] = dict(failures)
        reddit_store.record_subreddit_outcome(engine, source_id, run_key, status="ok",
                                              reason=counts["reason"] or note, http_status=200, counts=counts,
                                              failures=dict(failures), now=now)
        return counts
    finally:
        counts["requests"] = client.requests
        client.close()
        rlog.flush(engine)
