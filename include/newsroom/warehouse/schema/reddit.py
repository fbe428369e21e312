"""reddit tables (owned by the reddit stage)."""

from __future__ import annotations

from .base import Base  # noqa: F401
