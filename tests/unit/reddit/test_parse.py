"""Reddit JSON → records, on the real listings and threads of the shared corpus."""

import json

import pytest

from newsroom.reddit.parse import (
    ParseError,
    classify_link,
    parse_listing,
    parse_thread,
    post_from_json,
    snapshot_of,
)

LISTINGS = ["r_askreddit_hot_2020-07-10.json", "r_askreddit_new_2020-07-10.json",
            "r_askreddit_controversial_all_2020-07-10.json", "r_all_new_2021-01-18_page1.json",
            "r_all_new_2021-01-18_page2_before.json", "r_ferguson_hot_quarantined_2016-12-18.json",
            "r_popular_hot_2026-04-13.json"]


def load(corpus, rel):
    return json.loads((corpus / "reddit" / rel).read_bytes())


@pytest.mark.parametrize("name", LISTINGS)
def test_every_submission_listing_parses(corpus, name):
    doc = load(corpus, f"listings/{name}")
    page = parse_listing(doc)
    assert len(page.posts) == len(doc["data"]["children"]) and page.skipped == 0
    assert page.after == doc["data"]["after"]
    for p in page.posts:
        assert p.id and "_" not in p.id
        assert p.permalink.startswith("https://www.reddit.com/r/") and f"/comments/{p.id}/" in p.permalink
        assert p.created_at is not None and p.created_at.tzinfo is not None
        assert p.score is not None and p.num_comments is not None
        assert p.link_kind in ("self", "article", "reddit", "image", "video", "other")
        assert (p.link_kind == "self") == p.is_self


def test_listing_fields_match_the_json(corpus):
    doc = load(corpus, "listings/r_askreddit_hot_2020-07-10.json")
    raw = doc["data"]["children"][0]["data"]
    post = parse_listing(doc).posts[0]
    assert (post.id, post.subreddit, post.title, post.author) == (raw["id"], raw["subreddit"], raw["title"], raw["author"])
    assert (post.score, post.num_comments, post.upvote_ratio) == (raw["score"], raw["num_comments"], raw["upvote_ratio"])
    assert post.created_at.timestamp() == raw["created_utc"]
    assert post.over_18 == raw["over_18"]


def test_a_comment_listing_is_not_mistaken_for_posts(corpus):
    page = parse_listing(load(corpus, "listings/r_askreddit_comments_2020-07-10.json"))
    assert page.posts == [] and page.skipped == 100


def test_a_2026_listing_classifies_media_and_links(corpus):
    posts = parse_listing(load(corpus, "listings/r_popular_hot_2026-04-13.json")).posts
    by_domain = {}
    for p in posts:
        by_domain.setdefault(p.domain, set()).add(p.link_kind)
    assert by_domain["i.redd.it"] == {"image"}
    assert by_domain["v.redd.it"] == {"video"}
    assert by_domain["reddit.com"] == {"reddit"}
    assert by_domain["newrepublic.com"] == {"article"}


@pytest.mark.parametrize("url,kind", [
    ("https://www.reddit.com/r/x/comments/abc/t/", "reddit"),
    ("https://redd.it/bb1sep", "reddit"),
    ("https://v.redd.it/xyz", "video"),
    ("https://i.redd.it/f58v4g8mwh551.jpg", "image"),
    ("https://imgur.com/a/x", "image"),
    ("https://example.com/photo.PNG", "image"),
    ("https://www.youtube.com/watch?v=1", "video"),
    ("https://youtu.be/1", "video"),
    ("https://www.theverge.com/ai/123/story", "article"),
    ("ftp://example.com/file", "other"),
    (None, "other"),
])
def test_classify_link(url, kind):
    assert classify_link(url) == kind


def test_self_post_is_classified_by_flag_or_domain():
    assert classify_link("https://www.reddit.com/r/x/comments/a/b/", is_self=True) == "self"
    assert classify_link("https://www.reddit.com/r/x/comments/a/b/", domain="self.LocalLLaMA") == "self"


