"""warehouse/reddit.py on SQLite and PostgreSQL: posts, snapshots, comments, the subreddit's
source state and run outcome, its request log, and its articles through the one article writer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from newsroom.reddit.parse import EngagementSnapshot, RedditComment, RedditPost
from newsroom.warehouse import reddit as store
from newsroom.warehouse.articles import article_row, insert_articles
from newsroom.warehouse.schema import Article, FetchLog, Source, SourceRun
from newsroom.warehouse.schema.reddit import RedditComment as CommentRow
from newsroom.warehouse.schema.reddit import RedditPost as PostRow
from newsroom.warehouse.schema.reddit import RedditSnapshot

UTC = timezone.utc
T0 = datetime(2026, 3, 5, 12, tzinfo=UTC)


def post(pid: str, **kw) -> RedditPost:
    return RedditPost(**{"id": pid, "subreddit": "LocalLLaMA", "title": f"post {pid}",
                         "permalink": f"https://www.reddit.com/r/LocalLLaMA/comments/{pid}/x/", **kw})


def snap(pid: str, score: int, n: int = 0) -> EngagementSnapshot:
    return EngagementSnapshot(post_id=pid, taken_at=T0, score=score, num_comments=n)


def all_rows(engine, model, *order):
    with engine.connect() as conn:
        return conn.execute(select(model).order_by(*order)).all()


def test_subreddit_source_is_one_row_whose_fetch_state_survives(warehouse):
    sid = store.ensure_subreddit_source(warehouse, "LocalLLaMA", "https://www.reddit.com/r/LocalLLaMA/")
    store.record_subreddit_outcome(warehouse, sid, "run-1", status="failed", reason="http_500", http_status=500)
    again = store.ensure_subreddit_source(warehouse, "LocalLLaMA", "https://www.reddit.com/r/LocalLLaMA/",
                                          enabled=False)
    assert again == sid
    (src,) = all_rows(warehouse, Source, Source.id)
    assert (src.name, src.kind, src.outlet, src.tags, src.enabled) == (
        store.source_name("LocalLLaMA"), "reddit", "r/LocalLLaMA", ["reddit"], False)
    assert src.consecutive_failures == 1 and src.last_status == 500  # not reset by the upsert


def test_outcomes_count_failures_once_per_run_and_not_for_rate_limits(warehouse):
    sid = store.ensure_subreddit_source(warehouse, "x", "https://www.reddit.com/r/x/")

    def failures():
        return all_rows(warehouse, Source)[0].consecutive_failures

    store.record_subreddit_outcome(warehouse, sid, "run-1", status="failed", reason="http_500", now=T0)
    store.record_subreddit_outcome(warehouse, sid, "run-1", status="failed", reason="http_500", now=T0)  # a retry
    assert failures() == 1
    store.record_subreddit_outcome(warehouse, sid, "run-2", status="failed", reason="rate_limited", now=T0)
    assert failures() == 1
    store.record_subreddit_outcome(warehouse, sid, "run-3", status="failed", reason="forbidden", now=T0)
    assert failures() == 2
    store.record_subreddit_outcome(warehouse, sid, "run-4", status="skipped", reason="disabled",
                                   now=T0 + timedelta(hours=1))
    src = all_rows(warehouse, Source)[0]
    assert src.consecutive_failures == 2 and src.last_error == "forbidden"  # skipped leaves the state alone
    store.record_subreddit_outcome(warehouse, sid, "run-5", status="ok", reason=None, http_status=200,
                                   counts={"posts": 4, "new_posts": 3, "articles": 2}, failures={"thread_x": 1},
                                   now=T0 + timedelta(hours=2))
    src = all_rows(warehouse, Source)[0]
    assert src.consecutive_failures == 0 and src.last_success_at == T0 + timedelta(hours=2)
    runs = {r.run_id: r for r in all_rows(warehouse, SourceRun)}
    assert sorted(runs) == ["run-1", "run-2", "run-3", "run-4", "run-5"]
    assert (runs["run-5"].entries, runs["run-5"].new_entries, runs["run-5"].new_articles,
            runs["run-5"].failures_by_reason) == (4, 3, 2, {"thread_x": 1})


def test_listing_rerun_of_a_run_overwrites_its_snapshot_and_a_new_run_adds_one(warehouse):
    posts = [post("a", num_comments=3), post("b", num_comments=0), post("a", num_comments=3)]
    first = store.store_listing(warehouse, posts, [snap("a", 10, 3), snap("b", 1)], source_id=None, via="json",
                                run_key="run-1", want_threads=True, now=T0)
    assert first.new_post_ids == {"a", "b"} and first.snapshots == 2
    assert [p.id for p in first.threads_to_read] == ["a"]  # b has no comments
    again = store.store_listing(warehouse, posts, [snap("a", 12, 3)], source_id=None, via="json",
                                run_key="run-1", want_threads=False, now=T0)
    assert again.new_post_ids == set() and again.threads_to_read == []
    store.store_listing(warehouse, posts, [snap("a", 20, 3)], source_id=None, via="json", run_key="run-2",
                        want_threads=False, now=T0)
    got = [(s.post_id, s.run_key, s.score) for s in all_rows(warehouse, RedditSnapshot, RedditSnapshot.post_id,
                                                                RedditSnapshot.run_key)]
    assert got == [("a", "run-1", 12), ("a", "run-2", 20), ("b", "run-1", 1)]


def test_rss_keeps_the_json_selftext_and_first_seen(warehouse):
    store.store_listing(warehouse, [post("a", selftext="the JSON text")], [], source_id=None, via="json",
                        run_key="r1", want_threads=False, now=T0)
    store.store_listing(warehouse, [post("a", selftext="<p>html</p>", title="edited")], [], source_id=None,
                        via="rss", run_key="r2", want_threads=False, now=T0 + timedelta(days=1))
    (row,) = all_rows(warehouse, PostRow)
    assert (row.selftext, row.title, row.via) == ("the JSON text", "edited", "rss")
    assert (row.first_seen_at, row.last_seen_at) == (T0, T0 + timedelta(days=1))


def test_a_thread_read_keeps_dropped_comments_at_rank_zero_and_is_not_read_again(warehouse):
    p = post("a", num_comments=2)
    store.store_listing(warehouse, [p], [], source_id=None, via="json", run_key="r1", want_threads=False)
    c1, c2, c3 = (RedditComment(id=f"c{i}", post_id="a", body=f"body {i}", score=10 - i) for i in (1, 2, 3))
    assert store.store_thread(warehouse, "a", [c1.model_copy(update={"rank": 1}),
                                               c2.model_copy(update={"rank": 2})], 2, now=T0) == 2
    # the next read: c3 new at the top, c1 second, c2 dropped out (ranks swap without a clash)
    store.store_thread(warehouse, "a", [c3.model_copy(update={"rank": 1}), c1.model_copy(update={"rank": 2})], 2,
                       now=T0)
    ranks = {r.id: r.rank for r in all_rows(warehouse, CommentRow)}
    assert ranks == {"c1": 2, "c2": 0, "c3": 1}
    listing = store.store_listing(warehouse, [p], [], source_id=None, via="json", run_key="r2", want_threads=True)
    assert listing.threads_to_read == []  # the count did not move
    moved = store.store_listing(warehouse, [post("a", num_comments=5)], [], source_id=None, via="json",
                                run_key="r3", want_threads=True)
    assert [x.id for x in moved.threads_to_read] == ["a"]


def test_requests_are_logged_for_the_run(warehouse):
    sid = store.ensure_subreddit_source(warehouse, "x", "https://www.reddit.com/r/x/")
    n = store.record_requests(warehouse, "run-1", sid, [
        store.RequestRecord(url="https://www.reddit.com/r/x/new.json?" + "q" * 5000, status=200, bytes=12,
                            elapsed_ms=3.5, fetched_at=T0),
        store.RequestRecord(url="https://example.com/page", status=None, kind="page", error="timeout")])
    assert n == 2 and store.record_requests(warehouse, "run-1", sid, []) == 0
    logged = all_rows(warehouse, FetchLog, FetchLog.id)
    assert [(r.kind, r.status, r.error, r.source_id, r.run_id) for r in logged] == [
        ("reddit", 200, None, sid, "run-1"), ("page", None, "timeout", sid, "run-1")]
    assert len(logged[0].url) == 4000 and logged[1].fetched_at is not None


def test_self_posts_become_articles_through_the_one_writer_and_only_once(warehouse):
    posts = [post("s1", selftext="  A long self post about local models.  ", author="u1", created_at=T0,
                  link_kind="self"),
             post("s2", selftext="   ", link_kind="self")]  # title only: nothing to read
    store.store_listing(warehouse, posts, [], source_id=None, via="json", run_key="r1", want_threads=False)
    assert store.unlinked_posts(warehouse, ["s1", "s2", "nope"]) == {"s1", "s2"}
    out = store.store_self_post_articles(warehouse, posts, source_id=None, now=T0)
    assert out == store.SelfPostsStored(linked=1, new_articles=1)
    (art,) = all_rows(warehouse, Article)
    expected = store.self_post_article_row(posts[0], source_id=None, now=T0)
    assert expected == article_row(canonical_url=art.canonical_url, url=posts[0].permalink, source_id=None,
                                   origin="reddit_self", now=T0, outlet="r/LocalLLaMA", title="post s1",
                                   author="u1", published_at=T0, sitename="Reddit",
                                   text="A long self post about local models.", extraction_status="ok",
                                   extraction_reason="reddit self post")
    assert (art.origin, art.outlet, art.title, art.text, art.extraction_status) == (
        "reddit", "r/LocalLLaMA", "post s1", "A long self post about local models.", "ok")
    assert store.unlinked_posts(warehouse, ["s1", "s2"]) == {"s2"}
    assert store.store_self_post_articles(warehouse, posts[:1], source_id=None, now=T0) == store.SelfPostsStored(
        linked=1, new_articles=0)
    assert len(all_rows(warehouse, Article)) == 1
    assert store.store_self_post_articles(warehouse, [], source_id=None) == store.SelfPostsStored(0, 0)


def test_linking_a_post_fills_only_what_page_and_feed_left_empty(warehouse):
    """The metadata rule, re-applied on linking: the post's title and time fill gaps, never replace."""
    now = T0
    with warehouse.begin() as conn:
        insert_articles(conn, [
            article_row(canonical_url=f"https://news.example/{k}", url=f"https://news.example/{k}", source_id=None,
                        origin="reddit", now=now, outlet=None, title=None, author=None, published_at=None,
                        page_title=page_title, extraction_status="ok", text="body")
            for k, page_title in (("titled", "The page's own title"), ("untitled", None))])
        ids = dict(conn.execute(select(Article.canonical_url, Article.id)).all())
    posts = [post("t", url="https://news.example/titled", created_at=T0, link_kind="article"),
             post("u", url="https://news.example/untitled", created_at=T0, link_kind="article")]
    store.store_listing(warehouse, posts, [], source_id=None, via="json", run_key="r1", want_threads=False)
    linked = store.link_articles(warehouse, {"t": ids["https://news.example/titled"],
                                             "u": ids["https://news.example/untitled"], "gone": None})
    assert linked == 2
    got = {r.canonical_url: (r.title, r.published_at) for r in all_rows(warehouse, Article)}
    assert got == {"https://news.example/titled": ("The page's own title", T0),
                   "https://news.example/untitled": ("post u", T0)}
    assert {r.id: r.article_id for r in all_rows(warehouse, PostRow)} == {
        "t": ids["https://news.example/titled"], "u": ids["https://news.example/untitled"]}
    assert store.unlinked_posts(warehouse, ["t", "u"]) == set()
