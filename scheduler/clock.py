"""The source of the current time: a real clock for production, a fixed one for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current aware time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock in a given time zone; the only place that reads real time."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        """The current aware time in this clock's zone."""
        return datetime.now(self.tz)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime) -> None:
        self._now = _aware(now)

    def now(self) -> datetime:
        """The time this clock was set or advanced to."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` of elapsed time and return the new time."""
        # Adding a timedelta to a ZoneInfo datetime is wall-clock arithmetic (00:30 + 3 h is
        # 03:30 even on the night clocks spring forward); a clock must move in real time.
        self._now = (self._now.astimezone(UTC) + delta).astimezone(self._now.tzinfo)
        return self._now

    def set(self, now: datetime) -> None:
        """Jump to `now`."""
        self._now = _aware(now)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"FixedClock needs an aware datetime, got naive {now!r}")
    return now
