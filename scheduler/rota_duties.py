"""Who holds an on-call rotation at an instant (rule R1): swaps, overrides, duties, gaps ahead.

Pure, like `scheduler/rota.py` whose shifts it fills: a confirmed swap exchanges the holders of
two shifts (or hands one shift to another member), and an override (illness, leave) puts a
substitute in for the absent person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from scheduler.rota import (
    RotaSpec,
    Shift,
    base_holder,
    make_shift,
    shift_by_number,
    shift_of,
    shifts_between,
)

_MAX_CHAIN = 8  # a substitute who is absent too: follow at most this many overrides


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

    def __post_init__(self) -> None:
        if self.start.tzinfo is not UTC or self.end.tzinfo is not UTC:
            object.__setattr__(self, "start", self.start.astimezone(UTC))
            object.__setattr__(self, "end", self.end.astimezone(UTC))


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


def scheduled_holder(spec: RotaSpec, number: int, swaps: Iterable[Swap] = ()) -> int | None:
    """The member due for shift `number` after confirmed swaps (the later swap wins)."""
    shift = shift_by_number(spec, number)
    return None if shift is None else _after_swaps(base_holder(spec, shift), number, swaps)


def _after_swaps(holder: int, number: int, swaps: Iterable[Swap]) -> int:
    for swap in sorted(swaps, key=lambda s: s.id):
        if swap.shift_a == number and holder == swap.holder_a:
            holder = swap.holder_b
        elif swap.shift_b == number and holder == swap.holder_b:
            holder = swap.holder_a
    return holder


def swaps_by_shift(swaps: Iterable[Swap]) -> dict[int, list[Swap]]:
    """Swaps indexed by the shift numbers they name (ordered by id)."""
    out: dict[int, list[Swap]] = {}
    for swap in sorted(swaps, key=lambda s: s.id):
        out.setdefault(swap.shift_a, []).append(swap)
        if swap.shift_b is not None:
            out.setdefault(swap.shift_b, []).append(swap)
    return out


def duties(
    spec: RotaSpec,
    start: datetime,
    end: datetime,
    *,
    swaps: Sequence[Swap] = (),
    overrides: Sequence[Override] = (),
) -> list[Duty]:
    """Who is on call over [start, end): shifts split where an override begins or ends."""
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    pad = spec.longest_shift  # a shift overlapping the window may reach this far beyond it
    relevant = _newest_first(o for o in overrides if o.start < hi + pad and o.end > lo - pad)
    by_shift = swaps_by_shift(swaps) if swaps else {}
    out: list[Duty] = []
    for shift in shifts_between(spec, lo, hi):
        holder = base_holder(spec, shift)
        scheduled = (
            _after_swaps(holder, shift.number, by_shift[shift.number])
            if shift.number in by_shift
            else holder
        )
        out += _pieces(shift, scheduled, relevant)
    return [d for d in out if d.end > lo and d.start < hi]


def duty_at(
    spec: RotaSpec,
    at: datetime,
    *,
    swaps: Sequence[Swap] = (),
    overrides: Sequence[Override] = (),
) -> Duty | None:
    """The duty covering the instant `at`; None before the first handover or after the end."""
    instant = at.astimezone(UTC)
    shift = shift_of(spec, instant)
    if shift is None:
        return None
    pieces = _pieces(shift, _scheduled(spec, shift, swaps), _newest_first(overrides))
    return next(p for p in pieces if p.start <= instant < p.end)


def _newest_first(overrides: Iterable[Override]) -> list[Override]:
    return sorted(overrides, key=lambda o: -o.id)  # the newest entry wins


def _pieces(shift: Shift, scheduled: int, overrides: Sequence[Override]) -> list[Duty]:
    """The duties of one shift: split where an override of its holder (or of a substitute,
    along the chain) begins or ends; `overrides` newest first."""
    s0, s1 = shift.start, shift.end
    touching = [o for o in overrides if o.start < s1 and o.end > s0]
    chain = {scheduled}
    for _ in range(len(touching)):
        grown = chain | {o.substitute for o in touching if o.absent in chain}
        if grown == chain:
            break
        chain = grown
    touching = [o for o in touching if o.absent in chain]
    if not touching:  # the usual case: the whole shift is one duty
        return [Duty(shift, s0, s1, scheduled, scheduled, None)]
    cuts = {s0, s1}
    for o in touching:
        if s0 < o.start < s1:
            cuts.add(o.start)
        if s0 < o.end < s1:
            cuts.add(o.end)
    out: list[Duty] = []
    for piece_start, piece_end in pairwise(sorted(cuts)):
        holder, override = _after_overrides(scheduled, piece_start, touching)
        last = out[-1] if out else None
        if last is not None and last.staff_id == holder and last.override is override:
            out[-1] = Duty(shift, last.start, piece_end, holder, scheduled, override)
        else:
            out.append(Duty(shift, piece_start, piece_end, holder, scheduled, override))
    return out


def duty_and_next(
    spec: RotaSpec,
    at: datetime,
    *,
    swaps: Sequence[Swap] = (),
    overrides: Sequence[Override] = (),
) -> tuple[Duty | None, Duty | None]:
    """The duty covering `at` and the one after it (`duty_at` and `next_duty` in one go: the
    shift is located once, the following one taken from the grid)."""
    instant = at.astimezone(UTC)
    shift = shift_of(spec, instant)
    if shift is None:
        return None, None
    ordered = _newest_first(overrides)
    pieces = _pieces(shift, _scheduled(spec, shift, swaps), ordered)
    current = next(p for p in pieces if p.start <= instant < p.end)
    later = [p for p in pieces if p.start >= current.end]
    if later:
        return current, later[0]
    rule = spec.rules[shift.version]
    stop = spec.end_of(shift.version)
    if stop is not None and shift.end >= stop:
        following = shift_of(spec, shift.end)  # the next version's first shift, if any
    else:
        k = shift.number - rule.first_number + 1
        following = make_shift(spec, shift.version, k, start=shift.end)
    if following is None:
        return current, None
    return current, _pieces(following, _scheduled(spec, following, swaps), ordered)[0]


def _scheduled(spec: RotaSpec, shift: Shift, swaps: Sequence[Swap]) -> int:
    holder = base_holder(spec, shift)
    on_shift = [w for w in swaps if shift.number in (w.shift_a, w.shift_b)]
    return _after_swaps(holder, shift.number, on_shift) if on_shift else holder


def next_duty(
    spec: RotaSpec,
    after: Duty,
    *,
    swaps: Sequence[Swap] = (),
    overrides: Sequence[Override] = (),
) -> Duty | None:
    """The duty that follows `after` (the next person to take over)."""
    return duty_at(spec, after.end, swaps=swaps, overrides=overrides)


def backup_of(spec: RotaSpec, duty: Duty) -> tuple[int | None, bool]:
    """The second line rule of the version `duty` belongs to: (fixed person, next in line)."""
    rule = spec.rules[duty.shift.version]
    return rule.backup_staff_id, rule.backup_next


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
    found = duties(spec, start, end, swaps=swaps, overrides=overrides)
    return gaps_among(spec, found, absences=absences, active=active)


def gaps_among(
    spec: RotaSpec,
    found: Iterable[Duty],
    *,
    absences: Mapping[int, Sequence[tuple[date, date]]],
    active: set[int],
) -> list[Gap]:
    """Of these duties, those whose holder is absent on one of its days or no longer active."""
    out: list[Gap] = []
    for duty in found:
        if duty.staff_id not in active:
            out.append(Gap(duty.shift, duty.staff_id, "missing", _local_day(spec, duty.start)))
            continue
        away = absences.get(duty.staff_id)
        if not away:
            continue
        days = _days_of(spec, duty.start, duty.end)
        for first, last in away:
            hit = [d for d in days if first <= d <= last]
            if hit:
                out.append(Gap(duty.shift, duty.staff_id, "absent", hit[0]))
                break
    return out


def _after_overrides(
    holder: int, at: datetime, overrides: Sequence[Override]
) -> tuple[int, Override | None]:
    """`overrides` newest first; `at` in UTC."""
    applied: Override | None = None
    for _ in range(_MAX_CHAIN):
        match = next((o for o in overrides if o.absent == holder and o.start <= at < o.end), None)
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
