"""The shifts of an on-call rotation (rule R1): rule versions, and which shift holds an instant.

Pure: plain values in, plain values out; every instant is an aware datetime passed in.

A rotation is a sequence of rule versions (issue 15), each in force from its `effective_from`
until the next one begins; a version without members ends the rotation. Within a version,
shift k starts on `anchor + k * shift_days` at the wall-clock `handover` (DST-safe: 167 or 169
hours across a change) and carries the running number `first_number + k`, so numbers stay
unique over the rotation's whole life and the shifts an edit leaves alone keep theirs. A
version's last shift may be cut short where the next version begins.

Everything is computed from the version in force at the instant asked about, never by walking
from the rotation's start: the cost does not grow with the rotation's age. Who holds the
shifts, after swaps and overrides, is `scheduler/rota_duties.py`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo


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
class Shift:
    """One shift; `start` and `end` in UTC (convert to the zone to show them)."""

    number: int
    start: datetime
    end: datetime
    version: int = field(default=0, compare=False)  # index into RotaSpec.rules


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


def make_shift(
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
    return make_shift(spec, index, k, begin, end)


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
        shift = make_shift(spec, index, number - rule.first_number)
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
            shift = make_shift(spec, index, k, start=shift.end)


def base_holder(spec: RotaSpec, shift: Shift) -> int:
    """The member the rule itself puts on `shift` (before swaps and overrides)."""
    rule = spec.rules[shift.version]
    k = shift.number - rule.first_number
    return rule.members[(rule.offset + k) % len(rule.members)]
