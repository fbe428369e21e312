"""All warehouse tables. Importing this module registers every table on ``Base.metadata``."""

from .base import Base, UTCDateTime, utcnow
from .core import Article, Capture, FeedEntryRow, FetchLog, PipelineRun, Source, SourceRun

# Stage modules register their tables on import; keep them importable even
# while a stage is being built.
from . import reddit, stories, entities, digest  # noqa: E402,F401
from . import metrics  # noqa: E402,F401  (issue 16: entity figures)

__all__ = [
    "Article",
    "Base",
    "Capture",
    "FeedEntryRow",
    "FetchLog",
    "PipelineRun",
    "Source",
    "SourceRun",
    "UTCDateTime",
    "utcnow",
]
