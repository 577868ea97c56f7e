"""Rotations as stored (issue 6): members, confirmed swaps and overrides, pages, deputies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from scheduler.rota import Duty, Override, RotaSpec, Swap, duties, duty_at, next_duty
from storage.bounds import db_id
from storage.enums import Role
from storage.models import (
    Availability,
    Deputy,
    OncallOverride,
    OncallSwap,
    Organisation,
    Page,
    Rotation,
    RotationMember,
    Staff,
)

CONFIRMED, PENDING, DECLINED = "confirmed", "pending", "declined"
# Outbox item types that go out at once, also at night and on holidays (issue 6).
URGENT_ITEM_TYPES = ("page", "handover", "override")


@dataclass
class RotaState:
    """One rotation with everything that decides who is on call."""

    rotation: Rotation
    organisation: Organisation
    spec: RotaSpec
    staff: dict[int, Staff]  # members, substitutes and the second line, by id
    swaps: list[Swap]
    overrides: list[Override]

    @property
    def id(self) -> int:
        assert self.rotation.id is not None
        return self.rotation.id

    def duties(self, start: datetime, end: datetime) -> list[Duty]:
        return duties(self.spec, start, end, swaps=self.swaps, overrides=self.overrides)

    def duty_at(self, at: datetime) -> Duty | None:
        return duty_at(self.spec, at, swaps=self.swaps, overrides=self.overrides)

    def next_duty(self, duty: Duty) -> Duty | None:
        return next_duty(self.spec, duty, swaps=self.swaps, overrides=self.overrides)

    def backup_for(self, duty: Duty) -> Staff | None:
        """The second line during `duty`: a fixed person, or who is next in line."""
        if self.rotation.backup_staff_id is not None:
            person = self.staff.get(self.rotation.backup_staff_id)
            if person is not None and person.id != duty.staff_id:
                return person
        if self.rotation.backup_next:
            following = self.next_duty(duty)
            if following is not None and following.staff_id != duty.staff_id:
                return self.staff.get(following.staff_id)
        return None


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
    return list(
        session.exec(
            select(Rotation)
            .join(RotationMember, col(RotationMember.rotation_id) == col(Rotation.id))
            .where(RotationMember.staff_id == staff_id)
            .order_by(col(Rotation.id))
        )
    )


def load_state(session: Session, rotation: Rotation, tz: ZoneInfo) -> RotaState:
    """The rotation's members, confirmed swaps and overrides in force (not cancelled)."""
    assert rotation.id is not None
    members = list(
        session.exec(
            select(Staff)
            .join(RotationMember, col(RotationMember.staff_id) == col(Staff.id))
            .where(RotationMember.rotation_id == rotation.id)
            .order_by(col(RotationMember.position))
        )
    )
    swaps = [
        Swap(_id(s.id), s.shift_a, s.holder_a, s.holder_b, s.shift_b)
        for s in session.exec(
            select(OncallSwap).where(
                OncallSwap.rotation_id == rotation.id, OncallSwap.status == CONFIRMED
            )
        )
    ]
    overrides = [
        Override(_id(o.id), o.absent_staff_id, o.substitute_staff_id, o.starts_at, o.ends_at)
        for o in session.exec(
            select(OncallOverride).where(
                or_(
                    col(OncallOverride.rotation_id).is_(None),
                    col(OncallOverride.rotation_id) == rotation.id,
                ),
                col(OncallOverride.cancelled_at).is_(None),
            )
        )
    ]
    wanted = {o.substitute for o in overrides} | {o.absent for o in overrides}
    if rotation.backup_staff_id is not None:
        wanted.add(rotation.backup_staff_id)
    staff = {_id(m.id): m for m in members}
    missing = wanted - set(staff)
    if missing:
        for person in session.exec(select(Staff).where(col(Staff.id).in_(sorted(missing)))):
            staff[_id(person.id)] = person
    org = session.get(Organisation, rotation.organisation_id)
    assert org is not None
    spec = RotaSpec(
        anchor=rotation.anchor,
        handover=rotation.handover,
        shift_days=rotation.shift_days,
        members=tuple(_id(m.id) for m in members),
        tz=tz,
    )
    return RotaState(rotation, org, spec, staff, swaps, overrides)


def all_states(session: Session, tz: ZoneInfo) -> list[RotaState]:
    return [load_state(session, r, tz) for r in session.exec(select(Rotation).order_by("id"))]


def override_history(session: Session, rotation_id: int) -> list[OncallOverride]:
    """Every override touching the rotation, also cancelled ones (feed SEQUENCE)."""
    return list(
        session.exec(
            select(OncallOverride).where(
                or_(
                    col(OncallOverride.rotation_id).is_(None),
                    col(OncallOverride.rotation_id) == rotation_id,
                )
            )
        )
    )


def confirmed_swaps(session: Session, rotation_id: int) -> list[OncallSwap]:
    return list(
        session.exec(
            select(OncallSwap).where(
                OncallSwap.rotation_id == rotation_id, OncallSwap.status == CONFIRMED
            )
        )
    )


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
    return list(
        session.exec(
            select(Page)
            .where(col(Page.escalate_at) <= now, col(Page.acked_at).is_(None))
            .order_by(col(Page.id))
        )
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
