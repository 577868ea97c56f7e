"""Stored next-duty changes (issue 15): what someone's next on-call duty was and is now.

A person told nothing yet about an earlier change hears of both at once: the new record starts
from what they last heard (the earlier record's "before"), and the earlier notice is dropped
when it is composed (see `bot.rota_texts`).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models.outbox import OutboxEntry
from storage.models.rota import OncallChange
from storage.outbox import PENDING

CHANGE_ITEM_TYPES = ("rota_change", "rota_chg_now")


def latest(session: Session, rotation_id: int, staff_id: int) -> OncallChange | None:
    return session.exec(
        select(OncallChange)
        .where(OncallChange.rotation_id == rotation_id, OncallChange.staff_id == staff_id)
        .order_by(col(OncallChange.id).desc())
    ).first()


def unsent(session: Session, change: OncallChange) -> bool:
    """Whether the notice of `change` still waits in the outbox."""
    status = session.exec(
        select(OutboxEntry.status).where(
            col(OutboxEntry.item_type).in_(CHANGE_ITEM_TYPES),
            OutboxEntry.item_id == change.id,
            OutboxEntry.staff_id == change.staff_id,
        )
    ).first()
    return status == PENDING


def superseded(session: Session, change: OncallChange) -> bool:
    """Whether a later change of the same person's duty in the same rotation exists."""
    return (
        session.exec(
            select(OncallChange.id).where(
                OncallChange.rotation_id == change.rotation_id,
                OncallChange.staff_id == change.staff_id,
                col(OncallChange.id) > change.id,
            )
        ).first()
        is not None
    )


def add(
    session: Session,
    *,
    rotation_id: int,
    staff_id: int,
    cause: str,
    ref_id: int | None,
    before: tuple[datetime, datetime] | None,
    after: tuple[datetime, datetime] | None,
    now: datetime,
) -> OncallChange | None:
    """Record a change; None when, counting an unsent earlier one, nothing changed at all."""
    previous = latest(session, rotation_id, staff_id)
    waiting = previous is not None and unsent(session, previous)
    if previous is not None and waiting:
        before = _span(previous.before_start, previous.before_end)
    unchanged = before == after
    if unchanged and not waiting:
        return None
    # Changed and changed back before anyone was told: a record equal on both sides makes
    # the earlier notice superseded, and is itself not sent.
    row = OncallChange(
        rotation_id=rotation_id,
        staff_id=staff_id,
        cause=cause,
        ref_id=ref_id,
        before_start=None if before is None else before[0],
        before_end=None if before is None else before[1],
        after_start=None if after is None else after[0],
        after_end=None if after is None else after[1],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return None if unchanged else row


def _span(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime] | None:
    return None if start is None or end is None else (start, end)
