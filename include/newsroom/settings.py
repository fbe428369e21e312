"""Settings read from the environment (``NEWSROOM_*``).

Everything an operator sets per deployment lives here; per-beat choices (feeds,
subreddits, entities) live in the sources and entities files. Defaults give a
working embedded setup: a SQLite warehouse and raw captures under ``./data``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
DEFAULTS_DIR = PACKAGE_DIR / "defaults"


class Settings(BaseSettings):
    """Deployment settings. Field names map to ``NEWSROOM_<NAME>`` variables."""

    model_config = SettingsConfigDict(env_prefix="NEWSROOM_", extra="ignore")

    sources: Path = Field(
        default=DEFAULTS_DIR / "sources.yaml",
        description="YAML sources file: beat, timezone, feeds, reddit.",
    )
    entities: Path = Field(
        default=DEFAULTS_DIR / "entities.yaml",
        description="YAML tracked-entities file.",
    )
    data_dir: str = Field(
        default=str(PROJECT_DIR / "data"),
        description="Raw captures: a local folder or an fsspec/ObjectStoragePath URL (s3://…).",
    )
    warehouse_url: str = Field(
        default="",
        description="SQLAlchemy URL of the warehouse; default a SQLite file under the data dir.",
    )
    output_dir: Path = Field(
        default=PROJECT_DIR / "output",
        description="Obsidian-compatible Markdown vault written by the digest.",
    )
    allow_private_networks: bool = Field(
        default=False,
        description="Allow fetching loopback/private/link-local addresses (tests only).",
    )
    allowed_private_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="'host' or 'host:port' entries exempt from the private-network guard (comma-separated or "
        "JSON list): an intranet feed, or a test server, without opening every private address.",
    )
    fetch_connect_timeout_s: float = Field(default=10.0, gt=0, description="Seconds to connect to a server.")
    fetch_read_timeout_s: float = Field(default=20.0, gt=0, description="Seconds to wait for any single read.")
    fetch_total_timeout_s: float = Field(
        default=60.0, gt=0, description="Wall-clock cap on one fetch, redirects and body included (slow drips)."
    )
    fetch_max_bytes: int = Field(
        default=10_000_000, gt=0, description="Cap on a decompressed response body (gzip bombs, huge pages)."
    )
    user_agent: str = Field(
        default="newsroom/0.1 (+https://github.com/newsroom; news digest bot)",
        description="User-Agent sent on every request.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="If set, only these hosts are fetched (comma-separated or JSON list); others are recorded as host_not_allowed.",
    )
    max_articles_per_source: int = Field(
        default=50, description="New article pages fetched per source per run (the rest wait for the next run)."
    )
    extract_workers: int = Field(
        default=0, description="Extraction processes; 0 means one per CPU core."
    )
    feeds_per_task: int = Field(
        default=20, ge=1,
        description="Feeds one ingest task fetches (concurrently, per-host limits kept); 1 is one task per feed. "
                    "A task process costs ~1-2 s of CPU to start: batching is what lets 1,000 feeds fit in "
                    "an hourly run on 2 cores (benchmarks/scale_sources.py).",
    )
    # Retention (days; 0 keeps forever), applied daily by newsroom_maintenance
    # (newsroom.pipeline.maintenance). Logs of idle runs otherwise grow without bound.
    retention_fetch_log_days: int = Field(default=30, ge=0, description="fetch_log rows kept this many days.")
    retention_source_runs_days: int = Field(
        default=90, ge=0, description="source_runs rows kept this many days (a source's latest run always stays)."
    )
    retention_reddit_snapshots_days: int = Field(
        default=30, ge=0, description="reddit_snapshots kept this many days (a thread's latest snapshot always stays)."
    )
    retention_captures_days: int = Field(
        default=90, ge=0,
        description="Raw captures last fetched longer ago are deleted, unless an article still references them.",
    )

    # The digest DAG's schedule, read when the DAG file is parsed (no YAML at parse time);
    # an invalid value fails the DAG file's import, shown in the UI, rather than a default.
    digest_schedule: str = Field(
        default="0 6 * * *",
        description="When newsroom_digest runs: a daily cron 'MINUTE HOUR * * *' in NEWSROOM_DIGEST_TZ; the run "
        "digests the local day that ended before it.",
    )
    digest_tz: str = Field(
        default="Europe/London",
        description="IANA timezone of the digest schedule; must be the sources file's timezone (its local days "
        "are the digest's days).",
    )

    @field_validator("digest_schedule")
    @classmethod
    def _daily_cron(cls, v: str) -> str:
        fields = v.split()
        minute, hour = (fields + ["", ""])[:2]
        daily = (len(fields) == 5 and fields[2:] == ["*", "*", "*"] and minute.isdigit() and int(minute) < 60
                 and hour.isdigit() and int(hour) < 24)
        if not daily:
            # One run per local day: the digest of day D is keyed on the run's interval end.
            raise ValueError(f"NEWSROOM_DIGEST_SCHEDULE must be a daily cron 'MINUTE HOUR * * *' (one digest per "
                             f"local day), e.g. '0 6 * * *'; got {v!r}")
        return " ".join(fields)

    @field_validator("digest_tz")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        v = v.strip()
        try:
            ZoneInfo(v)
        except Exception:  # ZoneInfoNotFoundError, or ValueError for '' and paths
            raise ValueError(f"NEWSROOM_DIGEST_TZ must be an IANA timezone such as 'Europe/London' or 'UTC'; "
                             f"got {v!r}") from None
        return v

    @field_validator("allowed_hosts", "allowed_private_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, v):
        if isinstance(v, str):
            v = v.strip()
            if v.startswith("["):
                import json

                return json.loads(v)
            return [h.strip().lower() for h in v.split(",") if h.strip()]
        return v

    def host_allowed(self, url: str) -> bool:
        """True when ``url``'s host may be fetched under ``allowed_hosts``."""
        if not self.allowed_hosts:
            return True
        from urllib.parse import urlsplit

        return (urlsplit(url).hostname or "").lower() in self.allowed_hosts

    @field_validator("warehouse_url")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()

    @property
    def resolved_warehouse_url(self) -> str:
        """The warehouse URL, defaulting to ``sqlite:///<data_dir>/warehouse.db``."""
        if self.warehouse_url:
            return self.warehouse_url
        if "://" in self.data_dir and not self.data_dir.startswith("file://"):
            # Remote raw storage: the embedded warehouse still needs a local file.
            return f"sqlite:///{PROJECT_DIR / 'data' / 'warehouse.db'}"
        base = Path(self.data_dir.removeprefix("file://")).resolve()
        return f"sqlite:///{base / 'warehouse.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the current environment (cached; call ``.cache_clear()`` in tests)."""
    return Settings()
