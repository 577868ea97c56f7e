"""Rotations as stored (issues 6, 15): rule versions, swaps and overrides, pages, deputies.

`load_states` reads every rotation with a handful of queries whatever their number, and for a
time window only the swaps and overrides that can touch it: /notfall and the on-call tick cost
the same for a rotation that began ten years ago as for one that began last week.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from config.enums import Role
from scheduler.rota import (
    Duty,
    Override,
    RotaSpec,
    Rule,
    Swap,
    backup_of,
    duties,
    duty_and_next,
    duty_at,
    next_duty,
)
from storage.bounds import db_id
from storage.models.reachability import Availability, Deputy
from storage.models.rota import OncallOverride, OncallSwap, Page, Rotation, RotationMember
from storage.models.staff import Organisation, Staff
from storage.rota_rules import core_rows, implicit_rule, legacy_members, rules_in_force

CONFIRMED, PENDING, DECLINED, VOID = "confirmed", "pending", "declined", "void"
# Outbox item types that go out at once, also at night and on holidays (issues 6, 15).
URGENT_ITEM_TYPES = ("page", "handover", "override", "rota_chg_now")


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


def rotation_ids(session: Session) -> list[int]:
    return [r for r in session.exec(select(Rotation.id).order_by(col(Rotation.id))) if r]


def find_rotations(session: Session, text: str) -> list[Rotation]:
    """Rotations whose name contains `text` (case-insensitive), or the one with that number."""
    text = text.strip()
    if text.isdigit():
        found = session.get(Rotation, number) if (number := db_id(text)) else None
        return [found] if found else []
    query = select(Rotation).order_by(col(Rotation.id))
    if text:
        query = query.where(func.lower(Rotation.name).contains(text.lower()))
    rows = list(session.exec(query))
    exact = [r for r in rows if r.name.lower() in (text.lower(), f"rufbereitschaft {text.lower()}")]
    return exact or rows


def rotations_of_member(session: Session, staff_id: int) -> list[Rotation]:
    """Rotations the person belongs to now or in a version to come."""
    return list(
        session.exec(
            select(Rotation)
            .join(RotationMember, col(RotationMember.rotation_id) == col(Rotation.id))
            .where(RotationMember.staff_id == staff_id)
            .order_by(col(Rotation.id))
        )
    )


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
    rows = list(rotations) if rotations is not None else list(session.exec(_ALL_ROTATIONS))
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
    staff = {
        _id(p.id): p
        for p in (session.exec(_STAFF_BY_IDS, params={"ids": sorted(wanted)}) if wanted else [])
    }
    org_ids = sorted({r.organisation_id for r in rows})
    orgs = {o.id: o for o in session.exec(_ORGS_BY_IDS, params={"ids": org_ids})}
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


_ALL_ROTATIONS = select(Rotation).order_by(col(Rotation.id))
_STAFF_BY_IDS = select(Staff).where(col(Staff.id).in_(bindparam("ids", expanding=True)))
_ORGS_BY_IDS = select(Organisation).where(
    col(Organisation.id).in_(bindparam("ids", expanding=True))
)
_SWAP_ROWS = sa_select(
    col(OncallSwap.rotation_id),
    col(OncallSwap.id),
    col(OncallSwap.shift_a),
    col(OncallSwap.holder_a),
    col(OncallSwap.holder_b),
    col(OncallSwap.shift_b),
).where(col(OncallSwap.status) == CONFIRMED)
_OVERRIDE_ROWS = sa_select(
    col(OncallOverride.rotation_id),
    col(OncallOverride.id),
    col(OncallOverride.absent_staff_id),
    col(OncallOverride.substitute_staff_id),
    col(OncallOverride.starts_at),
    col(OncallOverride.ends_at),
).where(col(OncallOverride.cancelled_at).is_(None))
_STATEMENTS: dict[tuple[str, bool, bool, bool], Any] = {}


def _statement(kind: str, ids: bool, low: bool, high: bool) -> Any:
    """The swap or override query for this shape of window, built once (bound values)."""
    key = (kind, ids, low, high)
    if key not in _STATEMENTS:
        query: Any
        if kind == "swaps":
            query = _SWAP_ROWS
            if ids:
                query = query.where(
                    col(OncallSwap.rotation_id).in_(bindparam("ids", expanding=True))
                )
            if low:
                query = query.where(col(OncallSwap.last_end) > bindparam("low"))
            if high:
                query = query.where(col(OncallSwap.first_start) < bindparam("high"))
        else:
            query = _OVERRIDE_ROWS
            if ids:
                query = query.where(
                    or_(
                        col(OncallOverride.rotation_id).is_(None),
                        col(OncallOverride.rotation_id).in_(bindparam("ids", expanding=True)),
                    )
                )
            if low:
                query = query.where(col(OncallOverride.ends_at) > bindparam("low"))
            if high:
                query = query.where(col(OncallOverride.starts_at) < bindparam("high"))
        _STATEMENTS[key] = query
    return _STATEMENTS[key]


def _params(
    ids: Sequence[int] | None, low: datetime | None, high: datetime | None
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if ids is not None:
        params["ids"] = list(ids)
    if low is not None:
        params["low"] = low
    if high is not None:
        params["high"] = high
    return params


def _swaps(
    session: Session, ids: Sequence[int] | None, low: datetime | None, high: datetime | None
) -> list[tuple[int, Swap]]:
    query = _statement("swaps", ids is not None, low is not None, high is not None)
    rows = core_rows(session, query, _params(ids, low, high))
    return [(r, Swap(_id(i), a, ha, hb, b)) for r, i, a, ha, hb, b in rows]


def _overrides(
    session: Session, ids: Sequence[int] | None, low: datetime | None, high: datetime | None
) -> list[tuple[int | None, Override]]:
    query = _statement("overrides", ids is not None, low is not None, high is not None)
    rows = core_rows(session, query, _params(ids, low, high))
    return [(r, Override(_id(i), a, b, s, e)) for r, i, a, b, s, e in rows]


def coordinator_ids(session: Session, organisation_id: int) -> list[int]:
    return [
        _id(s.id)
        for s in session.exec(
            select(Staff)
            .where(
                Staff.organisation_id == organisation_id,
                Staff.role == Role.coordinator,
                col(Staff.active).is_(True),
            )
            .order_by(col(Staff.id))
        )
    ]


def open_pages_due(session: Session, now: datetime) -> list[Page]:
    return list(session.exec(_PAGES_DUE, params={"now": now}))


_PAGES_DUE = (
    select(Page)
    .where(col(Page.escalate_at) <= bindparam("now"), col(Page.acked_at).is_(None))
    .order_by(col(Page.id))
)


# -- reachability ------------------------------------------------------------------------------


def presence_rows(session: Session, staff_id: int) -> list[Availability]:
    return list(
        session.exec(
            select(Availability)
            .where(Availability.staff_id == staff_id, col(Availability.weekday).is_not(None))
            .order_by(col(Availability.weekday), col(Availability.start_time))
        )
    )


def absences(session: Session, staff_ids: Iterable[int], since: date) -> list[Availability]:
    """Absences of these people that have not ended before `since`."""
    ids = sorted(set(staff_ids))
    if not ids:
        return []
    return list(
        session.exec(
            select(Availability)
            .where(
                col(Availability.staff_id).in_(ids),
                col(Availability.absent_from).is_not(None),
                col(Availability.absent_until) >= since,
            )
            .order_by(col(Availability.absent_from))
        )
    )


def absence_on(session: Session, staff_id: int, day: date) -> Availability | None:
    for row in absences(session, [staff_id], day):
        assert row.absent_from is not None
        if row.absent_from <= day:
            return row
    return None


def deputy_row(
    session: Session, *, staff_id: int | None = None, team_id: int | None = None
) -> Deputy | None:
    if staff_id is not None:
        return session.exec(select(Deputy).where(Deputy.staff_id == staff_id)).first()
    return session.exec(select(Deputy).where(Deputy.team_id == team_id)).first()


def deputy_of(session: Session, person: Staff, absence: Availability | None) -> Staff | None:
    """Who stands in: the absence's own deputy, the person's, the team's (active only)."""
    candidates: list[int | None] = [None if absence is None else absence.deputy_staff_id]
    own = deputy_row(session, staff_id=person.id)
    candidates.append(None if own is None else own.deputy_staff_id)
    if person.team_id is not None:
        team = deputy_row(session, team_id=person.team_id)
        candidates.append(None if team is None else team.deputy_staff_id)
    for candidate in candidates:
        if candidate is not None and candidate != person.id:
            deputy = session.get(Staff, candidate)
            if deputy is not None and deputy.active:
                return deputy
    return None


def absence_routes(session: Session, staff_ids: Sequence[int], day: date) -> dict[int, int | None]:
    """For each person absent on `day`: who gets their reminders instead (None: nobody found,
    their coordinators). People not absent are left out. A deputy absent too is followed on."""
    routes: dict[int, int | None] = {}
    rows = [r for r in absences(session, staff_ids, day) if r.absent_from and r.absent_from <= day]
    for row in rows:
        person = session.get(Staff, row.staff_id)
        if person is None:
            continue
        target: Staff | None = person
        seen = {row.staff_id}
        absence: Availability | None = row
        while target is not None and absence is not None:
            target = deputy_of(session, target, absence)
            if target is None or target.id in seen:
                target = None
                break
            seen.add(_id(target.id))
            absence = absence_on(session, _id(target.id), day)
        if target is None:
            coordinators = [
                c for c in coordinator_ids(session, person.organisation_id) if c not in seen
            ]
            routes[row.staff_id] = coordinators[0] if coordinators else None
        else:
            routes[row.staff_id] = target.id
    return routes


def _id(value: int | None) -> int:
    assert value is not None
    return value
