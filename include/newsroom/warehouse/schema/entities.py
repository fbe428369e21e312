"""entities tables (owned by the entities stage)."""

from __future__ import annotations

from .base import Base  # noqa: F401
