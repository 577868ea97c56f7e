"""Wall-clock times on days the clocks change: a local time may happen twice or not at all.

`datetime.combine(day, at, tzinfo=tz)` silently picks one reading of 02:30 on the night the
clocks go back, and silently shifts a 02:30 that does not exist on the night they go forward;
calendar clients then disagree about the instant (ical.js reads such a time an hour later than
icalendar). A time typed by a person is resolved here, and the two special cases are raised so
that the chat can ask back instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import Enum


class Reading(Enum):
    """Which of two equal wall-clock times is meant (PEP 495 `fold`)."""

    earlier = 0  # before the clocks go back: still daylight-saving time
    later = 1  # after: standard time


@dataclass(eq=False)  # an exception: Python sets its traceback attributes
class AmbiguousTime(Exception):
    """`at` happens twice on `day`, at `earlier` and `later`: the clocks go back from
    `repeat_end` to `repeat_start`, so the wall-clock times in between come twice."""

    day: date
    at: time
    earlier: datetime
    later: datetime
    repeat_start: time
    repeat_end: time


@dataclass(eq=False)
class NonexistentTime(Exception):
    """`at` does not exist on `day`: the clocks jump from `gap_start` to `gap_end`."""

    day: date
    at: time
    gap_start: time
    gap_end: time


def local_time(day: date, at: time, tz: tzinfo, reading: Reading | None = None) -> datetime:
    """The aware datetime of wall-clock `at` on `day` in `tz`.

    Raises AmbiguousTime unless `reading` says which one is meant, and NonexistentTime
    for a time in a gap (whatever `reading` says).
    """
    at = at.replace(fold=0)  # the reading is chosen below, not by a fold carried in `at`
    first = datetime.combine(day, at, tzinfo=tz)
    second = first.replace(fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    if _round_trips(first) and _round_trips(second):
        if reading is not None:
            return first if reading is Reading.earlier else second
        end = _repeat_end(first)
        start = (datetime.combine(day, end) - _jump(first, second)).time()
        raise AmbiguousTime(day, at, first, second, start, end)
    # A gap: neither reading survives a round trip through UTC.
    jump = _jump(first, second)
    start = _gap_start(day, at, tz, jump)
    end = (datetime.combine(day, start) + jump).time()
    raise NonexistentTime(day, at, start, end)


def is_ambiguous(value: datetime) -> bool:
    """True if the wall-clock time of the aware `value` happens twice in its zone."""
    other = value.replace(fold=1 - value.fold)
    return other.utcoffset() != value.utcoffset() and _round_trips(value) and _round_trips(other)


def _jump(first: datetime, second: datetime) -> timedelta:
    before, after = first.utcoffset(), second.utcoffset()
    assert before is not None and after is not None
    return abs(before - after)


def _repeat_end(first: datetime) -> time:
    """The wall-clock minute at which the times that come twice are over."""
    probe = first.replace(second=0, microsecond=0)
    while is_ambiguous(probe):
        probe = (probe.replace(tzinfo=None) + timedelta(minutes=1)).replace(tzinfo=first.tzinfo)
    return probe.time()


def _round_trips(value: datetime) -> bool:
    back = value.astimezone(UTC).astimezone(value.tzinfo)
    return back.replace(tzinfo=None) == value.replace(tzinfo=None)


def _gap_start(day: date, at: time, tz: tzinfo, jump: timedelta) -> time:
    """The last wall-clock time before the gap that contains `at`, at minute precision."""
    probe = datetime.combine(day, at)
    for _ in range(int(jump.total_seconds() // 60) + 1):
        probe -= timedelta(minutes=1)
        if _round_trips(probe.replace(tzinfo=tz)):
            return (probe + timedelta(minutes=1)).time()
    return at
