"""ingest_subreddit end to end: replay server (the corpus at Reddit's public
paths) → posts, snapshots, comments, articles in the warehouse, on SQLite and
PostgreSQL. The "LocalLLaMA" listing is made of the corpus's real thread
submissions, so every listed post has its real thread behind it."""

import json
import logging

import pytest
from sqlalchemy import func, select

from newsroom.config.sources import RedditConfig, SourcesFile, SubredditSource
from newsroom.pipeline.reddit import ingest_subreddit
from newsroom.reddit.auth import RedditCredentials
from newsroom.reddit.client import reset_process_state
from newsroom.warehouse.schema import Article, Source, SourceRun
from newsroom.warehouse.schema.reddit import RedditComment, RedditPost, RedditSnapshot
from tests.reddit_replay import RedditReplay

THREADS = {  # post id → thread file
    "1j7g9uj": "threads/1j7g9uj_lil_spazjoekp_test_post_2025-10-08.json",
    "4t4t2h": "threads/4t4t2h_subreddit_stats_2016-07-16.json",
    "98vj9e": "threads/98vj9e_redditdev_reply_sort_limit_2020-07-05.json",
    "ablzuq": "threads/ablzuq_askreddit_limit1_2020-01-09.json",
    "bb24k7": "threads/bb24k7_removedbybotter_comment_context_2025-06-19.json",
    "fjn0j9": "threads/fjn0j9_pics_sticky_psa_2020-07-11.json",
    "g9zfex": "threads/g9zfex_wouldyourather_poll_2020-04-29.json",
    "haucpf": "threads/haucpf_pics_limit1_2020-07-04.json",
    "hlrjn9": "threads/hlrjn9_pics_removed_comment_context_2020-07-05.json",
    "n49rw": "threads/n49rw_announcements_2016-03-22.json",
}
# Score >= 100 and not stickied (fjn0j9 is a stickied moderator PSA).
KEPT = {"98vj9e", "ablzuq", "haucpf", "hlrjn9", "n49rw"}
# Kept comments per thread with top_comments=10: n49rw has 485 (10 kept); the others
# were recorded as comment permalinks / limit=1 fetches and hold fewer real comments.
COMMENTS = {"n49rw": 10, "98vj9e": 3, "ablzuq": 1, "hlrjn9": 3, "haucpf": 0}
CLIENT_ID, SECRET = "my-client-id-123", "my-secret-456"


@pytest.fixture(autouse=True)
def _fresh_process_state():
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture
def settings(settings):
    """The shared settings, restricted to 127.0.0.1: a link post to a real site is
    recorded as host_not_allowed instead of reaching the internet."""
    return settings.model_copy(update={"allowed_hosts": ["127.0.0.1"]})


@pytest.fixture
def rr(replay_server, corpus):
    rr = RedditReplay(replay_server, corpus)
    children = [rr.submission(f) for f in THREADS.values()]
    rr.serve("/r/LocalLLaMA/hot.json", rr.listing_body(children))
    for pid, f in THREADS.items():
        rr.thread(pid, f)
    return rr


def sources_for(server, *subs: SubredditSource, **reddit) -> SourcesFile:
    base = server.base_url
    cfg = dict(base_url=base, oauth_base_url=base, token_url=f"{base}/api/v1/access_token",
               requests_per_minute=60000, oauth_requests_per_minute=60000, max_wait_s=2, timeout_s=5)
    cfg.update(reddit)
    return SourcesFile(reddit=RedditConfig(subreddits=list(subs), **cfg))


LOCALLLAMA = SubredditSource(name="LocalLLaMA", listing="hot", limit=50, min_score=100, top_comments=10)


