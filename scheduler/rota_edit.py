"""Changing and ending a rotation (issue 15): where a new rule version begins, what it voids.

Pure, like `scheduler.rota`. An edit never rewrites a shift that has already begun: the shift
running now always ends as planned, and the new version begins at the first handover of the
new rule on or after the date asked for (and not before that running shift ends). The old
shift in progress at that handover ends there; had it lasted less than `MIN_REMNANT` by then,
it runs to the following new-rule handover instead, so a moved handover time (09:00 -> 10:00)
stretches one shift by an hour rather than leaving a one-hour shift.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from scheduler.rota import RotaSpec, Rule, Shift, base_holder, shift_by_number, shift_of, wall_clock
from scheduler.rota_duties import Duty, Override, Swap, duties

MIN_REMNANT = timedelta(hours=12)
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class RuleChange:
    """What a coordinator changes; None keeps the value of the rule in force."""

    members: tuple[int, ...] | None = None
    shift_days: int | None = None
    handover: time | None = None
    weekday: int | None = None  # handover weekday (shift lengths of whole weeks only)
    backup: tuple[int | None, bool] | None = None  # (fixed person, next in line)
    first: int | None = None  # who takes the first shift under the new rule


@dataclass(frozen=True)
class Plan:
    """The rotation after an edit or its end."""

    spec: RotaSpec
    rule: Rule  # the new version (no members: the rotation ends at its effective_from)
    superseded: tuple[Rule, ...]  # planned versions the new one replaces (none had begun)
    kept: Shift | None  # the shift already running that stays whole, if the change waits for it

    @property
    def effective(self) -> datetime:
        return self.rule.effective_from


def plan_edit(spec: RotaSpec, change: RuleChange, from_day: date, now: datetime) -> Plan:
    """The new version for `change`, in force from the first new-rule handover on or after
    `from_day` (never inside a shift that has begun)."""
    tz = spec.tz
    bound = max(_utc(wall_clock(from_day, time(0), tz)), _utc(now))
    template = _template(spec, bound)
    members = change.members if change.members is not None else template.members
    shift_days = change.shift_days or template.shift_days
    handover = change.handover or template.handover
    weekday = change.weekday
    if weekday is None and shift_days % 7 == 0 and template.shift_days % 7 == 0:
        weekday = template.anchor.weekday()
    if shift_days % 7 != 0:
        weekday = None
    backup = (
        change.backup
        if change.backup is not None
        else (
            template.backup_staff_id,
            template.backup_next,
        )
    )
    draft = Rule(
        effective_from=bound,
        anchor=bound.astimezone(tz).date(),
        handover=handover,
        shift_days=shift_days,
        members=members,
        backup_staff_id=backup[0],
        backup_next=backup[1],
    )
    kept: Shift | None = None
    grid = _first_handover(spec, draft, weekday, bound)
    cut = shift_of(spec, grid)
    if cut is not None and _utc(cut.start) < _utc(grid) and _utc(cut.start) <= _utc(now):
        kept = cut  # running now: it stays whole, the change waits for its end
        grid = _first_handover(spec, draft, weekday, _utc(cut.end))
        cut = shift_of(spec, grid)
    start, number, holder_from = grid, 0, None
    if cut is not None and _utc(cut.start) == _utc(grid):
        number = cut.number  # a handover of both rules: that old shift is replaced
    elif cut is not None and _utc(grid) - _utc(cut.start) < MIN_REMNANT:
        # A short remnant: the new version begins with that shift, for the same person,
        # running to the next new-rule handover.
        start, number, holder_from = cut.start, cut.number, base_holder(spec, cut)
    elif cut is not None:
        number = cut.number + 1  # the old shift ends at the new rule's first handover
    else:
        number = _next_number(spec, grid)
    # Shift 0 runs from `start` (before `grid` when stretched) to the next grid handover.
    rule = replace(
        draft,
        effective_from=start.astimezone(tz),
        anchor=grid.astimezone(tz).date(),
        first_number=number,
        offset=_offset(spec, members, start, change.first, holder_from),
    )
    return _with(spec, rule, kept)


def plan_end(spec: RotaSpec, from_day: date, now: datetime) -> Plan:
    """The rotation ending on `from_day` at the handover time, or when the running shift ends."""
    tz = spec.tz
    bound = max(_utc(wall_clock(from_day, time(0), tz)), _utc(now))
    rule = spec.current_or_next_rule(bound)
    if rule is None or rule.ended:
        raise ValueError("the rotation has already ended")
    cut_at = max(_utc(wall_clock(from_day, rule.handover, tz)), _utc(now))
    kept: Shift | None = None
    cut = shift_of(spec, cut_at)
    if cut is not None and _utc(cut.start) < cut_at and _utc(cut.start) <= _utc(now):
        kept, cut_at = cut, _utc(cut.end)
        cut = shift_of(spec, cut_at)
    if cut is not None and _utc(cut.start) == cut_at:
        number = cut.number
    elif cut is not None:
        number = cut.number + 1
    else:
        number = _next_number(spec, cut_at)
    end = replace(
        rule,
        effective_from=cut_at.astimezone(tz),
        anchor=cut_at.astimezone(tz).date(),
        members=(),
        offset=0,
        first_number=number,
        rule_id=None,
        created_at=None,
    )
    return _with(spec, end, kept)


def void_swaps(old: RotaSpec, new: RotaSpec, swaps: Iterable[Swap], now: datetime) -> list[int]:
    """Swaps (pending or confirmed) naming a shift whose times or rule holder the edit changed."""
    void: list[int] = []
    for swap in swaps:
        for number in (swap.shift_a, swap.shift_b):
            if number is None:
                continue
            before, after = shift_by_number(old, number), shift_by_number(new, number)
            if before is None or _utc(before.end) <= _utc(now):
                continue
            if not _same(old, before, new, after):
                void.append(swap.id)
                break
    return void


def void_overrides(
    old: RotaSpec,
    new: RotaSpec,
    *,
    swaps_before: Sequence[Swap],
    swaps_after: Sequence[Swap],
    overrides: Sequence[Override],
    now: datetime,
) -> list[int]:
    """Overrides that changed a duty of this rotation before the edit and none after it."""
    void: list[int] = []
    for o in overrides:
        if _utc(o.end) <= _utc(now):
            continue
        start = max(o.start, now, key=_utc)
        was = _applies(old, start, o, swaps_before, overrides)
        if was and not _applies(new, start, o, swaps_after, overrides):
            void.append(o.id)
    return void


def next_duties(
    spec: RotaSpec,
    people: Iterable[int],
    now: datetime,
    *,
    swaps: Sequence[Swap],
    overrides: Sequence[Override],
) -> dict[int, Duty | None]:
    """Each person's duty running now or coming next (None: none within the horizon)."""
    wanted = set(people)
    found: dict[int, Duty | None] = dict.fromkeys(wanted)
    for duty in duties(spec, now, now + horizon(spec, now), swaps=swaps, overrides=overrides):
        if duty.staff_id in wanted and found[duty.staff_id] is None:
            found[duty.staff_id] = duty
    return found


