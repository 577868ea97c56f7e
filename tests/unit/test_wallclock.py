"""Wall-clock times on the nights the clocks change: repeated and skipped times are named."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduler.wallclock import AmbiguousTime, NonexistentTime, Reading, is_ambiguous, local_time

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("tz", "day", "at", "start", "end"),
    [
        (BERLIN, date(2027, 10, 31), time(2, 30), time(2), time(3)),
        (BERLIN, date(2027, 10, 31), time(2, 0), time(2), time(3)),
        (NEW_YORK, date(2027, 11, 7), time(1, 15), time(1), time(2)),
    ],
)
def test_a_repeated_time_is_raised_with_the_hour_that_repeats(
    tz: ZoneInfo, day: date, at: time, start: time, end: time
) -> None:
    with pytest.raises(AmbiguousTime) as exc:
        local_time(day, at, tz)
    assert (exc.value.repeat_start, exc.value.repeat_end) == (start, end)
    earlier = local_time(day, at, tz, Reading.earlier)
    later = local_time(day, at, tz, Reading.later)
    assert (later.astimezone(UTC) - earlier.astimezone(UTC)).total_seconds() == 3600
    assert is_ambiguous(earlier) and is_ambiguous(later)


@pytest.mark.parametrize(
    ("tz", "day", "at", "start", "end"),
    [
        (BERLIN, date(2027, 3, 28), time(2, 30), time(2), time(3)),
        (BERLIN, date(2027, 3, 28), time(2, 0), time(2), time(3)),
        (NEW_YORK, date(2027, 3, 14), time(2, 59), time(2), time(3)),
    ],
)
def test_a_skipped_time_is_raised_with_the_gap_whatever_the_reading(
    tz: ZoneInfo, day: date, at: time, start: time, end: time
) -> None:
    for reading in (None, Reading.earlier, Reading.later):
        with pytest.raises(NonexistentTime) as exc:
            local_time(day, at, tz, reading)
        assert (exc.value.gap_start, exc.value.gap_end) == (start, end)


@pytest.mark.parametrize(
    ("day", "at", "utc_hour"),
    [
        (date(2027, 10, 31), time(3, 0), 2),  # just after the repeated hour
        (date(2027, 10, 31), time(1, 59), 23),  # just before it (the day before in UTC)
        (date(2027, 3, 28), time(3, 0), 1),  # just after the gap
        (date(2027, 3, 28), time(1, 59), 0),
        (date(2027, 6, 1), time(9, 0), 7),
    ],
)
def test_ordinary_times_need_no_reading(day: date, at: time, utc_hour: int) -> None:
    value = local_time(day, at, BERLIN)
    assert value.astimezone(UTC).hour == utc_hour
    assert not is_ambiguous(value)
    assert local_time(day, at.replace(fold=1), BERLIN) == value  # a fold in `at` is ignored


def test_is_ambiguous_looks_at_the_wall_clock_of_an_instant() -> None:
    assert is_ambiguous(datetime(2027, 10, 31, 0, 30, tzinfo=UTC).astimezone(BERLIN))
    assert not is_ambiguous(datetime(2027, 10, 31, 2, 0, tzinfo=UTC).astimezone(BERLIN))