def count(engine, model, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_one_run_stores_posts_snapshots_comments_and_self_post_articles(rr, replay_server, settings, warehouse):
    sources = sources_for(replay_server, LOCALLLAMA)
    out = ingest_subreddit("LocalLLaMA", settings=settings, run_key="run-1", sources=sources, engine=warehouse)

    assert out["status"] == "ok" and out["reason"] is None and out["via"] == "json"
    assert (out["posts"], out["new_posts"], out["snapshots"]) == (5, 5, 5)
    assert out["comments"] == sum(COMMENTS.values()) and out["threads"] == 5
    assert out["requests"] == 1 + 5  # one listing page, one request per thread with comments
    with warehouse.connect() as conn:
        posts = {p.id: p for p in conn.execute(select(RedditPost.__table__)).all()}
        assert set(posts) == KEPT
        assert posts["haucpf"].link_kind == "image" and posts["haucpf"].article_id is None
        assert posts["n49rw"].permalink == "https://www.reddit.com/r/announcements/comments/n49rw/were_back/"
        per_post = dict(conn.execute(select(RedditComment.post_id, func.count()).group_by(RedditComment.post_id)).all())
        assert {k: v for k, v in per_post.items()} == {k: v for k, v in COMMENTS.items() if v}
        top = conn.execute(select(RedditComment.__table__).where(RedditComment.post_id == "n49rw")
                           .order_by(RedditComment.rank)).all()
        assert [c.rank for c in top] == list(range(1, 11)) and top[0].score == 2645
        snap = conn.execute(select(RedditSnapshot.__table__).where(RedditSnapshot.post_id == "ablzuq")).one()
        assert (snap.score, snap.num_comments, snap.run_key) == (221850, 8125, "run-1")
        # self posts with text become articles (origin reddit, canonical URL = permalink); title-only ones don't
        arts = {a.url: a for a in conn.execute(select(Article.__table__)).all()}
        assert set(arts) == {posts["98vj9e"].permalink, posts["n49rw"].permalink}
        a = arts[posts["n49rw"].permalink]
        assert a.origin == "reddit" and a.extraction_status == "ok" and a.word_count > 100
        assert posts["n49rw"].article_id == a.id and posts["ablzuq"].article_id is None
        src = conn.execute(select(Source.__table__).where(Source.name == "reddit:LocalLLaMA")).one()
        assert src.kind == "reddit" and src.last_status == 200 and src.consecutive_failures == 0
        run = conn.execute(select(SourceRun.__table__).where(SourceRun.source_id == src.id)).one()
        assert (run.run_id, run.status, run.entries) == ("run-1", "ok", 5)


def test_rerun_adds_a_snapshot_and_no_duplicates(rr, replay_server, settings, warehouse):
    sources = sources_for(replay_server, LOCALLLAMA)
    first = ingest_subreddit("LocalLLaMA", settings=settings, run_key="run-1", sources=sources, engine=warehouse)
    again = ingest_subreddit("LocalLLaMA", settings=settings, run_key="run-1", sources=sources, engine=warehouse)
    assert count(warehouse, RedditSnapshot) == 5  # same run: its snapshot is overwritten
    second = ingest_subreddit("LocalLLaMA", settings=settings, run_key="run-2", sources=sources, engine=warehouse)

    assert first["new_posts"] == 5 and again["new_posts"] == 0 and second["new_posts"] == 0
    assert count(warehouse, RedditPost) == 5
    assert count(warehouse, RedditSnapshot) == 10
    assert count(warehouse, RedditSnapshot, RedditSnapshot.post_id == "n49rw") == 2
    assert count(warehouse, RedditComment) == sum(COMMENTS.values())
    assert count(warehouse, Article) == 2
    # Comment counts did not move, so threads are not re-read: one request per rerun.
    assert again["requests"] == 1 and second["threads"] == 0
    assert replay_server.hits("/comments/n49rw.json") == 1


def test_failing_subreddits_record_their_reason_and_leave_others_alone(rr, replay_server, settings, warehouse):
    rr.file("errors/r_tiananmenaquarefalse_new_403_quarantined_2020-07-11.json")
    rr.serve("/r/secret/hot.json", b'{"reason": "private", "message": "Forbidden", "error": 403}', status=403)
    rr.serve("/r/gone/hot.json", b'{"message": "Not Found", "error": 404}', status=404)
    rr.serve("/r/flaky/hot.json", b"upstream connect error", status=502, content_type="text/plain")
    rr.serve("/r/blocked/hot.json", b"<!doctype html><html><body>whoa there, pardner!</body></html>",
             content_type="text/html")
    subs = [LOCALLLAMA, SubredditSource(name="tiananmenaquarefalse", listing="new"),
            SubredditSource(name="secret"), SubredditSource(name="gone"), SubredditSource(name="flaky"),
            SubredditSource(name="blocked", rss_fallback=False)]
    sources = sources_for(replay_server, *subs)
    expected = {"tiananmenaquarefalse": "forbidden_quarantined", "secret": "forbidden_private", "gone": "not_found",
                "flaky": "http_502", "blocked": "html_not_json", "LocalLLaMA": None}
    results = {s.name: ingest_subreddit(s.name, settings=settings, run_key="r1", sources=sources, engine=warehouse)
               for s in subs}
    assert {n: r["reason"] for n, r in results.items()} == expected
    assert results["LocalLLaMA"]["status"] == "ok" and results["LocalLLaMA"]["posts"] == 5
    with warehouse.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(Source.__table__).where(Source.kind == "reddit"))}
        outcomes = dict(conn.execute(select(Source.name, SourceRun.status).join(SourceRun)).all())
    q = rows["reddit:tiananmenaquarefalse"]
    assert q.last_status == 403 and q.last_error.startswith("forbidden_quarantined") and q.consecutive_failures == 1
    assert rows["reddit:flaky"].last_status == 502
    assert rows["reddit:LocalLLaMA"].consecutive_failures == 0 and rows["reddit:LocalLLaMA"].last_error is None
    assert outcomes == {f"reddit:{n}": ("ok" if r is None else "failed") for n, r in expected.items()}
    # a second failing run counts up; the 5xx was retried once per run, not hammered
    ingest_subreddit("flaky", settings=settings, run_key="r2", sources=sources, engine=warehouse)
    with warehouse.connect() as conn:
        assert conn.execute(select(Source.consecutive_failures).where(Source.name == "reddit:flaky")).scalar() == 2
    assert replay_server.hits("/r/flaky/hot.json") == 4


