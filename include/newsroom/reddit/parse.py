"""Reddit JSON → typed records.

Listings (``/r/SUB/hot.json``) become :class:`RedditPost` records each with an
:class:`EngagementSnapshot`; thread documents (``/comments/ID.json``, a
two-element array ``[submission listing, comment listing]``) become the post
plus its top-N :class:`RedditComment` records, the comment tree flattened.

The parser is tolerant by design: Reddit's schema has drifted since 2016 (the
corpus spans 2016–2026), so every field is read with a default, and a child
that is not what we expect is skipped and counted rather than failing the
whole listing.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

#: Permalinks are stored against the public site whichever host served the
#: JSON (the OAuth host, or a replay server in tests), so they stay stable keys.
REDDIT_WEB = "https://www.reddit.com"

LINK_KINDS = ("self", "article", "reddit", "image", "video", "other")
REDDIT_HOSTS = ("reddit.com", "redd.it", "redditmedia.com", "reddituploads.com")
IMAGE_HOSTS = ("i.redd.it", "preview.redd.it", "imgur.com", "i.imgur.com", "gfycat.com", "giphy.com",
               "i.reddituploads.com", "flickr.com", "redgifs.com")
VIDEO_HOSTS = ("v.redd.it", "youtube.com", "youtu.be", "m.youtube.com", "vimeo.com", "streamable.com",
               "twitch.tv", "clips.twitch.tv", "tiktok.com", "dailymotion.com")
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".gif", ".gifv", ".webp", ".bmp", ".svg")
VIDEO_EXT = (".mp4", ".webm", ".mov", ".m3u8")
DELETED = {"[deleted]", "[removed]", ""}


class ParseError(ValueError):
    """The document is not the Reddit JSON we asked for (``reason`` says what)."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


class RedditPost(BaseModel):
    """One submission as a listing or thread tells it."""

    id: str = Field(description="base36 id without the t3_ prefix")
    subreddit: str
    title: str
    author: str | None = None
    created_at: datetime | None = None
    permalink: str = Field(description="absolute URL on www.reddit.com")
    url: str | None = None
    domain: str | None = None
    is_self: bool = False
    selftext: str | None = None
    flair: str | None = None
    over_18: bool = False
    stickied: bool = False
    distinguished: str | None = None
    link_kind: str = "other"
    # Engagement at read time (None when read from RSS, which carries none).
    score: int | None = None
    num_comments: int | None = None
    upvote_ratio: float | None = None


class EngagementSnapshot(BaseModel):
    """Score and comment count of a post at one moment."""

    post_id: str
    taken_at: datetime
    score: int
    num_comments: int
    upvote_ratio: float | None = None


class RedditComment(BaseModel):
    """One kept comment. ``parent_id`` is a full name (``t3_…`` or ``t1_…``)."""

    id: str
    post_id: str
    parent_id: str | None = None
    depth: int = 0
    author: str | None = None
    body: str
    score: int = 0
    created_at: datetime | None = None
    rank: int = 0


class Listing(BaseModel):
    """One page of a subreddit listing."""

    posts: list[RedditPost]
    after: str | None = None
    skipped: int = Field(default=0, description="children that were not submissions (t1 comments, ads)")


class CommentTally(BaseModel):
    """What flattening a thread met, so skips are visible rather than silent."""

    seen: int = 0
    deleted: int = 0
    mod_notices: int = 0
    more_stubs: int = 0


class Thread(BaseModel):
    """A submission and its top comments."""

    post: RedditPost
    comments: list[RedditComment]
    tally: CommentTally = Field(default_factory=CommentTally)


