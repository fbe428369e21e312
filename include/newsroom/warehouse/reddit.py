"""The Reddit aggregate: every read and write of ``reddit_posts``, ``reddit_snapshots`` and
``reddit_comments`` (their one writer). A subreddit's ``sources``/``source_runs`` rows and its
``fetch_log`` rows go through those tables' own writers (:mod:`~newsroom.warehouse.sources`,
:mod:`~newsroom.warehouse.fetch_log`).

Each write is an upsert on a natural key, so reruns never duplicate:

* ``reddit_posts`` on ``id``: refreshed each run, ``first_seen_at`` and a
  known ``article_id`` are never overwritten;
* ``reddit_snapshots`` on ``(post_id, run_key)``: a rerun of the same run
  overwrites its own snapshot, a new run adds one;
* ``reddit_comments`` on ``id``: scores and ranks refreshed in place; a comment
  that left the thread's top N keeps its row with rank 0;
* ``sources`` on ``name`` (``reddit:<Sub>``) with the fetch state, and
  ``source_runs`` on ``(run_id, source_id)`` with the outcome of the run.

The functions a subreddit run calls take the engine and are one transaction each
(:func:`store_listing`, :func:`store_thread`, :func:`store_self_post_articles`, …);
the ``upsert_*`` functions under them take a connection, for callers composing
their own transaction. Records in are :mod:`newsroom.reddit.parse`'s
(``RedditPost``, ``EngagementSnapshot``, ``RedditComment``). Articles are never
written here: a self post's article goes through the one article writer
(:func:`newsroom.warehouse.articles.article_row` / ``insert_articles``) and
linking a post re-applies the one metadata rule (``apply_metadata_rule``), so
whether Reddit or a feed reached a page first does not decide what it says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, func, select, update

from newsroom.dedup.urls import canonicalize_url
from newsroom.warehouse.articles import apply_metadata_rule, article_row, insert_articles
from newsroom.warehouse.db import upsert
from newsroom.warehouse import sources
from newsroom.warehouse.fetch_log import FetchLogEntry, append_fetch_log
from newsroom.warehouse.schema import Article, utcnow
from newsroom.warehouse.schema.reddit import RedditComment as CommentRow
from newsroom.warehouse.schema.reddit import RedditPost as PostRow
from newsroom.warehouse.schema.reddit import RedditSnapshot as SnapshotRow

if TYPE_CHECKING:  # the records only; importing the package at run time would pull in its client
    from newsroom.reddit.parse import EngagementSnapshot, RedditComment, RedditPost

__all__ = ["ListingStored", "PendingLinkPosts", "RequestRecord", "SelfPostsStored", "ensure_subreddit_source", "link_articles",
           "record_requests", "record_subreddit_outcome", "self_post_article_row", "source_name",
           "pending_link_posts", "store_listing", "store_self_post_articles", "store_thread",
           "store_thread_comments", "threads_to_read", "unlinked_posts", "upsert_comments", "upsert_posts", "upsert_snapshots"]


def source_name(subreddit: str) -> str:
    """The ``sources.name`` of a subreddit (feeds use their own names; the
    prefix keeps the two namespaces apart)."""
    return f"reddit:{subreddit}"


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request of a subreddit run, as a ``fetch_log`` row records it."""

    url: str
    status: int | None
    kind: str = "reddit"  # reddit (the API), page, robots
    bytes: int = 0
    elapsed_ms: float = 0.0
    error: str | None = None
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class ListingStored:
    new_post_ids: set[str]  # posts not stored before
    snapshots: int
    threads_to_read: list  # [RedditPost] whose comment count moved since their thread was read


@dataclass(frozen=True)
class SelfPostsStored:
    linked: int  # posts linked to their article
    new_articles: int  # articles inserted (not stored before)


# ----------------------------------------------------------------------------- sources, runs, requests
def ensure_subreddit_source(engine: Engine, subreddit: str, url: str, *, enabled: bool = True) -> int:
    """The subreddit's ``sources`` row (kind ``reddit``), written by :mod:`newsroom.warehouse.sources`."""
    return sources.upsert_reddit_source(engine, source_name(subreddit), url=url, outlet=f"r/{subreddit}",
                                        enabled=enabled)


record_subreddit_outcome = sources.record_reddit_outcome


def record_requests(engine: Engine, run_key: str, source_id: int | None, requests: Sequence[RequestRecord]) -> int:
    """One ``fetch_log`` row per request of this run, through the log's one writer; returns how many."""
    return append_fetch_log(engine, [
        FetchLogEntry(run_id=run_key, source_id=source_id, kind=r.kind, url=r.url[:4000], status=r.status,
                      bytes=r.bytes, elapsed_ms=r.elapsed_ms, error=r.error, fetched_at=r.fetched_at or utcnow())
        for r in requests])