def test_blocked_json_falls_back_to_rss(rr, replay_server, settings, warehouse):
    rr.file("errors/r_ferguson_hot_403_quarantined_2016-12-18.json")  # plain 403, no reason: JSON blocked
    rr.rss("ferguson", "rss/reddit_frontpage_atom_2016.xml")
    sources = sources_for(replay_server, SubredditSource(name="ferguson", min_score=10_000, top_comments=5,
                                                                articles=False))
    out = ingest_subreddit("ferguson", settings=settings, run_key="r1", sources=sources, engine=warehouse)
    assert out["status"] == "ok" and out["via"] == "rss" and out["failures_by_reason"] == {"json_forbidden": 1}
    # a feed has no score, so nothing is filtered by it and no snapshot is taken; no thread is read
    assert out["posts"] == 24 and out["snapshots"] == 0 and out["threads"] == 0
    assert count(warehouse, RedditPost, RedditPost.via == "rss") == 24
    assert count(warehouse, RedditSnapshot) == 0
    assert replay_server.hits("/r/ferguson/.rss") == 1


def test_quarantined_subreddit_does_not_try_rss(rr, replay_server, settings, warehouse):
    rr.file("errors/r_tiananmenaquarefalse_new_403_quarantined_2020-07-11.json")
    rr.rss("tiananmenaquarefalse", "rss/reddit_r_rust_atom_2020.xml")
    sources = sources_for(replay_server, SubredditSource(name="tiananmenaquarefalse", listing="new"))
    out = ingest_subreddit("tiananmenaquarefalse", settings=settings, run_key="r1", sources=sources,
                           engine=warehouse)
    assert out["reason"] == "forbidden_quarantined" and replay_server.hits("/r/tiananmenaquarefalse/.rss") == 0


