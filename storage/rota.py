"""Rotations as stored (issues 6, 15): rotations, their swaps and overrides, pages, deputies.

The swap and override queries are built once per shape of window and read plain columns: they
are the on-call hot path (`scheduler/rota_state.py` turns them into the rotation's state).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from config.enums import Role
from storage.bounds import db_id
from storage.models.reachability import Availability, Deputy
from storage.models.rota import OncallOverride, OncallSwap, Page, Rotation, RotationMember
from storage.models.staff import Organisation, Staff
from storage.rota_rules import core_rows

CONFIRMED, PENDING, DECLINED, VOID = "confirmed", "pending", "declined", "void"
# Outbox item types that go out at once, also at night and on holidays (issues 6, 15).
URGENT_ITEM_TYPES = ("page", "handover", "override", "rota_chg_now")


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


def swap_rows(
    session: Session, ids: Sequence[int] | None, low: datetime | None, high: datetime | None
) -> list[tuple[int, int, int, int, int, int]]:
    """Confirmed swaps that can touch (low, high): (rotation, id, shift a, holder a, holder b,
    shift b)."""
    query = _statement("swaps", ids is not None, low is not None, high is not None)
    return core_rows(session, query, _params(ids, low, high))


def override_rows(
    session: Session, ids: Sequence[int] | None, low: datetime | None, high: datetime | None
) -> list[tuple[int | None, int, int, int, datetime, datetime]]:
    """Overrides in force that can touch (low, high): (rotation or None for all, id, absent,
    substitute, start, end)."""
    query = _statement("overrides", ids is not None, low is not None, high is not None)
    return core_rows(session, query, _params(ids, low, high))


def all_rotations(session: Session) -> list[Rotation]:
    return list(session.exec(_ALL_ROTATIONS))


def staff_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Staff]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {_id(p.id): p for p in session.exec(_STAFF_BY_IDS, params={"ids": wanted})}


def organisations_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Organisation]:
    found = session.exec(_ORGS_BY_IDS, params={"ids": sorted(set(ids))})
    return {_id(o.id): o for o in found}


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