def horizon(spec: RotaSpec, now: datetime) -> timedelta:
    """How far to look for someone's next duty: two full rounds of the longest rule to come."""
    index = spec.index_at(now) or 0
    days = max((len(r.members) * r.shift_days for r in spec.rules[index:]), default=1)
    return timedelta(days=min(366, max(28, 2 * days + 1)))


def _applies(
    spec: RotaSpec, start: datetime, o: Override, swaps: Sequence[Swap], every: Sequence[Override]
) -> bool:
    if _utc(start) >= _utc(o.end):
        return False
    found = duties(spec, start, o.end, swaps=swaps, overrides=every)
    return any(d.override is not None and d.override.id == o.id for d in found)


def _same(old: RotaSpec, a: Shift, new: RotaSpec, b: Shift | None) -> bool:
    return (
        b is not None
        and _utc(a.start) == _utc(b.start)
        and _utc(a.end) == _utc(b.end)
        and base_holder(old, a) == base_holder(new, b)
    )


def _template(spec: RotaSpec, at: datetime) -> Rule:
    """The version whose values an edit keeps: in force at `at` (or the first), else the last
    one with members (an ended rotation that is started again)."""
    rule = spec.current_or_next_rule(at)
    if rule is not None and not rule.ended:
        return rule
    for earlier in reversed(spec.rules):
        if not earlier.ended and (rule is None or earlier.effective_from <= rule.effective_from):
            return earlier
    raise ValueError("a rotation without any members")


def _first_handover(spec: RotaSpec, rule: Rule, weekday: int | None, bound: datetime) -> datetime:
    day = bound.astimezone(spec.tz).date()
    step = 7 if weekday is not None else 1
    if weekday is not None:
        day += timedelta(days=(weekday - day.weekday()) % 7)
    candidate = wall_clock(day, rule.handover, spec.tz)
    while _utc(candidate) < _utc(bound):
        day += timedelta(days=step)
        candidate = wall_clock(day, rule.handover, spec.tz)
    return candidate


def _next_number(spec: RotaSpec, at: datetime) -> int:
    """The running number for a first shift at `at` where no old shift covers it."""
    index = spec.index_at(at)
    if index is None:
        return 0
    return spec.rules[index].first_number


def _offset(
    spec: RotaSpec,
    members: tuple[int, ...],
    start: datetime,
    first: int | None,
    holder_from: int | None,
) -> int:
    """Where in `members` the new version begins: the person asked for, the holder of a
    stretched shift, or whoever follows the holder of the shift before in the old order."""
    if not members:
        return 0
    if first is not None and first in members:
        return members.index(first)
    if holder_from is not None and holder_from in members:
        return members.index(holder_from)
    before = shift_of(spec, _utc(start) - _EPSILON)
    index = spec.index_at(_utc(start) - _EPSILON)
    if before is None and index is not None and spec.rules[index].ended:
        # Started again after an end: go on from the last shift before the end.
        before = shift_of(spec, spec.rules[index].effective_from - _EPSILON)
    if before is None:
        return 0
    holder = base_holder(spec, before)
    if holder in members:
        return (members.index(holder) + 1) % len(members)
    old = spec.rules[before.version].members
    position = old.index(holder)
    for step in range(1, len(old)):
        candidate = old[(position + step) % len(old)]
        if candidate in members:
            return members.index(candidate)
    return 0


def _with(spec: RotaSpec, rule: Rule, kept: Shift | None) -> Plan:
    cut = _utc(rule.effective_from)
    keep = tuple(r for r in spec.rules if _utc(r.effective_from) < cut)
    dropped = tuple(r for r in spec.rules if _utc(r.effective_from) >= cut)
    return Plan(RotaSpec((*keep, rule), spec.tz), rule, dropped, kept)


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
