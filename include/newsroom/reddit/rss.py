"""The ``/r/NAME/.rss`` fallback: a subreddit read as a feed when JSON is blocked.

Reddit serves the same posts as a feed — RSS 2.0 until about 2016, Atom since —
without score or upvote ratio, so posts read this way carry no engagement
snapshot (the comment count is taken from the "[N comments]" link when the
feed still has it). The entry's HTML holds what the JSON has as fields: the
outside link is the ``[link]`` anchor (the permalink itself for a self post),
and a self post's text is the ``<div class="md">`` block.

Parsing uses feedparser, the library the feed stage uses, so both formats and
their quirks are handled the same way.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import feedparser
from lxml import html as lxml_html

from .parse import ParseError, RedditPost, absolute_permalink, classify_link, post_id_from_permalink

_COMMENTS = re.compile(r"\[(\d[\d,]*) comments?\]")
_SUB = re.compile(r"/r/([A-Za-z0-9_]+)/")


def _dt(entry, *keys) -> datetime | None:
    for k in keys:
        t = entry.get(k)
        if t:
            return datetime(*t[:6], tzinfo=timezone.utc)
    return None


def _entry_html(entry) -> str:
    content = entry.get("content") or []
    if content and content[0].get("value"):
        return content[0]["value"]
    return entry.get("summary") or ""


def _post_from_entry(entry) -> RedditPost | None:
    permalink = entry.get("link") or ""
    post_id = post_id_from_permalink(permalink) or str(entry.get("id") or "").rsplit("t3_", 1)[-1] or None
    if not post_id or not re.fullmatch(r"[a-z0-9]+", post_id):
        return None
    m = _SUB.search(permalink)
    subreddit = m.group(1) if m else ""
    permalink = absolute_permalink(permalink, post_id, subreddit)
    body = _entry_html(entry)
    link, num_comments, selftext, submitter = None, None, None, None
    if body:
        try:
            doc = lxml_html.fromstring(f"<div>{body}</div>")
        except Exception:  # lxml raises several types on junk; the entry still has title and permalink
            doc = None
        if doc is not None:
            for a in doc.iter("a"):
                label = (a.text_content() or "").strip()
                if label == "[link]" and a.get("href"):
                    link = a.get("href")
                href = a.get("href") or ""
                if submitter is None and "/user/" in href:
                    submitter = href.rstrip("/").rsplit("/", 1)[-1] or None  # "submitted by" (old RSS 2.0)
                c = _COMMENTS.search(label)
                if c:
                    num_comments = int(c.group(1).replace(",", ""))
            md = doc.find_class("md")
            if md:
                selftext = md[0].text_content().strip() or None
    link = link or permalink
    is_self = post_id_from_permalink(link) == post_id
    author = (entry.get("author") or "").strip().removeprefix("/u/").strip() or submitter
    return RedditPost(
        id=post_id,
        subreddit=subreddit,
        title=entry.get("title") or "",
        author=author,
        created_at=_dt(entry, "published_parsed", "updated_parsed"),
        permalink=permalink,
        url=permalink if is_self else link,
        domain=None,
        is_self=is_self,
        selftext=selftext if is_self else None,
        link_kind=classify_link(link, is_self=is_self),
        score=None,
        num_comments=num_comments,
    )


def parse_subreddit_feed(body: bytes) -> list[RedditPost]:
    """Posts of a subreddit's RSS/Atom feed; raises :class:`ParseError` when the
    document is not a feed (e.g. an HTML block page)."""
    parsed = feedparser.parse(body)
    if not parsed.get("version") and not parsed.entries:
        why = getattr(parsed.get("bozo_exception"), "getMessage", lambda: "")() or "no feed found"
        raise ParseError("not_a_feed", str(why))
    posts: list[RedditPost] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        post = _post_from_entry(entry)
        if post is not None and post.id not in seen:
            seen.add(post.id)
            posts.append(post)
    return posts