def test_rss_only_subreddit(replay_server, corpus, settings, warehouse):
    rr = RedditReplay(replay_server, corpus)
    rr.rss("rust", "rss/reddit_r_rust_atom_2020.xml")
    sources = sources_for(replay_server, SubredditSource(name="rust", use_rss=True))
    out = ingest_subreddit("rust", settings=settings, run_key="r1", sources=sources, engine=warehouse)
    assert (out["status"], out["via"], out["posts"], out["articles"]) == ("ok", "rss", 1, 1)  # a self post
    assert replay_server.hits("/r/rust/hot.json") == 0


def test_rate_limit_on_threads_defers_the_rest(rr, replay_server, settings, warehouse):
    for pid in THREADS:
        rr.serve(f"/comments/{pid}.json", b'{"message": "Too Many Requests", "error": 429}', status=429,
                 headers={"Retry-After": "900"})
    sources = sources_for(replay_server, LOCALLLAMA)
    out = ingest_subreddit("LocalLLaMA", settings=settings, run_key="r1", sources=sources, engine=warehouse)
    assert out["status"] == "ok" and out["reason"] == "rate_limited" and out["deferred"] == 5
    assert out["posts"] == 5 and out["snapshots"] == 5 and out["comments"] == 0
    thread_hits = sum(replay_server.hits(f"/comments/{pid}.json") for pid in THREADS)
    assert thread_hits == 1  # stopped at the first 429, did not hammer
    # the next run (limit lifted) reads the deferred threads
    for pid, f in THREADS.items():
        rr.thread(pid, f)
    reset_process_state()
    out2 = ingest_subreddit("LocalLLaMA", settings=settings, run_key="r2", sources=sources, engine=warehouse)
    assert out2["threads"] == 5 and out2["comments"] == sum(COMMENTS.values())


def test_oauth_run_keeps_credentials_out_of_logs_and_results(rr, replay_server, settings, warehouse, caplog, capsys):
    rr.token_endpoint(client_id=CLIENT_ID, client_secret=SECRET)
    creds = RedditCredentials(client_id=CLIENT_ID, client_secret=SECRET)
    sources = sources_for(replay_server, LOCALLLAMA)
    caplog.set_level(logging.DEBUG)
    out = ingest_subreddit("LocalLLaMA", settings=settings, run_key="r1", sources=sources, engine=warehouse,
                           credentials=creds)
    rr.revoke_tokens()
    out2 = ingest_subreddit("LocalLLaMA", settings=settings, run_key="r2", sources=sources, engine=warehouse,
                            credentials=creds)
    assert out["status"] == out2["status"] == "ok" and out["posts"] == 5
    assert rr.tokens_issued == 2  # fetched once for run 1 (cached for all its requests), refreshed on 401
    assert replay_server.hits("/r/LocalLLaMA/hot") == 3  # OAuth form; the 401 plus its retry in run 2
    printed = capsys.readouterr()
    blob = caplog.text + printed.out + printed.err + json.dumps([out, out2], default=str)
    for secret in (CLIENT_ID, SECRET, "token-1", "token-2"):
        assert secret not in blob
    with warehouse.connect() as conn:
        stored = " ".join(str(r) for r in conn.execute(select(Source.last_error, Source.url)).all())
    assert SECRET not in stored and "token-" not in stored


def test_unknown_and_disabled_subreddits(replay_server, settings, warehouse):
    sources = sources_for(replay_server, SubredditSource(name="off", enabled=False))
    assert ingest_subreddit("nope", settings=settings, run_key="r", sources=sources, engine=warehouse)["reason"] \
        == "not_configured"
    out = ingest_subreddit("off", settings=settings, run_key="r", sources=sources, engine=warehouse)
    assert out["status"] == "skipped" and out["requests"] == 0 and replay_server.requests == []


