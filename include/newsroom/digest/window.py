"""Which day a digest run covers, and that day's window in UTC.

The newsroom thinks in local days: the digest for day D covers articles
published (or, lacking a date, first seen) in ``[D 00:00, D+1 00:00)`` in the
newsroom's timezone. Around DST changes such a day is 23 or 25 hours long,
so the window is computed from local midnights, never as ``start + 24h``.

The DAG runs on ``CronDataIntervalTimetable("0 {hour} * * *", timezone=tz)``:
each run's data interval is ``[D hour:00, D+1 hour:00)`` local and the run
starts when that interval *ends*. The run whose interval ends at
``D+1 hour:00`` digests day D — the last local day that is complete when the
run starts (``hour`` ≥ 0, so D+1 00:00 ≤ D+1 hour:00). We key on the interval
end rather than the start because manual runs (``dags test``, triggered runs)
also carry an end, and the day must be complete by then.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from newsroom.days import UTC, day_window, in_window, local_midnight_utc
from newsroom.days import zone as _zone

__all__ = ["UTC", "day_for_interval", "day_window", "in_window", "local_midnight_utc"]


def day_for_interval(interval_start: datetime | None, interval_end: datetime, tz: ZoneInfo | str) -> date:
    """The local day a run with this data interval digests: the day before the
    interval end's local date.

    ``interval_start`` is accepted for symmetry with Airflow's context and to
    reject nonsense (an interval that ends before it starts); with a trigger
    timetable (start == end) the end still decides.
    """
    if interval_end.tzinfo is None:
        raise ValueError("interval_end must be timezone-aware")
    if interval_start is not None:
        if interval_start.tzinfo is None:
            raise ValueError("interval_start must be timezone-aware")
        if interval_start > interval_end:
            raise ValueError(f"data interval ends ({interval_end}) before it starts ({interval_start})")
    local_end = interval_end.astimezone(_zone(tz))
    return local_end.date() - timedelta(days=1)
