"""On-call rotation maths (rule R1): who holds the emergency contact at a given instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Shift:
    """One shift of a rotation; `index` is the position in the member list."""

    index: int
    start: datetime
    end: datetime


def local_today(now: datetime, tz: ZoneInfo) -> date:
    """The calendar date in `tz` at the aware instant `now`."""
    _require_aware(now)
    return now.astimezone(tz).date()


def shift_at(
    now: datetime,
    *,
    anchor: date,
    handover: time,
    shift_days: int,
    members: int,
    tz: ZoneInfo,
) -> Shift:
    """The shift covering the aware instant `now`.

    The first shift starts on `anchor` at wall-clock `handover` in `tz`; every shift lasts
    `shift_days` calendar days of wall-clock time, so handovers keep their local time across
    daylight-saving changes (shifts then last 167 or 169 hours).
    """
    _require_aware(now)
    if members < 1:
        raise ValueError(f"members must be at least 1, got {members!r}")
    if shift_days < 1:
        raise ValueError(f"shift_days must be at least 1, got {shift_days!r}")
    if handover.tzinfo is not None:
        raise ValueError(f"handover must be a wall-clock time without tzinfo, got {handover!r}")

    def start_of(number: int) -> datetime:
        return _wall_clock(anchor + timedelta(days=number * shift_days), handover, tz)

    # Compare instants in UTC: aware datetimes sharing a tzinfo compare by wall time, which
    # is wrong in the repeated hour of October.
    instant = now.astimezone(UTC)
    number = (now.astimezone(tz).date() - anchor).days // shift_days
    while instant < start_of(number):
        number -= 1
    while instant >= start_of(number + 1):
        number += 1
    return Shift(index=number % members, start=start_of(number), end=start_of(number + 1))


def _wall_clock(day: date, at: time, tz: ZoneInfo) -> datetime:
    # The UTC round trip normalises a handover inside the spring-forward gap (02:30 does not
    # exist) to the real instant (03:30); in the autumn overlap fold=0 picks the first 02:30.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).astimezone(tz)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now!r}")
