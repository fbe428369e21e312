"""stories tables (owned by the stories stage)."""

from __future__ import annotations

from .base import Base  # noqa: F401