def upsert_posts(conn: Connection, posts: Iterable[RedditPost], *, source_id: int | None, via: str,
                 now: datetime | None = None) -> set[str]:
    """Insert or refresh posts; returns the ids that were not stored before."""
    now = now or utcnow()
    posts = list({p.id: p for p in posts}.values())
    if not posts:
        return set()
    ids = [p.id for p in posts]
    known = set(conn.execute(select(PostRow.id).where(PostRow.id.in_(ids))).scalars())
    rows = [{
        "id": p.id, "subreddit": p.subreddit, "title": p.title, "author": p.author, "created_at": p.created_at,
        "permalink": p.permalink, "url": p.url, "domain": p.domain, "is_self": p.is_self, "selftext": p.selftext,
        "flair": p.flair, "over_18": p.over_18, "link_kind": p.link_kind, "source_id": source_id, "via": via,
        "first_seen_at": now, "last_seen_at": now,
    } for p in posts]
    refresh = ["subreddit", "title", "author", "created_at", "permalink", "url", "domain", "is_self",
               "flair", "over_18", "link_kind", "source_id", "via", "last_seen_at"]
    if via == "json":
        refresh.append("selftext")  # RSS has only an HTML rendering of it; keep the JSON text
    upsert(conn, PostRow, rows, keys=["id"], update=refresh)
    return set(ids) - known


def upsert_snapshots(conn: Connection, snapshots: Iterable[EngagementSnapshot], run_key: str) -> int:
    rows = [{"post_id": s.post_id, "run_key": run_key, "taken_at": s.taken_at, "score": s.score,
             "num_comments": s.num_comments, "upvote_ratio": s.upvote_ratio} for s in snapshots]
    upsert(conn, SnapshotRow, rows, keys=["post_id", "run_key"])
    return len(rows)


def upsert_comments(conn: Connection, comments: Iterable[RedditComment], now: datetime | None = None) -> int:
    now = now or utcnow()
    rows = [{"id": c.id, "post_id": c.post_id, "parent_id": c.parent_id, "depth": c.depth, "author": c.author,
             "body": c.body, "score": c.score, "created_at": c.created_at, "rank": c.rank,
             "first_seen_at": now, "last_seen_at": now} for c in comments]
    upsert(conn, CommentRow, rows, keys=["id"],
           update=["parent_id", "depth", "author", "body", "score", "rank", "last_seen_at"])
    return len(rows)


def store_thread_comments(conn: Connection, post_id: str, comments: Iterable[RedditComment],
                          now: datetime | None = None) -> int:
    """Store a thread's current top N (``comments``, ranked 1..N by the parser).

    Every comment of the thread loses its rank first, so one that dropped out of
    the top N keeps its row (body, last score) with rank 0, and the ranks above 0
    are exactly this read's 1..N (unique per thread, also by index). Clearing before
    upserting also lets two comments swap ranks without a transient clash.
    """
    conn.execute(update(CommentRow).where(CommentRow.post_id == post_id, CommentRow.rank != 0).values(rank=0))
    return upsert_comments(conn, comments, now=now)


def threads_to_read(conn: Connection, posts: Iterable[RedditPost]) -> list[RedditPost]:
    """Posts whose comments are worth a request: they have comments, and the
    count moved since the thread was last read (or it never was). Once per post id."""
    posts = [p for p in {p.id: p for p in reversed(list(posts))}.values() if (p.num_comments or 0) > 0][::-1]
    if not posts:
        return []
    last = dict(conn.execute(select(PostRow.id, PostRow.thread_num_comments)
                             .where(PostRow.id.in_([p.id for p in posts]))).all())
    return [p for p in posts if last.get(p.id) is None or last[p.id] != p.num_comments]


def store_listing(engine: Engine, posts: Sequence[RedditPost], snapshots: Sequence[EngagementSnapshot], *,
                  source_id: int | None, via: str, run_key: str, want_threads: bool,
                  now: datetime | None = None) -> ListingStored:
    """Store a run's kept posts and their engagement snapshots, in one transaction, and
    say which threads to read (only when ``want_threads``: read before the posts'
    thread counts change, so a rerun does not re-read what it already read)."""
    with engine.begin() as conn:
        new_ids = upsert_posts(conn, posts, source_id=source_id, via=via, now=now)
        n = upsert_snapshots(conn, snapshots, run_key)
        todo = threads_to_read(conn, posts) if want_threads else []
    return ListingStored(new_post_ids=new_ids, snapshots=n, threads_to_read=todo)


def store_thread(engine: Engine, post_id: str, comments: Sequence[RedditComment], num_comments: int,
                 now: datetime | None = None) -> int:
    """A thread's top comments and, with them, the comment count it was read at
    (one transaction: a thread is marked read only with its comments stored)."""
    with engine.begin() as conn:
        n = store_thread_comments(conn, post_id, comments, now=now)
        conn.execute(update(PostRow).where(PostRow.id == post_id)
                     .values(thread_num_comments=num_comments, thread_fetched_at=now or utcnow()))
    return n


