"""A rotation's state as the rules see it (issues 6, 15): its versions, swaps and overrides.

`load_states` reads every rotation with a handful of queries whatever their number, and for a
time window only the swaps and overrides that can touch it: /notfall and the on-call tick cost
the same for a rotation that began ten years ago as for one that began last week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from scheduler.rota import RotaSpec, Rule
from scheduler.rota_duties import (
    Duty,
    Override,
    Swap,
    backup_of,
    duties,
    duty_and_next,
    duty_at,
    next_duty,
)
from scheduler.rota_versions import implicit_rule, rules_in_force
from storage import rota as store
from storage.models.rota import Rotation
from storage.models.staff import Organisation, Staff
from storage.rota_rules import legacy_members


@dataclass
class RotaState:
    """One rotation with everything that decides who is on call within `window`."""

    rotation: Rotation
    organisation: Organisation
    spec: RotaSpec
    staff: dict[int, Staff]  # members, substitutes and the second line, by id
    swaps: list[Swap]
    overrides: list[Override]
    window: tuple[datetime | None, datetime | None] = (None, None)  # what was loaded
    id: int = 0  # the rotation's id

    def __post_init__(self) -> None:
        assert self.rotation.id is not None
        self.id = self.rotation.id
        low, high = self.window  # in UTC: compared on every call
        self.window = (
            None if low is None else low.astimezone(UTC),
            None if high is None else high.astimezone(UTC),
        )

    def duties(self, start: datetime, end: datetime) -> list[Duty]:
        self._check(start, end)
        return duties(self.spec, start, end, swaps=self.swaps, overrides=self.overrides)

    def duty_at(self, at: datetime) -> Duty | None:
        self._check(at, at)
        return duty_at(self.spec, at, swaps=self.swaps, overrides=self.overrides)

    def duty_and_next(self, at: datetime) -> tuple[Duty | None, Duty | None]:
        """The duty at `at` and the one after it."""
        self._check(at, at)
        found = duty_and_next(self.spec, at, swaps=self.swaps, overrides=self.overrides)
        if found[0] is not None:
            self._check(found[0].end, found[0].end)
        return found

    def next_duty(self, duty: Duty) -> Duty | None:
        self._check(duty.end, duty.end)
        return next_duty(self.spec, duty, swaps=self.swaps, overrides=self.overrides)

    def rule_at(self, at: datetime) -> Rule | None:
        return self.spec.rule_at(at)

    def backup_for(self, duty: Duty, following: Duty | None = None) -> Staff | None:
        """The second line during `duty`: a fixed person, or who is next in line (the duty
        after `duty`, if the caller computed it already)."""
        fixed, following_in_line = backup_of(self.spec, duty)
        if fixed is not None:
            person = self.staff.get(fixed)
            if person is not None and person.id != duty.staff_id:
                return person
        if following_in_line:
            following = following or self.next_duty(duty)
            if following is not None and following.staff_id != duty.staff_id:
                return self.staff.get(following.staff_id)
        return None

    def _check(self, start: datetime, end: datetime) -> None:
        low, high = self.window
        if (low is not None and start < low) or (high is not None and end > high):
            raise ValueError(f"rotation {self.id}: {start}..{end} is outside the loaded window")


def load_state(
    session: Session,
    rotation: Rotation,
    tz: ZoneInfo,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> RotaState:
    """One rotation; swaps and overrides of [start, end) only, or all in force (None)."""
    assert rotation.id is not None
    (state,) = load_states(session, tz, start=start, end=end, rotations=[rotation])
    return state


def rotation_spec(session: Session, rotation: Rotation, tz: ZoneInfo) -> RotaSpec:
    """Only the rule versions of one rotation (no swaps, overrides or people)."""
    assert rotation.id is not None
    found = rules_in_force(session, [rotation.id]).get(rotation.id)
    if found:
        return RotaSpec(tuple(found), tz)
    members = legacy_members(session, [rotation.id]).get(rotation.id, [])
    return RotaSpec((implicit_rule(rotation, members, tz),), tz)


def all_states(
    session: Session, tz: ZoneInfo, *, start: datetime | None = None, end: datetime | None = None
) -> list[RotaState]:
    return load_states(session, tz, start=start, end=end)


def load_states(
    session: Session,
    tz: ZoneInfo,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    rotations: Sequence[Rotation] | None = None,
) -> list[RotaState]:
    """Rotations (all, or those given) with their rule versions, the confirmed swaps and the
    overrides in force that can touch [start, end), and the people they name.

    A fixed number of queries, however many rotations: every table is read once, with
    statements built once (this is the path of /notfall and of every on-call tick)."""
    rows = list(rotations) if rotations is not None else store.all_rotations(session)
    if not rows:
        return []
    ids = [r.id for r in rows if r.id is not None]
    # Every rotation: no id lists in the queries (cheaper, and the time indexes stay usable).
    chosen = None if rotations is None else ids
    rules = rules_in_force(session, chosen)
    legacy = legacy_members(session, [i for i in ids if i not in rules])
    specs: dict[int, RotaSpec] = {}
    for r in rows:
        assert r.id is not None
        if r.id in rules:
            specs[r.id] = RotaSpec(tuple(rules[r.id]), tz)
        else:
            specs[r.id] = RotaSpec((implicit_rule(r, legacy.get(r.id, []), tz),), tz)
    pad = max(s.longest_shift for s in specs.values())
    low = None if start is None else (start - pad).astimezone(UTC)
    high = None if end is None else (end + pad).astimezone(UTC)
    swaps = _swaps(session, chosen, low, high)
    overrides = _overrides(session, chosen, low, high)
    wanted: set[int] = set()
    for spec in specs.values():
        for rule in spec.rules:
            wanted.update(rule.members)
            if rule.backup_staff_id is not None:
                wanted.add(rule.backup_staff_id)
    for _, o in overrides:
        wanted.update((o.absent, o.substitute))
    for _, sw in swaps:
        wanted.update((sw.holder_a, sw.holder_b))
    staff = store.staff_by_ids(session, wanted)
    orgs = store.organisations_by_ids(session, (r.organisation_id for r in rows))
    swaps_of: dict[int, list[Swap]] = {}
    for swap_rotation, swap in swaps:
        swaps_of.setdefault(swap_rotation, []).append(swap)
    everywhere = [o for rid, o in overrides if rid is None]
    overrides_of: dict[int, list[Override]] = {}
    for override_rotation, o in overrides:
        if override_rotation is not None:
            overrides_of.setdefault(override_rotation, []).append(o)
    return [
        RotaState(
            rotation=r,
            organisation=orgs[r.organisation_id],
            spec=specs[_id(r.id)],
            staff=staff,
            swaps=swaps_of.get(_id(r.id), []),
            overrides=everywhere + overrides_of.get(_id(r.id), []),
            window=(start, end),
        )
        for r in rows
    ]


def _swaps(
    session: Session, ids: Sequence[int] | None, low: datetime | None, high: datetime | None
) -> list[tuple[int, Swap]]:
    rows = store.swap_rows(session, ids, low, high)
    return [(r, Swap(_id(i), a, ha, hb, b)) for r, i, a, ha, hb, b in rows]


def _overrides(
    session: Session, ids: Sequence[int] | None, low: datetime | None, high: datetime | None
) -> list[tuple[int | None, Override]]:
    rows = store.override_rows(session, ids, low, high)
    return [(r, Override(_id(i), a, b, s, e)) for r, i, a, b, s, e in rows]


def _id(value: int | None) -> int:
    assert value is not None
    return value