def test_link_post_article_is_fetched_extracted_and_linked(rr, replay_server, corpus, settings, warehouse):
    """Done-when: after one run the warehouse holds the linked article's full text.
    A real 2026 link post is pointed at a real article page served locally."""
    pytest.importorskip("newsroom.extract.pool", reason="the extraction stage (newsroom.extract) is not in yet")
    popular = json.loads((corpus / "reddit/listings/r_popular_hot_2026-04-13.json").read_bytes())
    link = next(c for c in popular["data"]["children"] if c["data"]["domain"] == "newrepublic.com")
    truth = json.loads((corpus / "extraction/ground-truth.json").read_bytes())
    page_id = sorted(truth)[0]
    page_url = rr.server.add("/news/story.html", body=(corpus / f"extraction/html/{page_id}.html").read_bytes(),
                             content_type="text/html; charset=utf-8")
    link["data"].update(url=page_url, url_overridden_by_dest=page_url, domain="127.0.0.1", score=500)
    children = [rr.submission(f) for f in THREADS.values()] + [link]
    rr.serve("/r/LocalLLaMA/hot.json", rr.listing_body(children))
    rr.thread(link["data"]["id"], body=json.dumps([json.loads(rr.listing_body([link])),
                                                   json.loads(rr.listing_body([]))]).encode())
    sources = sources_for(replay_server, LOCALLLAMA)

    out = ingest_subreddit("LocalLLaMA", settings=settings, run_key="r1", sources=sources, engine=warehouse)
    assert out["status"] == "ok" and out["posts"] == 6 and out["articles"] == 3, json.dumps(out)  # 2 self posts + the link
    with warehouse.connect() as conn:
        post = conn.execute(select(RedditPost.__table__).where(RedditPost.id == link["data"]["id"])).one()
        art = conn.execute(select(Article.__table__).where(Article.id == post.article_id)).one()
    assert post.link_kind == "article" and art.origin == "reddit" and art.extraction_status == "ok"
    words = truth[page_id]["articleBody"].split()
    assert " ".join(words[20:32]) in " ".join(art.text.split())
    assert replay_server.hits("/news/story.html") == 1
    again = ingest_subreddit("LocalLLaMA", settings=settings, run_key="r2", sources=sources, engine=warehouse)
    assert again["articles"] == 0 and replay_server.hits("/news/story.html") == 1  # linked once, not refetched


def _walk(children):
    for c in children:
        if isinstance(c, dict) and c.get("kind") == "t1":
            yield c["data"]
            replies = c["data"].get("replies")
            if isinstance(replies, dict):
                yield from _walk(replies["data"]["children"])


def test_a_comment_that_drops_out_of_the_top_n_loses_its_rank(rr, replay_server, settings, warehouse):
    """Run 2 re-reads n49rw (its comment count moved) and the old #5 has since been
    voted down out of the top 10: it keeps its row, with rank 0 and its last kept score, and
    ranks 1..10 are held by exactly one comment each (before: two comments at rank 5)."""
    sources = sources_for(replay_server, LOCALLLAMA)
    ingest_subreddit("LocalLLaMA", settings=settings, run_key="run-1", sources=sources, engine=warehouse)
    with warehouse.connect() as conn:
        fifth, fifth_score = conn.execute(select(RedditComment.id, RedditComment.score).where(
            RedditComment.post_id == "n49rw", RedditComment.rank == 5)).one()
    doc = rr.doc(THREADS["n49rw"])
    doc[0]["data"]["children"][0]["data"]["num_comments"] += 1
    (gone,) = [d for d in _walk(doc[1]["data"]["children"]) if d["id"] == fifth]
    gone["score"] = -50
    rr.thread("n49rw", body=json.dumps(doc).encode())
    children = [rr.submission(f) for f in THREADS.values()]
    for c in children:
        if c["data"]["id"] == "n49rw":
            c["data"]["num_comments"] += 1
    rr.serve("/r/LocalLLaMA/hot.json", rr.listing_body(children))

    out = ingest_subreddit("LocalLLaMA", settings=settings, run_key="run-2", sources=sources, engine=warehouse)
    assert out["threads"] == 1
    with warehouse.connect() as conn:
        rows = conn.execute(select(RedditComment.id, RedditComment.rank, RedditComment.score)
                            .where(RedditComment.post_id == "n49rw")).all()
    ranked = sorted(r.rank for r in rows if r.rank)
    assert ranked == list(range(1, 11))  # unique ranks: the new top 10
    dropped = {r.id: r for r in rows}[fifth]
    assert (dropped.rank, dropped.score) == (0, fifth_score)  # its score when it was last among the top N
    assert len(rows) == 11  # nothing deleted: the dropped comment and the newcomer at 10
    # other threads were not re-read and keep their ranks
    assert count(warehouse, RedditComment, RedditComment.post_id == "98vj9e", RedditComment.rank > 0) == 3