# ----------------------------------------------------------------------------- posts ↔ articles
def unlinked_posts(engine: Engine, post_ids: Iterable[str]) -> set[str]:
    """Posts that have no article yet (the article path runs once per post)."""
    ids = list(post_ids)
    if not ids:
        return set()
    with engine.connect() as conn:
        return set(conn.execute(select(PostRow.id).where(PostRow.id.in_(ids), PostRow.article_id.is_(None))).scalars())


@dataclass(frozen=True)
class PendingLinkPosts:
    """The link posts one run turns into articles, and how many wait after it."""

    posts: list[RedditPost]
    backlog: int


def pending_link_posts(engine: Engine, source_id: int, limit: int, *,
                       allowed: Callable[[str], bool] = lambda url: True) -> PendingLinkPosts:
    """Up to ``limit`` link posts of the subreddit's source without an article, oldest first.

    Read from the warehouse, not from this run's listing: a post past the per-run cap in
    one run is taken by a later one even after it has dropped out of the listing (a busy
    subreddit pushes it off ``hot`` within hours). "Oldest" is the post's own time, else
    when it was first seen; the id breaks ties, so which posts a capped run takes is the
    same on every run and backend. Posts whose host is not ``allowed`` are passed over
    (they never become articles and must not take the cap on every run); ``backlog``
    counts the allowed ones left for later runs. A failed page still gets an article row
    (with its reason), so a post leaves the queue once it has been tried.
    """
    from newsroom.reddit.parse import RedditPost

    when = func.coalesce(PostRow.created_at, PostRow.first_seen_at)
    query = (select(PostRow.id, PostRow.url)
             .where(PostRow.source_id == source_id, PostRow.link_kind == "article", PostRow.article_id.is_(None),
                    PostRow.url.is_not(None))
             .order_by(when.asc(), PostRow.id.asc()))
    with engine.connect() as conn:
        waiting = [pid for pid, url in conn.execute(query) if allowed(url)]
        take = waiting[: max(0, limit)]
        rows = {r.id: r for r in conn.execute(select(PostRow.__table__).where(PostRow.id.in_(take)))} if take else {}
    posts = [RedditPost(id=r.id, subreddit=r.subreddit, title=r.title, author=r.author, created_at=r.created_at,
                        permalink=r.permalink, url=r.url, domain=r.domain, is_self=r.is_self, flair=r.flair,
                        over_18=r.over_18, link_kind=r.link_kind)
             for r in (rows[pid] for pid in take)]
    return PendingLinkPosts(posts=posts, backlog=len(waiting) - len(take))


def _link(conn: Connection, article_ids: Mapping[str, int | None]) -> int:
    n = 0
    for post_id, aid in article_ids.items():
        if aid is not None:
            conn.execute(update(PostRow).where(PostRow.id == post_id).values(article_id=aid))
            n += 1
    apply_metadata_rule(conn, article_ids.values())
    return n


def link_articles(engine: Engine, article_ids: Mapping[str, int | None]) -> int:
    """Set ``reddit_posts.article_id`` ({post id: article id}; None is skipped) and re-apply
    the metadata rule to those articles (a post's title and time fill only what neither
    page nor feed gave); returns how many posts were linked."""
    with engine.begin() as conn:
        return _link(conn, article_ids)


def self_post_article_row(post: RedditPost, *, source_id: int | None, now: datetime | None = None) -> dict | None:
    """The ``articles`` row (built by the one article writer) for a self post: the text
    is the post itself, so it is stored as extracted (``ok``) without fetching anything.
    The permalink is its canonical URL and its subreddit the outlet. None for a
    title-only post (nothing to read)."""
    text = (post.selftext or "").strip()
    if not text:
        return None
    return article_row(
        canonical_url=canonicalize_url(post.permalink), url=post.permalink, source_id=source_id,
        origin="reddit_self", now=now or utcnow(), outlet=f"r/{post.subreddit}", title=post.title,
        author=post.author, published_at=post.created_at, sitename="Reddit", text=text,
        extraction_status="ok", extraction_reason="reddit self post")


def store_self_post_articles(engine: Engine, posts: Iterable[RedditPost], *, source_id: int | None,
                             now: datetime | None = None) -> SelfPostsStored:
    """Store self posts' articles through the one article writer and link each post to
    its article, in one transaction."""
    rows: dict[str, dict] = {}
    for p in posts:
        row = self_post_article_row(p, source_id=source_id, now=now)
        if row is not None:
            rows[p.id] = row
    if not rows:
        return SelfPostsStored(linked=0, new_articles=0)
    with engine.begin() as conn:
        inserted = insert_articles(conn, list(rows.values()))
        urls = [r["canonical_url"] for r in rows.values()]
        ids = dict(conn.execute(select(Article.canonical_url, Article.id).where(Article.canonical_url.in_(urls))).all())
        linked = _link(conn, {pid: ids.get(r["canonical_url"]) for pid, r in rows.items()})
    return SelfPostsStored(linked=linked, new_articles=inserted)
