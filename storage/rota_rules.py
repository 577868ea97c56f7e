"""Rotation rule versions as stored (issue 15): reading them, creating a rotation, and writing
an edit or an end (never changing a version that has begun)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import bindparam, delete
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models.rota import OncallHandover, Rotation, RotationMember, RotationRule


def core_rows(session: Session, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """Rows of a plain-column query, on the session's connection (past the ORM layer: the
    on-call hot path reads these every few seconds); pending changes are flushed first."""
    session.flush()
    return list(session.connection().execute(statement, params or {}).all())


def encode_members(members: Iterable[int]) -> str:
    return ",".join(str(m) for m in members)


def decode_members(text: str) -> tuple[int, ...]:
    return tuple(int(m) for m in text.split(",") if m)


def rule_rows(
    session: Session, rotation_ids: Sequence[int] | None, *, superseded: bool = False
) -> dict[int, list[RotationRule]]:
    """Versions by rotation, ordered by `effective_from` (in force ones unless `superseded`)."""
    query = select(RotationRule).order_by(
        col(RotationRule.rotation_id), col(RotationRule.effective_from), col(RotationRule.id)
    )
    if rotation_ids is not None:
        query = query.where(col(RotationRule.rotation_id).in_(sorted(set(rotation_ids))))
    if not superseded:
        query = query.where(col(RotationRule.superseded_by).is_(None))
    out: dict[int, list[RotationRule]] = {}
    for row in session.exec(query):
        out.setdefault(row.rotation_id, []).append(row)
    return out


_RULE_COLUMNS = (
    col(RotationRule.rotation_id),
    col(RotationRule.effective_from),
    col(RotationRule.anchor),
    col(RotationRule.handover),
    col(RotationRule.shift_days),
    col(RotationRule.members),
    col(RotationRule.member_offset),
    col(RotationRule.first_number),
    col(RotationRule.backup_staff_id),
    col(RotationRule.backup_next),
    col(RotationRule.id),
    col(RotationRule.created_at),
)


# A version's values in the order of `scheduler.rota.Rule`'s fields: effective_from, anchor,
# handover, shift_days, members, offset, first_number, backup_staff_id, backup_next, id,
# created_at.
RuleValues = tuple[
    datetime, date, time, int, tuple[int, ...], int, int, int | None, bool, int, datetime | None
]


def versions_in_force(
    session: Session, rotation_ids: Sequence[int] | None
) -> dict[int, list[RuleValues]]:
    """The versions in force by rotation, ordered by `effective_from` (plain columns, no ORM
    objects, statements built once: every tick reads them)."""
    if rotation_ids is None:
        rows = core_rows(session, _RULES_ALL)
    else:
        rows = core_rows(session, _RULES_OF, {"ids": sorted(set(rotation_ids))})
    out: dict[int, list[RuleValues]] = {}
    for rid, at, anchor, handover, days, members, offset, first, backup, nxt, i, made in rows:
        values = (at, anchor, handover, days, decode_members(members), offset, first, backup)
        out.setdefault(rid, []).append((*values, nxt, i, made))
    return out


_RULES_ALL = (
    sa_select(*_RULE_COLUMNS)
    .where(col(RotationRule.superseded_by).is_(None))
    .order_by(col(RotationRule.rotation_id), col(RotationRule.effective_from))
)
_RULES_OF = _RULES_ALL.where(col(RotationRule.rotation_id).in_(bindparam("ids", expanding=True)))
_LEGACY_MEMBERS = (
    sa_select(col(RotationMember.rotation_id), col(RotationMember.staff_id))
    .where(col(RotationMember.rotation_id).in_(bindparam("ids", expanding=True)))
    .order_by(col(RotationMember.rotation_id), col(RotationMember.position))
)


def legacy_members(session: Session, rotation_ids: Sequence[int]) -> dict[int, list[int]]:
    """Members in order of rotations stored before issue 15 (no rule versions)."""
    if not rotation_ids:
        return {}
    out: dict[int, list[int]] = {}
    for rotation_id, staff_id in core_rows(session, _LEGACY_MEMBERS, {"ids": sorted(rotation_ids)}):
        out.setdefault(rotation_id, []).append(staff_id)
    return out


def create_rotation(
    session: Session,
    *,
    organisation_id: int,
    name: str,
    first_day: datetime,
    handover: time,
    shift_days: int,
    members: Sequence[int],
    team_id: int | None,
    backup_staff_id: int | None,
    backup_next: bool,
    now: datetime,
    actor: int | None,
) -> Rotation:
    """A new rotation and its first version, beginning at `first_day` (the first handover)."""
    rotation = Rotation(
        organisation_id=organisation_id,
        name=name,
        anchor=first_day.date(),
        handover=handover,
        shift_days=shift_days,
        team_id=team_id,
        backup_staff_id=backup_staff_id,
        backup_next=backup_next,
        created_at=now,
    )
    session.add(rotation)
    session.flush()
    assert rotation.id is not None
    _write_members(session, rotation.id, members)
    session.add(
        RotationRule(
            rotation_id=rotation.id,
            effective_from=first_day,
            anchor=first_day.date(),
            handover=handover,
            shift_days=shift_days,
            members=encode_members(members),
            backup_staff_id=backup_staff_id,
            backup_next=backup_next,
            created_at=now,
            created_by=actor,
        )
    )
    session.flush()
    return rotation


def store_version(
    session: Session,
    rotation: Rotation,
    row: RotationRule,
    *,
    first: RotationRule | None,
    superseded: set[datetime],
    members: Sequence[int],
) -> RotationRule:
    """Store a new version `row` (and `first`, the version a rotation from before issue 15
    always had), mark the versions in force from `superseded` as replaced, and keep the
    rotation's own columns and member list in step (they describe the rule as last changed)."""
    assert rotation.id is not None
    if first is not None:
        session.add(first)
    session.add(row)
    session.flush()
    assert row.id is not None
    for stored in rule_rows(session, [rotation.id]).get(rotation.id, []):
        if stored.id != row.id and stored.effective_from in superseded:
            stored.superseded_by = row.id
            session.add(stored)
    if row.members:  # an end keeps the rotation's columns as they were
        rotation.anchor, rotation.handover = row.anchor, row.handover
        rotation.shift_days = row.shift_days
        rotation.backup_staff_id, rotation.backup_next = row.backup_staff_id, row.backup_next
    session.add(rotation)
    _write_members(session, rotation.id, members)
    session.flush()
    return row


def _write_members(session: Session, rotation_id: int, members: Sequence[int]) -> None:
    session.connection().execute(
        delete(RotationMember).where(col(RotationMember.rotation_id) == rotation_id)
    )
    for position, staff_id in enumerate(members):
        session.add(RotationMember(rotation_id=rotation_id, staff_id=staff_id, position=position))


def handovers_from(session: Session, rotation_id: int, number: int) -> list[OncallHandover]:
    """The confirmed handovers of the rotation's shifts from `number` on."""
    return list(
        session.exec(
            select(OncallHandover).where(
                OncallHandover.rotation_id == rotation_id,
                OncallHandover.shift_number >= number,
            )
        ).all()
    )


def drop_handovers(session: Session, rows: Iterable[OncallHandover]) -> None:
    for row in rows:
        session.delete(row)
    session.flush()