def test_unique_ranks_are_enforced_by_the_warehouse(warehouse):
    from sqlalchemy.exc import IntegrityError

    from newsroom.warehouse.reddit import upsert_comments, upsert_posts
    from newsroom.reddit.parse import RedditComment as Comment
    from newsroom.reddit.parse import RedditPost as Post

    with warehouse.begin() as conn:
        upsert_posts(conn, [Post(id="p1", subreddit="x", title="t", permalink="https://www.reddit.com/r/x/comments/p1/",
                                 link_kind="self")], source_id=None, via="json")
        upsert_comments(conn, [Comment(id="c1", post_id="p1", body="a", rank=0),
                               Comment(id="c2", post_id="p1", body="b", rank=0)])  # rank 0 may repeat
    with pytest.raises(IntegrityError), warehouse.begin() as conn:
        upsert_comments(conn, [Comment(id="c1", post_id="p1", body="a", rank=5),
                               Comment(id="c2", post_id="p1", body="b", rank=5)])


def test_one_subreddit_followed_with_hot_and_new(rr, replay_server, settings, warehouse):
    """``listing: [hot, new]``: both listings are read, their posts merged (a post in
    both is stored and snapshotted once), one source row, one outcome per run."""
    subs = [rr.submission(f) for f in THREADS.values()]
    by_id = {c["data"]["id"]: c for c in subs}
    rr.serve("/r/LocalLLaMA/hot.json", rr.listing_body([by_id[i] for i in ("n49rw", "98vj9e", "ablzuq")]))
    rr.serve("/r/LocalLLaMA/new.json", rr.listing_body([by_id[i] for i in ("ablzuq", "hlrjn9", "haucpf")]))
    both = LOCALLLAMA.model_copy(update={"listing": ("hot", "new")})
    sources = sources_for(replay_server, both)

    out = ingest_subreddit("LocalLLaMA", settings=settings, run_key="run-1", sources=sources, engine=warehouse)
    assert out["status"] == "ok" and (out["posts"], out["new_posts"], out["snapshots"]) == (5, 5, 5)
    assert replay_server.hits("/r/LocalLLaMA/hot.json") == 1 and replay_server.hits("/r/LocalLLaMA/new.json") == 1
    assert out["requests"] == 2 + 5  # two listings, then each thread with comments once
    with warehouse.connect() as conn:
        assert set(conn.execute(select(RedditPost.id)).scalars()) == KEPT
        assert conn.execute(select(func.count()).select_from(Source)).scalar_one() == 1
        run = conn.execute(select(SourceRun.__table__)).one()
    assert (run.status, run.entries) == ("ok", 5)
    assert count(warehouse, RedditSnapshot, RedditSnapshot.post_id == "ablzuq") == 1


def test_a_failing_listing_fails_the_subreddit_and_stores_nothing_partial(rr, replay_server, settings, warehouse):
    rr.serve("/r/LocalLLaMA/new.json", b'{"message": "Forbidden", "error": 403}', status=403)
    both = LOCALLLAMA.model_copy(update={"listing": ("hot", "new"), "rss_fallback": False})
    out = ingest_subreddit("LocalLLaMA", settings=settings, run_key="run-1",
                           sources=sources_for(replay_server, both), engine=warehouse)
    assert out["status"] == "failed" and out["reason"]
    assert count(warehouse, RedditPost) == 0


