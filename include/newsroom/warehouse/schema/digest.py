"""digest tables (owned by the digest stage)."""

from __future__ import annotations

from .base import Base  # noqa: F401
