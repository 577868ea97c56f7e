"""Who holds an on-call rotation at an instant, with swaps and overrides (rule R1); gaps ahead.

Pure: plain values in, plain values out; every instant is an aware datetime passed in.

A rotation is a sequence of rule versions (issue 15), each in force from its `effective_from`
until the next one begins; a version without members ends the rotation. Within a version,
shift k starts on `anchor + k * shift_days` at the wall-clock `handover` (DST-safe: 167 or 169
hours across a change) and carries the running number `first_number + k`, so numbers stay
unique over the rotation's whole life and the shifts an edit leaves alone keep theirs. A
version's last shift may be cut short where the next version begins.

Everything is computed from the version in force at the instant asked about, never by walking
from the rotation's start: the cost does not grow with the rotation's age. On top of the base
schedule a confirmed swap exchanges the holders of two shifts (or hands one shift to another
member), and an override (illness, leave) puts a substitute in for the absent person.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import pairwise
from zoneinfo import ZoneInfo

_MAX_CHAIN = 8  # a substitute who is absent too: follow at most this many overrides


@dataclass(frozen=True)
class Rule:
    """One version of a rotation's rule; `members` empty means the rotation has ended."""

    effective_from: datetime  # aware: the first handover under this version
    anchor: date  # shift k starts on anchor + k * shift_days at `handover`
    handover: time
    shift_days: int
    members: tuple[int, ...]
    offset: int = 0  # index into `members` of the version's first shift
    first_number: int = 0
    backup_staff_id: int | None = None  # a fixed second line
    backup_next: bool = False  # or: whoever holds the following shift
    rule_id: int | None = None  # the stored row, if any
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        # Instants are kept in UTC: compared without conversions, right in October's repeated
        # hour (aware datetimes sharing a ZoneInfo compare by wall time).
        if self.effective_from.tzinfo is not UTC:
            object.__setattr__(self, "effective_from", self.effective_from.astimezone(UTC))

    @property
    def ended(self) -> bool:
        return not self.members


@dataclass(frozen=True)
class RotaSpec:
    """A rotation's rule versions, ordered by `effective_from`, in the organisation's zone."""

    rules: tuple[Rule, ...]
    tz: ZoneInfo

    @classmethod
    def single(
        cls,
        anchor: date,
        handover: time,
        shift_days: int,
        members: tuple[int, ...],
        tz: ZoneInfo,
        **extra: int | bool | None,
    ) -> RotaSpec:
        """A rotation that never changed: one version from its first handover."""
        start = wall_clock(anchor, handover, tz)
        rule = Rule(start, anchor, handover, shift_days, members, **extra)  # type: ignore[arg-type]
        return cls((rule,), tz)

    @cached_property
    def _starts(self) -> list[datetime]:
        return [r.effective_from for r in self.rules]

    @property
    def first_start(self) -> datetime | None:
        return self.rules[0].effective_from if self.rules else None

    def index_at(self, at: datetime) -> int | None:
        """Which version is in force at the instant `at`; None before the first."""
        i = bisect_right(self._starts, at.astimezone(UTC)) - 1
        return None if i < 0 else i

    def rule_at(self, at: datetime) -> Rule | None:
        i = self.index_at(at)
        return None if i is None else self.rules[i]

    def end_of(self, index: int) -> datetime | None:
        """Where version `index` stops: the next version's start (None: open-ended)."""
        return self.rules[index + 1].effective_from if index + 1 < len(self.rules) else None

    def ends_at(self) -> datetime | None:
        """When the rotation ends for good (its last version has no members)."""
        return self.rules[-1].effective_from if self.rules and self.rules[-1].ended else None

    def current_or_next_rule(self, at: datetime) -> Rule | None:
        """The version in force at `at`, or the first one to come."""
        i = self.index_at(at)
        return self.rules[0] if i is None and self.rules else None if i is None else self.rules[i]

    @cached_property
    def longest_shift(self) -> timedelta:
        return timedelta(days=max((r.shift_days for r in self.rules), default=1) + 1)


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
class Shift:
    """One shift; `start` and `end` in UTC (convert to the zone to show them)."""

    number: int
    start: datetime
    end: datetime
    version: int = field(default=0, compare=False)  # index into RotaSpec.rules


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


