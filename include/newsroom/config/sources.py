"""The sources file: which beat, in which timezone, from which feeds and subreddits.

    beat: AI
    timezone: Europe/London
    feeds:
      - name: the-verge-ai
        url: https://www.theverge.com/rss/ai-artificial-intelligence/index.xml
        outlet: The Verge
        tags: [tech]
    reddit:
      subreddits: [...]

:func:`load_sources` validates it and raises :class:`ConfigError` naming the
file, the entry and the field of every problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError, check_http_url, from_validation_error, load_yaml


class FeedSource(BaseModel):
    """One RSS/Atom feed."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Unique id of the source (used as map index).")
    url: str
    outlet: str | None = Field(default=None, description="Publisher shown in digests; defaults to the name.")
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        return check_http_url(v)

    @property
    def display_outlet(self) -> str:
        return self.outlet or self.name


LISTINGS = ("new", "hot", "top", "rising")


class SubredditSource(BaseModel):
    """One subreddit to follow (see ``newsroom.reddit``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_]+$")
    listing: tuple[Literal["new", "hot", "top", "rising"], ...] = Field(
        default=("hot",), description="One listing (`hot`) or several (`[hot, new]`), their posts merged.")
    time_filter: str = Field(default="day", pattern=r"^(hour|day|week|month|year|all)$")
    limit: int = Field(default=25, ge=1, le=1000)
    min_score: int = 0
    top_comments: int = Field(default=10, ge=0, le=500)
    use_rss: bool = Field(default=False, description="Read /r/NAME/.rss instead of JSON.")
    enabled: bool = True
    rss_fallback: bool = Field(
        default=True, description="Read /r/NAME/.rss when the JSON API is blocked (plain 403, HTML instead of JSON)."
    )
    articles: bool = Field(default=True, description="Fetch and extract the pages link posts point at.")

    @field_validator("listing", mode="before")
    @classmethod
    def _listings(cls, v):
        """``hot`` or ``[hot, new]``: always a non-empty tuple without repeats."""
        items = [v] if isinstance(v, str) else v
        if isinstance(items, (list, tuple)):
            if not items:
                raise ValueError("give at least one listing (new, hot, top, rising)")
            unknown = [x for x in items if x not in LISTINGS]
            if unknown:
                raise ValueError(f"{unknown[0]!r} is not a listing: use {', '.join(LISTINGS)} (or a list of them)")
            seen = [x for i, x in enumerate(items) if x in items[:i]]
            if seen:
                raise ValueError(f"listing {seen[0]!r} is given twice")
        return items


class RedditConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = "https://www.reddit.com"
    oauth_base_url: str = "https://oauth.reddit.com"
    token_url: str = "https://www.reddit.com/api/v1/access_token"
    subreddits: list[SubredditSource] = Field(default_factory=list)
    requests_per_minute: float = Field(
        default=10, gt=0, description="Request budget per process without credentials (Reddit's anonymous limit)."
    )
    oauth_requests_per_minute: float = Field(
        default=100, gt=0, description="Request budget per process with app-only OAuth (Reddit's free-tier limit)."
    )
    max_wait_s: float = Field(
        default=60, ge=0, description="Longest rate-limit wait (Retry-After / X-Ratelimit-Reset) before deferring."
    )
    timeout_s: float = Field(default=20, gt=0)
    user_agent: str | None = Field(default=None, description="Overrides NEWSROOM_USER_AGENT for Reddit requests.")

    @field_validator("base_url", "oauth_base_url", "token_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        return check_http_url(v)

    def subreddit(self, name: str) -> SubredditSource:
        """The configured subreddit called ``name`` (case-insensitive, like Reddit)."""
        for s in self.subreddits:
            if s.name.lower() == name.lower():
                return s
        raise KeyError(name)

    @model_validator(mode="after")
    def _unique(self):
        seen: set[str] = set()
        for s in self.subreddits:
            if s.name.lower() in seen:
                raise ValueError(f"subreddit {s.name!r} is listed twice (follow several listings of one "
                                 f"subreddit with one entry: listing: [hot, new])")
            seen.add(s.name.lower())
        return self


class DigestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hour: int = Field(default=6, ge=0, le=23, description="No longer the schedule (NEWSROOM_DIGEST_SCHEDULE is): "
                      "build_digest warns when the two hours differ.")
    top_n: int = Field(default=10, ge=1, le=200)
    related_days: int = Field(default=30, ge=0)
    beat_terms: list[str] = Field(
        default_factory=list,
        description="Words and phrases of the beat ('artificial intelligence', 'LLM', 'AI'); a story needs "
                    "them next to its tracked entities to be on the beat (case-insensitive, except terms "
                    "written in capitals of up to 4 letters, such as 'AI').")
    beat_source_tags: list[str] = Field(
        default_factory=list, description="Feed tags whose articles count as on the beat by their source.")
    elsewhere: int = Field(default=5, ge=0, le=50,
                           description="Off-beat stories listed under 'Elsewhere' (0: not listed at all).")

    @field_validator("beat_terms", "beat_source_tags")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        out = []
        for t in v:
            t = " ".join(str(t).split())
            if not t:
                raise ValueError("a beat term must not be empty")
            if t not in out:
                out.append(t)
        return out


class HealthConfig(BaseModel):
    """When a run as a whole is red (see ``newsroom.pipeline.outcome.judge_run``)."""

    model_config = ConfigDict(extra="forbid")

    max_failed_share: float = Field(
        default=1.0, ge=0, le=1,
        description="The run fails when more than this share of the sources it attempted failed "
                    "(1.0: only when all failed; a run where no source succeeded always fails).")


class SourcesFile(BaseModel):
    """The whole sources file."""

    model_config = ConfigDict(extra="forbid")

    beat: str = Field(default="AI", min_length=1, max_length=60)
    timezone: str = "UTC"
    feeds: list[FeedSource] = Field(default_factory=list)
    reddit: RedditConfig = Field(default_factory=RedditConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _unique_names(self):
        seen: set[str] = set()
        for f in self.feeds:
            if f.name in seen:
                raise ValueError(f"feed name {f.name!r} is used twice")
            seen.add(f.name)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def enabled_feeds(self) -> list[FeedSource]:
        return [f for f in self.feeds if f.enabled]

    def feed(self, name: str) -> FeedSource:
        for f in self.feeds:
            if f.name == name:
                return f
        raise KeyError(name)


def load_sources(path: Path | str) -> SourcesFile:
    """Load and validate a sources file."""
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): must be a mapping with beat, timezone, feeds"])
    try:
        return SourcesFile.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(path, data, err) from None