def test_link_posts_past_the_cap_are_taken_by_later_runs_after_leaving_the_listing(rr, replay_server, corpus,
                                                                                   settings, warehouse):
    """The stranded-post case: with the cap at 2 and five link posts listed, the three past
    the cap must become articles on later runs even though a busy subreddit has pushed them
    off ``hot`` by then. Oldest first, each page fetched once, none linked twice; a link to a
    host that is not allowed never takes a place in the queue."""
    popular = json.loads((corpus / "reddit/listings/r_popular_hot_2026-04-13.json").read_bytes())
    template = next(c for c in popular["data"]["children"] if c["data"]["domain"] == "newrepublic.com")
    truth = json.loads((corpus / "extraction/ground-truth.json").read_bytes())
    pages = sorted(truth)[:5]
    base_time = template["data"]["created_utc"]

    def link_post(i: int, url: str) -> dict:
        post = json.loads(json.dumps(template))
        post["data"].update(id=f"lnk{i}", name=f"t3_lnk{i}", url=url, url_overridden_by_dest=url,
                            domain="127.0.0.1", score=500, num_comments=0, title=f"Link post {i}",
                            created_utc=base_time + 3600 * i,
                            permalink=f"/r/LocalLLaMA/comments/lnk{i}/link_post_{i}/")
        return post

    posts = []
    for i, page_id in enumerate(pages):
        url = rr.server.add(f"/news/{i}.html", body=(corpus / f"extraction/html/{page_id}.html").read_bytes(),
                            content_type="text/html; charset=utf-8")
        posts.append(link_post(i, url))
    outside = link_post(9, "https://example.org/news/outside.html")  # older than all, host not allowed
    outside["data"]["created_utc"] = base_time - 3600
    # Newest first, as hot lists them.
    rr.serve("/r/LocalLLaMA/hot.json", rr.listing_body(list(reversed(posts)) + [outside]))
    sub = SubredditSource(name="LocalLLaMA", listing="hot", limit=50, min_score=100, top_comments=0)
    sources = sources_for(replay_server, sub)
    capped = settings.model_copy(update={"max_articles_per_source": 2})

    first = ingest_subreddit("LocalLLaMA", settings=capped, run_key="r1", sources=sources, engine=warehouse)
    # The listing moves on: only one new post is listed now, the five have dropped off.
    fresh_url = rr.server.add("/news/fresh.html", body=(corpus / f"extraction/html/{sorted(truth)[5]}.html")
                              .read_bytes(), content_type="text/html; charset=utf-8")
    fresh = link_post(7, fresh_url)
    rr.serve("/r/LocalLLaMA/hot.json", rr.listing_body([fresh]))
    runs = [first] + [ingest_subreddit("LocalLLaMA", settings=capped, run_key=f"r{n}", sources=sources,
                                       engine=warehouse) for n in (2, 3, 4)]

    assert [r["status"] for r in runs] == ["ok"] * 4, json.dumps(runs)
    assert [r["articles"] for r in runs] == [2, 2, 2, 0]
    assert [r["backlog"] for r in runs] == [3, 2, 0, 0]
    assert runs[0]["failures_by_reason"].get("host_not_allowed") == 1
    assert all("host_not_allowed" not in r["failures_by_reason"] for r in runs[1:])  # no zero counts
    with warehouse.connect() as conn:
        linked = dict(conn.execute(select(RedditPost.id, RedditPost.article_id)
                                   .where(RedditPost.link_kind == "article")).all())
        order = [r.id for r in conn.execute(
            select(RedditPost.id).join(Article, Article.id == RedditPost.article_id).order_by(Article.id))]
    assert linked.pop("lnk9") is None
    assert all(linked.values()) and len(set(linked.values())) == 6
    # Oldest first: run 1 took posts 0 and 1, run 2 posts 2 and 3, run 3 post 4 and the new post 7.
    assert order == ["lnk0", "lnk1", "lnk2", "lnk3", "lnk4", "lnk7"]
    assert all(replay_server.hits(f"/news/{i}.html") == 1 for i in range(5))
    assert replay_server.hits("/news/fresh.html") == 1