def wall_clock(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at wall-clock `at` in `tz` as a real instant.

    The UTC round trip normalises a handover inside the spring-forward gap (02:30 does not
    exist) to the real instant (03:30); in the autumn overlap fold=0 picks the first 02:30.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).astimezone(tz)


def _grid(spec: RotaSpec, rule: Rule, k: int) -> datetime:
    """Handover k of `rule`, in UTC."""
    day = rule.anchor + timedelta(days=k * rule.shift_days)
    return datetime.combine(day, rule.handover, tzinfo=spec.tz).astimezone(UTC)


def _make_shift(
    spec: RotaSpec,
    index: int,
    k: int,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Shift:
    """Shift k of version `index` (`start`/`end`: its grid handovers, if known already)."""
    rule = spec.rules[index]
    # Shift 0 begins when the version does: at its first handover, or earlier where an edit
    # stretched the shift it began with (scheduler.rota_edit).
    if k == 0:
        start = rule.effective_from
    elif start is None:
        start = _grid(spec, rule, k)
    if end is None:
        end = _grid(spec, rule, k + 1)
    stop = spec.end_of(index)
    if stop is not None and stop < end:
        end = stop
    return Shift(rule.first_number + k, start, end, index)


def _locate(spec: RotaSpec, instant: datetime) -> Shift | None:
    """The shift covering the UTC `instant`: from the date, one or two handovers computed."""
    index = spec.index_at(instant)
    if index is None or spec.rules[index].ended:
        return None
    rule = spec.rules[index]
    k = max(0, (instant.astimezone(spec.tz).date() - rule.anchor).days // rule.shift_days)
    begin = _grid(spec, rule, k)
    while k > 0 and instant < begin:
        k -= 1
        begin = _grid(spec, rule, k)
    end = _grid(spec, rule, k + 1)
    while instant >= end:
        k, begin = k + 1, end
        end = _grid(spec, rule, k + 1)
    return _make_shift(spec, index, k, begin, end)


def shift_of(spec: RotaSpec, at: datetime) -> Shift | None:
    """The shift covering the aware instant `at`; None before the start or after the end."""
    return _locate(spec, at.astimezone(UTC))


def shift_by_number(spec: RotaSpec, number: int) -> Shift | None:
    """The shift with this running number, if the rotation (still) has it."""
    for index in range(len(spec.rules) - 1, -1, -1):
        rule = spec.rules[index]
        if rule.first_number > number:
            continue
        if rule.ended:
            return None
        shift = _make_shift(spec, index, number - rule.first_number)
        stop = spec.end_of(index)
        if stop is not None and shift.start >= stop:
            return None
        return shift
    return None


def shifts_between(spec: RotaSpec, start: datetime, end: datetime) -> Iterator[Shift]:
    """Every shift overlapping [start, end), none before the first handover or after the end."""
    if not spec.rules:
        return
    instant = max(start.astimezone(UTC), spec.rules[0].effective_from)
    stop = end.astimezone(UTC)
    while instant < stop:
        shift = _locate(spec, instant)
        if shift is None:  # an ended stretch: jump to the next version, if any
            index = spec.index_at(instant)
            following = None if index is None else spec.end_of(index)
            if following is None:
                return
            instant = following
            continue
        index, k = shift.version, shift.number - spec.rules[shift.version].first_number
        version_end = spec.end_of(index)
        # Walk the version's grid: each shift starts where the one before ended.
        while True:
            yield shift
            instant = shift.end
            if instant >= stop or (version_end is not None and instant >= version_end):
                break
            k += 1
            shift = _make_shift(spec, index, k, start=shift.end)


def base_holder(spec: RotaSpec, shift: Shift) -> int:
    """The member the rule itself puts on `shift` (before swaps and overrides)."""
    rule = spec.rules[shift.version]
    k = shift.number - rule.first_number
    return rule.members[(rule.offset + k) % len(rule.members)]


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
        following = _make_shift(spec, shift.version, k, start=shift.end)
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