def _ts(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _text(value) -> str | None:
    """Reddit's public JSON (without raw_json=1) HTML-escapes &, <, >; undo it
    so the stored text is the same whichever host served it."""
    if value is None:
        return None
    return html.unescape(str(value))


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def _host_is(host: str, candidates: tuple[str, ...]) -> bool:
    return any(host == c or host.endswith("." + c) for c in candidates)


def classify_link(url: str | None, *, is_self: bool = False, domain: str | None = None,
                  is_video: bool = False) -> str:
    """What a post points at, which decides whether its URL is extracted.

    Only ``article`` URLs enter the article path; images, videos and links back
    into Reddit are recorded but have no text to extract. Order matters:
    ``v.redd.it`` is a video before it is a Reddit host, ``i.redd.it`` an image.
    """
    if is_self or (domain or "").lower().startswith("self."):
        return "self"
    host = _host(url)
    if not host:
        return "other"
    path = urlsplit(url or "").path.lower()
    if is_video or _host_is(host, VIDEO_HOSTS) or path.endswith(VIDEO_EXT):
        return "video"
    if _host_is(host, IMAGE_HOSTS) or path.endswith(IMAGE_EXT):
        return "image"
    if _host_is(host, REDDIT_HOSTS):
        return "reddit"
    if urlsplit(url or "").scheme not in ("http", "https"):
        return "other"
    return "article"


def absolute_permalink(permalink: str | None, post_id: str, subreddit: str) -> str:
    if permalink and permalink.startswith(("http://", "https://")):
        parts = urlsplit(permalink)
        return REDDIT_WEB + parts.path
    if permalink:
        return REDDIT_WEB + (permalink if permalink.startswith("/") else "/" + permalink)
    return f"{REDDIT_WEB}/r/{subreddit}/comments/{post_id}/"


def post_from_json(d: dict) -> RedditPost:
    """A :class:`RedditPost` from the ``data`` of a ``t3`` child."""
    post_id = str(d.get("id") or str(d.get("name", "")).removeprefix("t3_"))
    if not post_id:
        raise ParseError("not_a_post", "submission without id")
    subreddit = str(d.get("subreddit") or "")
    is_self = bool(d.get("is_self"))
    permalink = absolute_permalink(d.get("permalink"), post_id, subreddit)
    url = _text(d.get("url_overridden_by_dest") or d.get("url")) or None
    if url and url.startswith("/"):
        url = REDDIT_WEB + url  # crossposts and galleries may use a relative link
    domain = d.get("domain")
    author = d.get("author")
    return RedditPost(
        id=post_id,
        subreddit=subreddit,
        title=_text(d.get("title")) or "",
        author=None if author in (None, "[deleted]") else str(author),
        created_at=_ts(d.get("created_utc")),
        permalink=permalink,
        url=permalink if is_self else url,
        domain=domain,
        is_self=is_self,
        selftext=(_text(d.get("selftext")) or None) if is_self else None,
        flair=_text(d.get("link_flair_text")) or None,
        over_18=bool(d.get("over_18")),
        stickied=bool(d.get("stickied")),
        distinguished=d.get("distinguished"),
        link_kind=classify_link(url, is_self=is_self, domain=domain, is_video=bool(d.get("is_video"))),
        score=int(d.get("score") or 0),
        num_comments=int(d.get("num_comments") or 0),
        upvote_ratio=float(d["upvote_ratio"]) if d.get("upvote_ratio") is not None else None,
    )


def snapshot_of(post: RedditPost, taken_at: datetime) -> EngagementSnapshot | None:
    """The engagement part of a post; None when the source carried none (RSS)."""
    if post.score is None:
        return None
    return EngagementSnapshot(post_id=post.id, taken_at=taken_at, score=post.score,
                              num_comments=post.num_comments or 0, upvote_ratio=post.upvote_ratio)


def _expect_listing(doc, what: str) -> dict:
    if not isinstance(doc, dict) or doc.get("kind") != "Listing" or not isinstance(doc.get("data"), dict):
        if isinstance(doc, dict) and "error" in doc:
            raise ParseError("api_error", f"{doc.get('error')} {doc.get('message', '')}".strip())
        raise ParseError("not_a_listing", f"{what} is not a Listing")
    return doc["data"]


def parse_listing(doc) -> Listing:
    """A listing page: its submissions (``t3``) and the ``after`` cursor."""
    data = _expect_listing(doc, "listing")
    posts: list[RedditPost] = []
    skipped = 0
    for child in data.get("children") or []:
        if not isinstance(child, dict) or child.get("kind") != "t3" or not isinstance(child.get("data"), dict):
            skipped += 1
            continue
        try:
            posts.append(post_from_json(child["data"]))
        except (ParseError, ValueError, TypeError):
            skipped += 1
    return Listing(posts=posts, after=data.get("after") or None, skipped=skipped)


def _is_mod_notice(d: dict) -> bool:
    # Stickied comments are the moderators' (or AutoModerator's) notices, not reactions.
    return bool(d.get("stickied")) or (d.get("distinguished") == "moderator" and d.get("author") == "AutoModerator")


def _is_deleted(d: dict) -> bool:
    # A deleted comment keeps its slot in the tree with the body "[deleted]";
    # a removed one says "[removed]" (and, since 2021, removed_by_category).
    return (d.get("body") or "").strip() in DELETED or bool(d.get("removed_by_category"))


def flatten_comments(children: list, post_id: str, tally: CommentTally, depth: int = 0) -> list[RedditComment]:
    """Walk the reply tree depth-first, keeping real comments and counting skips.

    A deleted comment is skipped but its replies are kept (they are often the
    substance of the thread); ``more`` stubs are counted, not fetched.
    """
    out: list[RedditComment] = []
    stack = [(c, depth) for c in reversed(children or [])]
    while stack:
        child, level = stack.pop()
        if not isinstance(child, dict):
            continue
        kind, d = child.get("kind"), child.get("data") or {}
        if kind == "more":
            tally.more_stubs += 1
            continue
        if kind != "t1":
            continue
        tally.seen += 1
        replies = d.get("replies")
        if isinstance(replies, dict):
            kids = (replies.get("data") or {}).get("children") or []
            stack.extend((c, level + 1) for c in reversed(kids))
        if _is_deleted(d):
            tally.deleted += 1
            continue
        if _is_mod_notice(d):
            tally.mod_notices += 1
            continue
        cid = str(d.get("id") or str(d.get("name", "")).removeprefix("t1_"))
        if not cid:
            continue
        out.append(RedditComment(
            id=cid,
            post_id=post_id,
            parent_id=d.get("parent_id"),
            depth=int(d["depth"]) if isinstance(d.get("depth"), int) else level,
            author=None if d.get("author") in (None, "[deleted]") else str(d.get("author")),
            body=_text(d.get("body")) or "",
            score=int(d.get("score") or 0),
            created_at=_ts(d.get("created_utc")),
        ))
    return out


def top_comments(comments: list[RedditComment], n: int) -> list[RedditComment]:
    """The ``n`` highest-scored comments, ranked 1..n (older first on ties, so
    the order is stable between runs)."""
    far_future = datetime.max.replace(tzinfo=timezone.utc)
    ranked = sorted(comments, key=lambda c: (-c.score, c.created_at or far_future, c.id))[:n]
    return [c.model_copy(update={"rank": i}) for i, c in enumerate(ranked, start=1)]


def parse_thread(doc, top_n: int) -> Thread:
    """A thread document → the post and its top ``top_n`` comments."""
    if not isinstance(doc, list) or len(doc) < 2:
        if isinstance(doc, dict) and "error" in doc:
            raise ParseError("api_error", f"{doc.get('error')} {doc.get('message', '')}".strip())
        raise ParseError("not_a_thread", "expected [submission listing, comment listing]")
    sub = _expect_listing(doc[0], "thread submission")
    kids = [c for c in sub.get("children") or [] if isinstance(c, dict) and c.get("kind") == "t3"]
    if not kids:
        raise ParseError("not_a_thread", "no submission in thread")
    post = post_from_json(kids[0]["data"])
    comments_data = _expect_listing(doc[1], "thread comments")
    tally = CommentTally()
    flat = flatten_comments(comments_data.get("children") or [], post.id, tally)
    return Thread(post=post, comments=top_comments(flat, top_n), tally=tally)


_COMMENTS_ID = re.compile(r"/comments/([a-z0-9]+)", re.I)


def post_id_from_permalink(url: str | None) -> str | None:
    m = _COMMENTS_ID.search(url or "")
    return m.group(1).lower() if m else None
