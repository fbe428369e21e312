"""Local days and their windows in UTC, shared by the warehouse's consumer views and the digest.

The newsroom thinks in local days: day D is ``[D 00:00, D+1 00:00)`` in the
newsroom's timezone. Around DST changes such a day is 23 or 25 hours long, so
the window is computed from local midnights, never as ``start + 24h``. Below
every stage (it imports nothing of newsroom), so any layer may use it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc

__all__ = ["UTC", "day_window", "in_window", "local_midnight_utc", "zone"]


def zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))


def local_midnight_utc(day: date, tz: ZoneInfo | str) -> datetime:
    """The UTC instant of ``day`` 00:00 in ``tz``.

    Where midnight itself is skipped by a DST jump (some American zones),
    zoneinfo's ``fold=0`` reading maps it to the first instant of the day.
    """
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(UTC)


def day_window(day: date, tz: ZoneInfo | str) -> tuple[datetime, datetime]:
    """``(start_utc, end_utc)`` of local day ``day``: ``[D 00:00, D+1 00:00)`` in ``tz``."""
    return local_midnight_utc(day, tz), local_midnight_utc(day + timedelta(days=1), tz)


def in_window(ts: datetime | None, window: tuple[datetime, datetime]) -> bool:
    return ts is not None and window[0] <= ts < window[1]
