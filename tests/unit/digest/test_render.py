"""Hostile text through every template: no HTML, no wikilinks/embeds, no front-matter injection."""

import re
from datetime import date

import yaml
from markdown_it import MarkdownIt

from newsroom.digest.render import front_matter, inline, link, render, safe_url, wikilink

HOSTILE = (
    "<script>alert(1)</script> [[Secret Note]] ![[embed.png]] $x^2$ %%hidden%% ==hl== #tag "
    "**bold** [link](javascript:alert(1)) \u202eevil\x00 \n---\ninjected: true\n"
)


def _tokens(md: str):
    out = []
    stack = MarkdownIt("commonmark").parse(md)
    while stack:
        t = stack.pop()
        out.append(t)
        stack.extend(t.children or [])
    return out


def _body(note: str) -> str:
    assert note.startswith("---\n")
    return note.split("\n---\n", 1)[1]


def _digest(headline=HOSTILE, summary=HOSTILE, url="javascript:alert(1)"):
    item = {
        "rank": 1, "headline": headline, "category": HOSTILE, "tldr": [{"text": summary, "refs": "[1]", "end": HOSTILE}],
        "outlet_count": 2, "source_count": 2, "first_reported": HOSTILE, "new_outlets": [HOSTILE], "new_sources": 1,
        "sources": [{"n": 1, "outlet": HOSTILE, "title": HOSTILE, "url": url, "new": True,
                     "also_carried_by": [HOSTILE]},
                    {"n": 2, "outlet": "Ars", "title": "ok", "url": "https://a.example/p?q=(1)&r=<2> x", "new": False,
                     "also_carried_by": []}],
        "key_figures": [{"value": HOSTILE, "also": [HOSTILE], "context": HOSTILE, "refs": "[1]"}],
        "entity_links": [wikilink("Meta", HOSTILE)], "also_mentions": [HOSTILE],
        "reddit": [{"subreddit": HOSTILE, "score": 5, "num_comments": 2, "title": HOSTILE, "permalink": url,
                    "comments": [{"author": HOSTILE, "body": HOSTILE, "score": 1}]}],
        "related": [], "related_via": [],
    }
    fm = front_matter({"title": HOSTILE, "date": date(2026, 4, 9).isoformat(), "tags": ["digest"]})
    return render("digest.md.j2", front_matter=fm, heading=HOSTILE, feeds_checked=1, subreddits_checked=1,
                  articles_count=2, stories_count=1, window_label=HOSTILE, items=[item],
                  also=[{"headline": HOSTILE, "outlets": [HOSTILE], "url": url, "first_reported": HOSTILE}],
                  elsewhere=[{"headline": HOSTILE, "outlets": [HOSTILE], "url": url}])


def test_front_matter_is_one_yaml_mapping_with_only_our_keys():
    note = _digest()
    head = note.split("\n---\n", 1)[0].removeprefix("---\n")
    data = yaml.safe_load(head)
    assert set(data) == {"title", "date", "tags"}
    assert "injected" not in data and data["title"].startswith("<script>")


def test_no_html_no_wikilinks_no_unsafe_links_in_body():
    body = _body(_digest())
    toks = _tokens(body)
    assert not [t for t in toks if t.type in ("html_inline", "html_block")]
    hrefs = [t.attrGet("href") for t in toks if t.type == "link_open"]
    assert hrefs and all(h.startswith("https://") for h in hrefs)
    assert "javascript" not in "".join(hrefs)
    # the only wikilink is the one we built, with a cleaned alias
    assert body.count("[[") == 1 and "[[Meta|" in body
    for bad in ("$x^2$", "%%hidden", "==hl==", "\u202e", "\x00", "\n---\ninjected"):
        assert bad not in body
    assert not re.search(r"(?<!\\)<", body)  # every "<" is escaped
    assert "\\<script\\>" in body  # shown literally, escaped


def test_untrusted_headline_cannot_start_new_blocks():
    body = _body(_digest(headline="# Fake heading\n\n- fake list", summary="> quote\n1. item"))
    headings = [t for t in _tokens(body) if t.type == "heading_open"]
    # only the template's own headings: the digest title, the story, "Also today" and "Elsewhere"
    assert len(headings) == 4
    assert "\\# Fake heading - fake list" in body


def test_huge_title_is_cut():
    body = _body(_digest(headline="A" * 100_000))
    assert max(len(line) for line in body.splitlines()) < 5000


def test_safe_url_and_link():
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,hi") is None
    assert safe_url("https://e.com/a (b)<c>") == "https://e.com/a%20%28b%29%3Cc%3E"
    assert link("t", "ftp://x") == "t"
    assert link("[x]", "https://e.com") == "[\\[x\\]](https://e.com)"
    assert inline("a\x00b\u202ec\nd") == "abc d"
