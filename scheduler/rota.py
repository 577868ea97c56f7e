"""Who holds an on-call rotation at an instant, with swaps and overrides (rule R1); gaps ahead.

Pure: plain values in, plain values out; every instant is an aware datetime passed in. The
base schedule is `scheduler.oncall.shift_at` (wall-clock handovers, DST-safe); on top of it
a confirmed swap exchanges the holders of two shifts (or hands one shift to another member),
and an override (illness, leave) puts a substitute in for the absent person over a range.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from scheduler.oncall import shift_at

_MAX_CHAIN = 8  # a substitute who is absent too: follow at most this many overrides


@dataclass(frozen=True)
class RotaSpec:
    """A rotation's schedule: members (staff ids) in order, shift length, first handover."""

    anchor: date
    handover: time
    shift_days: int
    members: tuple[int, ...]
    tz: ZoneInfo

    @property
    def first_start(self) -> datetime:
        return datetime.combine(self.anchor, self.handover, tzinfo=self.tz)


@dataclass(frozen=True)
class Swap:
    """A confirmed swap: `holder_b` takes shift `shift_a`; `holder_a` takes `shift_b` if set."""

    id: int
    shift_a: int
    holder_a: int
    holder_b: int
    shift_b: int | None = None


@dataclass(frozen=True)
class Override:
    """`substitute` holds the on-call duty instead of `absent` during [start, end)."""

    id: int
    absent: int
    substitute: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Shift:
    number: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Duty:
    """One stretch of time with one holder: a whole shift, or the part an override covers."""

    shift: Shift
    start: datetime
    end: datetime
    staff_id: int
    scheduled: int  # the holder after swaps, before overrides
    override: Override | None


@dataclass(frozen=True)
class Gap:
    """A coming stretch nobody reliable covers: the holder is absent or no longer active."""

    shift: Shift
    staff_id: int | None
    reason: str  # "absent" or "missing"
    first_day: date


def shift_of(spec: RotaSpec, at: datetime) -> Shift:
    """The shift (with its running number from the anchor) covering the aware instant `at`."""
    s = shift_at(
        at,
        anchor=spec.anchor,
        handover=spec.handover,
        shift_days=spec.shift_days,
        members=1,
        tz=spec.tz,
    )
    return Shift(_number(spec, s.start), s.start, s.end)


def shift_by_number(spec: RotaSpec, number: int) -> Shift:
    start = _wall(spec, spec.anchor + timedelta(days=number * spec.shift_days))
    end = _wall(spec, spec.anchor + timedelta(days=(number + 1) * spec.shift_days))
    return Shift(number, start, end)


def shifts_between(spec: RotaSpec, start: datetime, end: datetime) -> Iterator[Shift]:
    """Every shift overlapping [start, end), none before the first handover."""
    first = spec.first_start
    instant = max(start, first)
    while instant < end:
        shift = shift_of(spec, instant)
        yield shift
        instant = shift.end


def scheduled_holder(spec: RotaSpec, number: int, swaps: Iterable[Swap] = ()) -> int:
    """The member due for shift `number` after confirmed swaps (the later swap wins)."""
    holder = spec.members[number % len(spec.members)]
    for swap in sorted(swaps, key=lambda s: s.id):
        if swap.shift_a == number and holder == swap.holder_a:
            holder = swap.holder_b
        elif swap.shift_b == number and holder == swap.holder_b:
            holder = swap.holder_a
    return holder


