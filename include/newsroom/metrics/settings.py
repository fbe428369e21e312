"""Settings of the figures stage (``NEWSROOM_METRICS_*`` environment variables)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MetricsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSROOM_METRICS_", extra="ignore")

    schedule: str = Field("0 3 * * *", description="Cron (UTC) of newsroom_metrics; 'none' for manual only.")
    max_age_days: int = Field(7, ge=1, description="Figures older than this are shown with their date "
                                                   "(topic notes) or not at all (digest stories).")
    max_wait_s: float = Field(900.0, ge=0, description="Longest wait for a spent API quota before the task "
                                                       "stops with the reason.")
    min_backoff_s: float = Field(60.0, ge=0, description="Shortest wait after a secondary rate limit without Retry-After.")
    org_models: int = Field(10, ge=1, le=500, description="Models read per Hugging Face organisation (most downloaded).")
    max_bytes: int = Field(2_000_000, gt=0, description="Cap on one API response body.")


@lru_cache(maxsize=1)
def get_metrics_settings() -> MetricsSettings:
    return MetricsSettings()
