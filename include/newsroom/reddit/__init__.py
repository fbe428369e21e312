"""Reddit as a source: HTTP access (``client``), JSON → records (``parse``) and
the RSS fallback (``rss``) — bytes in, typed records out. Storing them is
:mod:`newsroom.warehouse.reddit`'s.

The per-subreddit orchestration the DAG calls is
:func:`newsroom.pipeline.reddit.ingest_subreddit`. Nothing here imports Airflow:
the DAG reads the ``reddit_default`` Connection and passes
:class:`RedditCredentials` in.
"""

from .auth import RedditCredentials
from .client import RateLimited, RedditClient, RedditError
from .parse import (
    EngagementSnapshot,
    Listing,
    ParseError,
    RedditComment,
    RedditPost,
    Thread,
    classify_link,
    parse_listing,
    parse_thread,
)
from .rss import parse_subreddit_feed

__all__ = [
    "EngagementSnapshot",
    "Listing",
    "ParseError",
    "RateLimited",
    "RedditClient",
    "RedditComment",
    "RedditCredentials",
    "RedditError",
    "RedditPost",
    "Thread",
    "classify_link",
    "parse_listing",
    "parse_subreddit_feed",
    "parse_thread",
]
