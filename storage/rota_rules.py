"""Rotation rule versions as stored (issue 15): reading them as `scheduler.rota.Rule`s, creating
a rotation, and writing an edit or an end (never changing a version that has begun)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from scheduler.rota import RotaSpec, Rule, shift_by_number, wall_clock
from scheduler.rota_edit import Plan
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


def to_rule(row: RotationRule) -> Rule:
    return Rule(
        effective_from=row.effective_from,
        anchor=row.anchor,
        handover=row.handover,
        shift_days=row.shift_days,
        members=decode_members(row.members),
        offset=row.member_offset,
        first_number=row.first_number,
        backup_staff_id=row.backup_staff_id,
        backup_next=row.backup_next,
        rule_id=row.id,
        created_at=row.created_at,
    )


def implicit_rule(rotation: Rotation, members: Sequence[int], tz: ZoneInfo) -> Rule:
    """The single version of a rotation stored before issue 15 (no rule rows)."""
    return Rule(
        effective_from=wall_clock(rotation.anchor, rotation.handover, tz),
        anchor=rotation.anchor,
        handover=rotation.handover,
        shift_days=rotation.shift_days,
        members=tuple(members),
        backup_staff_id=rotation.backup_staff_id,
        backup_next=rotation.backup_next,
        created_at=rotation.created_at,
    )


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


def rules_in_force(session: Session, rotation_ids: Sequence[int] | None) -> dict[int, list[Rule]]:
    """The versions in force by rotation, ordered by `effective_from`, as `Rule`s (plain
    columns, no ORM objects, statements built once: every tick reads them)."""
    if rotation_ids is None:
        rows = core_rows(session, _RULES_ALL)
    else:
        rows = core_rows(session, _RULES_OF, {"ids": sorted(set(rotation_ids))})
    out: dict[int, list[Rule]] = {}
    for rid, at, anchor, handover, days, members, offset, first, backup, nxt, i, made in rows:
        out.setdefault(rid, []).append(
            Rule(
                at,
                anchor,
                handover,
                days,
                decode_members(members),
                offset,
                first,
                backup,
                nxt,
                i,
                made,
            )
        )
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


def apply_plan(
    session: Session,
    rotation: Rotation,
    old: RotaSpec,
    plan: Plan,
    *,
    now: datetime,
    actor: int,
) -> RotationRule:
    """Store the plan's new version, mark the planned versions it replaces, and keep the
    rotation's own columns and member list in step (they describe the rule as last changed)."""
    assert rotation.id is not None
    if not rule_rows(session, [rotation.id]).get(rotation.id):
        # A rotation from before issue 15: write down the version it always had.
        (only,) = old.rules
        session.add(_row(rotation.id, only, created_at=rotation.created_at or only.effective_from))
    rule = plan.rule
    row = _row(rotation.id, rule, created_at=now, created_by=actor)
    session.add(row)
    session.flush()
    assert row.id is not None
    superseded = {r.effective_from for r in plan.superseded}
    for stored in rule_rows(session, [rotation.id]).get(rotation.id, []):
        if stored.id != row.id and stored.effective_from in superseded:
            stored.superseded_by = row.id
            session.add(stored)
    if not rule.ended:
        rotation.anchor, rotation.handover = rule.anchor, rule.handover
        rotation.shift_days = rule.shift_days
        rotation.backup_staff_id, rotation.backup_next = rule.backup_staff_id, rule.backup_next
    session.add(rotation)
    _write_members(session, rotation.id, _members_from(plan.spec, now))
    _drop_stale_confirmations(session, rotation.id, old, plan, now)
    session.flush()
    return row


def _row(
    rotation_id: int, rule: Rule, *, created_at: datetime, created_by: int | None = None
) -> RotationRule:
    return RotationRule(
        rotation_id=rotation_id,
        effective_from=rule.effective_from,
        anchor=rule.anchor,
        handover=rule.handover,
        shift_days=rule.shift_days,
        members=encode_members(rule.members),
        member_offset=rule.offset,
        first_number=rule.first_number,
        backup_staff_id=rule.backup_staff_id,
        backup_next=rule.backup_next,
        created_at=created_at,
        created_by=created_by,
    )


def _members_from(spec: RotaSpec, now: datetime) -> list[int]:
    """Everyone in the version in force now or in one to come, in order of appearance."""
    index = spec.index_at(now) or 0
    out: list[int] = []
    for rule in spec.rules[index:]:
        out += [m for m in rule.members if m not in out]
    return out


def _write_members(session: Session, rotation_id: int, members: Sequence[int]) -> None:
    session.connection().execute(
        delete(RotationMember).where(col(RotationMember.rotation_id) == rotation_id)
    )
    for position, staff_id in enumerate(members):
        session.add(RotationMember(rotation_id=rotation_id, staff_id=staff_id, position=position))


def _drop_stale_confirmations(
    session: Session, rotation_id: int, old: RotaSpec, plan: Plan, now: datetime
) -> None:
    """A handover confirmed for a shift the edit changed no longer counts."""
    for row in session.exec(
        select(OncallHandover).where(
            OncallHandover.rotation_id == rotation_id,
            OncallHandover.shift_number >= plan.rule.first_number - 1,
        )
    ).all():
        before = shift_by_number(old, row.shift_number)
        if before is None or before.end <= now:
            continue
        after = shift_by_number(plan.spec, row.shift_number)
        if after is None or (after.start, after.end) != (before.start, before.end):
            session.delete(row)
