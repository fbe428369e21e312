from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from newsroom.digest.window import day_for_interval, day_window

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


def test_day_window_is_local_midnight_to_midnight():
    start, end = day_window(date(2026, 4, 9), LONDON)  # BST (UTC+1)
    assert start == datetime(2026, 4, 8, 23, tzinfo=UTC)
    assert end == datetime(2026, 4, 9, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    "day, hours",
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 3, 28), 24), (date(2026, 10, 26), 24)],
)
def test_day_window_spans_dst_changes(day, hours):
    start, end = day_window(day, LONDON)
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(LONDON).hour == 0 and end.astimezone(LONDON).hour == 0
    assert end.astimezone(LONDON).date() == day + timedelta(days=1)


def test_consecutive_windows_tile_time_without_gaps():
    d = date(2026, 3, 20)
    for _ in range(230):  # across both 2026 DST changes
        assert day_window(d, LONDON)[1] == day_window(d + timedelta(days=1), LONDON)[0]
        d += timedelta(days=1)


def test_run_whose_interval_ends_at_next_morning_digests_the_previous_day():
    start = datetime(2026, 4, 9, 6, tzinfo=LONDON)
    end = datetime(2026, 4, 10, 6, tzinfo=LONDON)
    assert day_for_interval(start, end, LONDON) == date(2026, 4, 9)
    # the same instants expressed in UTC give the same answer
    assert day_for_interval(start.astimezone(UTC), end.astimezone(UTC), "Europe/London") == date(2026, 4, 9)
    # a trigger-style run (empty interval) is keyed on its end too
    assert day_for_interval(end, end, LONDON) == date(2026, 4, 9)


def test_naive_or_inverted_intervals_are_rejected():
    with pytest.raises(ValueError):
        day_for_interval(None, datetime(2026, 4, 10, 6), LONDON)
    with pytest.raises(ValueError):
        day_for_interval(datetime(2026, 4, 11, tzinfo=UTC), datetime(2026, 4, 10, tzinfo=UTC), LONDON)


def _airflow_intervals(tz: str, hour: int, first: datetime, n: int):
    """Data intervals as Airflow's own CronDataIntervalTimetable schedules them."""
    from airflow.sdk import CronDataIntervalTimetable
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    # the SDK timetable is a declaration; the scheduler runs its core counterpart
    tt = coerce_to_core_timetable(CronDataIntervalTimetable(f"0 {hour} * * *", timezone=tz))
    restriction = TimeRestriction(earliest=first, latest=None, catchup=True)
    last = None
    out = []
    for _ in range(n):
        info = tt.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        out.append(info.data_interval)
        last = DataInterval(info.data_interval.start, info.data_interval.end)
    return out


@pytest.mark.airflow
@pytest.mark.parametrize("first", [datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC)])
def test_airflow_runs_digest_consecutive_complete_days_across_dst(first):
    days = []
    for interval in _airflow_intervals("Europe/London", 6, first, 6):
        day = day_for_interval(interval.start, interval.end, LONDON)
        start, end = day_window(day, LONDON)
        # the day is complete when the run starts, and it is the day the interval began on
        assert end <= interval.end
        assert interval.start.astimezone(LONDON).date() == day
        assert interval.end.astimezone(LONDON).hour == 6
        days.append(day)
    assert days == [days[0] + timedelta(days=i) for i in range(6)]