def duties(
    spec: RotaSpec,
    start: datetime,
    end: datetime,
    *,
    swaps: Sequence[Swap] = (),
    overrides: Sequence[Override] = (),
) -> list[Duty]:
    """Who is on call over [start, end): shifts split where an override begins or ends."""
    if not spec.members:
        return []
    out: list[Duty] = []
    for shift in shifts_between(spec, start, end):
        scheduled = scheduled_holder(spec, shift.number, swaps)
        cuts = {shift.start, shift.end}
        for o in overrides:
            for edge in (o.start, o.end):
                if shift.start < edge < shift.end:
                    cuts.add(edge)
        edges = sorted(cuts, key=_utc)
        for piece_start, piece_end in pairwise(edges):
            holder, override = _after_overrides(scheduled, piece_start, overrides)
            last = out[-1] if out else None
            if (
                last is not None
                and last.shift == shift
                and last.staff_id == holder
                and last.override == override
            ):
                out[-1] = Duty(shift, last.start, piece_end, holder, scheduled, override)
            else:
                out.append(Duty(shift, piece_start, piece_end, holder, scheduled, override))
    return [d for d in out if _utc(d.end) > _utc(start) and _utc(d.start) < _utc(end)]


def duty_at(
    spec: RotaSpec,
    at: datetime,
    *,
    swaps: Sequence[Swap] = (),
    overrides: Sequence[Override] = (),
) -> Duty | None:
    """The duty covering the instant `at`; None before the first handover or without members."""
    if not spec.members or _utc(at) < _utc(spec.first_start):
        return None
    found = duties(spec, at, at + timedelta(microseconds=1), swaps=swaps, overrides=overrides)
    return found[0] if found else None


def next_duty(
    spec: RotaSpec,
    after: Duty,
    *,
    swaps: Sequence[Swap] = (),
    overrides: Sequence[Override] = (),
) -> Duty | None:
    """The duty that follows `after` (the next person to take over)."""
    return duty_at(spec, after.end, swaps=swaps, overrides=overrides)


def gaps(
    spec: RotaSpec,
    start: datetime,
    end: datetime,
    *,
    swaps: Sequence[Swap] = (),
    overrides: Sequence[Override] = (),
    absences: Mapping[int, Sequence[tuple[date, date]]],
    active: set[int],
) -> list[Gap]:
    """Duties in [start, end) whose holder is absent on one of its days, or no longer active."""
    found: list[Gap] = []
    for duty in duties(spec, start, end, swaps=swaps, overrides=overrides):
        if duty.staff_id not in active:
            found.append(Gap(duty.shift, duty.staff_id, "missing", _local_day(spec, duty.start)))
            continue
        days = _days_of(spec, duty.start, duty.end)
        for first, last in absences.get(duty.staff_id, ()):
            hit = [d for d in days if first <= d <= last]
            if hit:
                found.append(Gap(duty.shift, duty.staff_id, "absent", hit[0]))
                break
    return found


def _after_overrides(
    holder: int, at: datetime, overrides: Sequence[Override]
) -> tuple[int, Override | None]:
    applied: Override | None = None
    for _ in range(_MAX_CHAIN):
        match = next(
            (
                o
                for o in sorted(overrides, key=lambda o: -o.id)  # the newest entry wins
                if o.absent == holder and _utc(o.start) <= _utc(at) < _utc(o.end)
            ),
            None,
        )
        if match is None or match.substitute == holder:
            break
        holder, applied = match.substitute, match
    return holder, applied


def _days_of(spec: RotaSpec, start: datetime, end: datetime) -> list[date]:
    first = _local_day(spec, start)
    last = _local_day(spec, end - timedelta(microseconds=1))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _local_day(spec: RotaSpec, at: datetime) -> date:
    return at.astimezone(spec.tz).date()


def _number(spec: RotaSpec, start: datetime) -> int:
    return (start.astimezone(spec.tz).date() - spec.anchor).days // spec.shift_days


def _wall(spec: RotaSpec, day: date) -> datetime:
    # As scheduler.oncall: a handover inside the spring-forward gap becomes the real instant.
    return datetime.combine(day, spec.handover, tzinfo=spec.tz).astimezone(UTC).astimezone(spec.tz)


def _utc(at: datetime) -> datetime:
    # Aware datetimes sharing a ZoneInfo compare by wall time, wrong in October's repeated hour.
    return at.astimezone(UTC)
