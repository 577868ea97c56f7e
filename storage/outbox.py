"""The reminder outbox's rows: writing new entries, snoozing, and counting them.

The outbox key (item_type, item_id, stage, staff_id) is unique, so a reminder is written once
however many sweeps (processes, retries after a crash) find it due. Claiming rows for
sending, with leases, lives in `storage.delivery` (at-least-once; see README "Reminders").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sm_select

from storage.models.outbox import OutboxEntry

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"

_OUTBOX = SQLModel.metadata.tables["reminder_outbox"]


@dataclass(frozen=True)
class NewEntry:
    item_type: str
    item_id: int
    stage: str
    staff_id: int
    fire_at: datetime
    send_after: datetime


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_entries(session: Session, entries: Iterable[NewEntry], now: datetime) -> None:
    """Write reminders into the outbox; keys already there are left alone."""
    rows = [
        {
            "item_type": e.item_type,
            "item_id": e.item_id,
            "stage": e.stage,
            "staff_id": e.staff_id,
            "fire_at": e.fire_at,
            "send_after": e.send_after,
            "status": PENDING,
            "attempts": 0,
            "late": False,
            "created_at": now,
        }
        for e in entries
    ]
    if not rows:
        return
    dialect = postgresql if is_postgres(session) else sqlite
    stmt = dialect.insert(_OUTBOX).on_conflict_do_nothing(
        index_elements=["item_type", "item_id", "stage", "staff_id"]
    )
    session.connection().execute(stmt, rows)


def postpone(session: Session, item_type: str, item_id: int, staff_id: int, until: datetime) -> int:
    """Snooze: this person's unsent reminders of this item wait until `until`."""
    result = session.connection().execute(
        update(_OUTBOX)
        .where(
            _OUTBOX.c.item_type == item_type,
            _OUTBOX.c.item_id == item_id,
            _OUTBOX.c.staff_id == staff_id,
            _OUTBOX.c.status.in_((PENDING, SENDING)),
            _OUTBOX.c.send_after < until,
        )
        .values(status=PENDING, send_after=until, claimed_by=None, lease_until=None)
    )
    return int(result.rowcount)


def snoozed_until(
    session: Session, pairs: Iterable[tuple[int, int]], now: datetime
) -> dict[tuple[int, int], datetime]:
    """For (deadline id, staff id) pairs: the end of a running snooze, if any."""
    out: dict[tuple[int, int], datetime] = {}
    wanted = set(pairs)
    if not wanted:
        return out
    deadline_ids = sorted({d for d, _ in wanted})
    for item_id, staff_id, until in session.execute(
        select(_OUTBOX.c.item_id, _OUTBOX.c.staff_id, _OUTBOX.c.send_after).where(
            _OUTBOX.c.item_type == "deadline",
            _OUTBOX.c.item_id.in_(deadline_ids),
            _OUTBOX.c.stage.like("snz:%"),
            _OUTBOX.c.status == PENDING,
            _OUTBOX.c.send_after > now,
        )
    ):
        key = (item_id, staff_id)
        if key in wanted:
            out[key] = max(until, out.get(key, until))
    return out


def counts_by_status(session: Session) -> dict[str, int]:
    return {
        status: int(n)
        for status, n in session.execute(
            select(_OUTBOX.c.status, func.count()).group_by(_OUTBOX.c.status)
        )
    }


def pending_or_sending(session: Session) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(_OUTBOX)
            .where(or_(_OUTBOX.c.status == PENDING, _OUTBOX.c.status == SENDING))
        ).scalar_one()
    )


def entries_for(session: Session, *where: Any) -> list[OutboxEntry]:
    query = sm_select(OutboxEntry).order_by(col(OutboxEntry.id))
    if where:
        query = query.where(and_(*where))
    return list(session.exec(query).all())
