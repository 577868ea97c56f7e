"""Rotation rule versions as the rules use them (issue 15): read from their rows, and an edit's
plan written back (`scheduler.rota_edit.Plan`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from scheduler.rota import RotaSpec, Rule, shift_by_number, wall_clock
from scheduler.rota_edit import Plan
from storage import rota_rules as store
from storage.models.rota import Rotation, RotationRule


def to_rule(row: RotationRule) -> Rule:
    return Rule(
        effective_from=row.effective_from,
        anchor=row.anchor,
        handover=row.handover,
        shift_days=row.shift_days,
        members=store.decode_members(row.members),
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


def rules_in_force(session: Session, rotation_ids: Sequence[int] | None) -> dict[int, list[Rule]]:
    """The versions in force by rotation, ordered by `effective_from`."""
    found = store.versions_in_force(session, rotation_ids)
    return {rid: [Rule(*values) for values in rows] for rid, rows in found.items()}


def swap_span(spec: RotaSpec, numbers: Iterable[int | None]) -> tuple[datetime, datetime] | None:
    """The earliest start and latest end of the shifts a swap names (stored for lookups)."""
    shifts = [shift_by_number(spec, n) for n in numbers if n is not None]
    found = [s for s in shifts if s is not None]
    if not found:
        return None
    return (
        min(s.start.astimezone(UTC) for s in found),
        max(s.end.astimezone(UTC) for s in found),
    )


def apply_plan(
    session: Session,
    rotation: Rotation,
    old: RotaSpec,
    plan: Plan,
    *,
    now: datetime,
    actor: int,
) -> RotationRule:
    """Store the plan's new version and mark the versions it replaces; a handover confirmed
    for a shift the edit changed no longer counts."""
    assert rotation.id is not None
    first = None
    if not store.rule_rows(session, [rotation.id]).get(rotation.id):
        # A rotation from before issue 15: write down the version it always had.
        (only,) = old.rules
        first = _row(rotation.id, only, created_at=rotation.created_at or only.effective_from)
    row = store.store_version(
        session,
        rotation,
        _row(rotation.id, plan.rule, created_at=now, created_by=actor),
        first=first,
        superseded={r.effective_from for r in plan.superseded},
        members=_members_from(plan.spec, now),
    )
    stale = []
    for confirmed in store.handovers_from(session, rotation.id, plan.rule.first_number - 1):
        before = shift_by_number(old, confirmed.shift_number)
        if before is None or before.end <= now:
            continue
        after = shift_by_number(plan.spec, confirmed.shift_number)
        if after is None or (after.start, after.end) != (before.start, before.end):
            stale.append(confirmed)
    store.drop_handovers(session, stale)
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
        members=store.encode_members(rule.members),
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