def test_public_json_html_escaping_is_undone():
    # Without raw_json=1 the public host escapes &, <, > in text fields.
    post = post_from_json({"id": "a1", "subreddit": "x", "title": "Q&amp;A: a &lt; b", "is_self": True,
                           "selftext": "x &gt; y", "permalink": "/r/x/comments/a1/q/", "created_utc": 1})
    assert post.title == "Q&A: a < b" and post.selftext == "x > y"


def test_the_485_comment_thread_is_flattened_to_its_top_comments(corpus):
    doc = load(corpus, "threads/n49rw_announcements_2016-03-22.json")
    thread = parse_thread(doc, top_n=25)
    assert thread.post.id == "n49rw" and thread.post.link_kind == "self"
    assert thread.tally.seen == 485 and thread.tally.more_stubs == 177
    assert thread.tally.deleted > 0  # the thread has [deleted] comments; none are kept
    kept = thread.comments
    assert len(kept) == 25 and [c.rank for c in kept] == list(range(1, 26))
    assert [c.score for c in kept] == sorted((c.score for c in kept), reverse=True)
    assert all(c.body not in ("[deleted]", "[removed]") for c in kept)
    assert {c.post_id for c in kept} == {"n49rw"}
    # the best kept comment really is the best scored non-deleted comment anywhere in the tree
    scores = []

    def walk(children):
        for ch in children:
            if ch["kind"] == "t1":
                if ch["data"]["body"] not in ("[deleted]", "[removed]"):
                    scores.append(ch["data"]["score"])
                if isinstance(ch["data"].get("replies"), dict):
                    walk(ch["data"]["replies"]["data"]["children"])

    walk(doc[1]["data"]["children"])
    assert len(scores) == 485 - thread.tally.deleted
    assert kept[0].score == max(scores) and kept[-1].score == sorted(scores, reverse=True)[24]
    # replies carry their depth and a t1_ parent; top-level comments point at the post
    replies = [c for c in kept if c.depth > 0]
    assert replies and all(c.parent_id.startswith("t1_") for c in replies)
    assert all(c.parent_id == "t3_n49rw" for c in kept if c.depth == 0)


def test_moderator_sticky_notice_is_skipped(corpus):
    thread = parse_thread(load(corpus, "threads/bb24k7_removedbybotter_comment_context_2025-06-19.json"), top_n=10)
    assert thread.comments == [] and thread.tally.mod_notices == 1
    assert thread.post.link_kind == "reddit"  # links to another redd.it post: recorded, not extracted


def test_more_stubs_are_counted_not_kept(corpus):
    thread = parse_thread(load(corpus, "threads/ablzuq_askreddit_limit1_2020-01-09.json"), top_n=10)
    assert len(thread.comments) == 1 and thread.tally.more_stubs == 2


def test_image_post_thread(corpus):
    thread = parse_thread(load(corpus, "threads/haucpf_pics_limit1_2020-07-04.json"), top_n=5)
    assert thread.post.link_kind == "image" and thread.post.url.startswith("https://i.redd.it/")


def test_snapshot_carries_engagement(corpus):
    post = parse_listing(load(corpus, "listings/r_askreddit_hot_2020-07-10.json")).posts[0]
    from datetime import datetime, timezone

    snap = snapshot_of(post, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert (snap.post_id, snap.score, snap.num_comments) == (post.id, post.score, post.num_comments)


@pytest.mark.parametrize("doc,reason", [
    ({"message": "Forbidden", "error": 403}, "api_error"),
    ({"kind": "t3", "data": {}}, "not_a_listing"),
    ([], "not_a_thread"),
])
def test_bad_documents_have_a_reason(doc, reason):
    with pytest.raises(ParseError) as exc:
        parse_thread(doc, 5) if isinstance(doc, list) else parse_listing(doc)
    assert exc.value.reason == reason
