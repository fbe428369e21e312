"""The /r/NAME/.rss fallback on the real Reddit feeds of the corpus (RSS 2.0 and Atom)."""

import pytest

from newsroom.reddit.parse import ParseError
from newsroom.reddit.rss import parse_subreddit_feed

FILES = {"reddit_frontpage_rss2_2015.xml": 24, "reddit_frontpage_atom_2016.xml": 24,
         "reddit_r_rust_atom_2020.xml": 1, "reddit_search_site_atom_2021.xml": 1}


@pytest.mark.parametrize("name,count", FILES.items())
def test_both_formats_parse(corpus, name, count):
    posts = parse_subreddit_feed((corpus / "reddit" / "rss" / name).read_bytes())
    assert len(posts) == count
    for p in posts:
        assert p.id.isalnum() and f"/comments/{p.id}/" in p.permalink
        assert p.subreddit and p.title and p.author and p.created_at is not None
        assert p.score is None  # a feed carries no score: no engagement snapshot from RSS


def test_rss2_links_self_posts_and_comment_counts(corpus):
    posts = {p.id: p for p in parse_subreddit_feed((corpus / "reddit/rss/reddit_frontpage_rss2_2015.xml").read_bytes())}
    assert posts["3skxqc"].link_kind == "image" and posts["3skxqc"].url == "http://i.imgur.com/U407R75.gifv"
    assert posts["3skxqc"].num_comments == 275 and posts["3skxqc"].author == "cakebeerandmorebeer"
    ama = posts["3sl82z"]
    assert ama.is_self and ama.link_kind == "self" and "Aziz Ansari" in ama.selftext


def test_atom_outside_link_is_an_article(corpus):
    (post,) = parse_subreddit_feed((corpus / "reddit/rss/reddit_search_site_atom_2021.xml").read_bytes())
    assert post.id == "qksbf1" and post.subreddit == "kevincox"
    assert post.url == "https://kevincox.ca/2021/11/01/announcing-feedmail/" and post.link_kind == "article"


def test_atom_self_post_text(corpus):
    (post,) = parse_subreddit_feed((corpus / "reddit/rss/reddit_r_rust_atom_2020.xml").read_bytes())
    assert post.is_self and post.selftext.startswith("Mystified about strings?")


def test_an_html_block_page_is_not_a_feed():
    with pytest.raises(ParseError) as exc:
        parse_subreddit_feed(b"<!doctype html><html><body><h1>whoa there, pardner!</h1></body></html>")
    assert exc.value.reason == "not_a_feed"
