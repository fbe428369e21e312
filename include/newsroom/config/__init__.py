"""Sources and entities files: models, loading and validation errors."""

from .errors import ConfigError
from .sources import FeedSource, RedditConfig, SourcesFile, SubredditSource, load_sources

__all__ = ["ConfigError", "FeedSource", "RedditConfig", "SourcesFile", "SubredditSource", "load_sources"]
