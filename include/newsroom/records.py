"""Typed records that cross stage boundaries.

Each stage takes and returns these, so a reader can follow the data flow:
``FetchResult`` (fetch) → ``ParsedFeed``/``FeedEntry`` (feeds) →
``Extraction`` (extract) → rows in the warehouse. Bodies never travel through
XCom; only ids and counts do.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class FetchResult(BaseModel):
    """One HTTP exchange (after redirects), or the reason it failed.

    ``error`` is a short machine-readable reason (``timeout``, ``too_large``,
    ``blocked_address``, ``robots``, ``http_404``, …) and ``error_detail`` a
    human-readable sentence. ``body`` is the decoded (gunzipped) body, capped.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    url: str
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    body: bytes = b""
    elapsed_ms: float = 0.0
    redirects: list[str] = Field(default_factory=list)
    not_modified: bool = False
    error: str | None = None
    error_detail: str | None = None
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


class FeedEntry(BaseModel):
    """One entry of a feed, as the feed tells it."""

    guid: str
    url: str | None = None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    summary: str | None = None
    content: str | None = Field(default=None, description="Full content (HTML) when the feed carries it.")
    tags: list[str] = Field(default_factory=list)
    comments_url: str | None = None


class ParsedFeed(BaseModel):
    """A parsed feed document. ``error`` is set when nothing usable was found."""

    title: str | None = None
    link: str | None = None
    format: str | None = None
    entries: list[FeedEntry] = Field(default_factory=list)
    warning: str | None = Field(default=None, description="Recoverable problem (bozo) while parsing.")
    error: str | None = Field(default=None, description="Why the document is not a usable feed.")
    discovered_feeds: list[str] = Field(
        default_factory=list,
        description="Feeds an HTML page advertises (<link rel=alternate>) when it was served instead of a feed.",
    )


class Extraction(BaseModel):
    """What was extracted from one page's bytes.

    ``status`` is ``ok`` (full text from the page), ``feed_content`` (the page
    failed, the feed's own content was used) or ``failed``; ``reason`` says why
    when it is not ``ok``.
    """

    url: str
    status: str = "ok"
    reason: str | None = None
    text: str | None = None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    sitename: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    description: str | None = None
