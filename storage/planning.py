"""Which deadlines, meetings and sessions need their reminders planned, and their next look."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlmodel import Session, SQLModel, col

from config.enums import DeadlineStatus
from storage.models.ag78 import AgSession
from storage.models.cases import Deadline, Meeting
from storage.outbox import CANCELLED, PENDING, is_postgres

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # reminder_at meaning "plan this row now"

_TABLES: dict[str, Table] = {
    "deadline": SQLModel.metadata.tables["deadline"],
    "meeting": SQLModel.metadata.tables["meeting"],
    "session": SQLModel.metadata.tables["ag_session"],
}
_OUTBOX = SQLModel.metadata.tables["reminder_outbox"]


@dataclass(frozen=True)
class DueItem:
    """A deadline, meeting or AG 78 session whose reminders need planning now."""

    item_type: str
    id: int
    reminder_at: datetime
    changed_at: datetime | None  # last change of its date or status, where the row knows it
    active: bool  # open deadline / meeting not cancelled, of an open case
    due: datetime | None  # meetings and sessions: start; deadlines: None (see `due_date`)
    due_date: Any  # a date for deadlines
    case_id: int | None
    organisation_id: int | None
    deadline_kind: str | None


def due_items(session: Session, item_type: str, now: datetime, limit: int) -> list[DueItem]:
    """Rows whose reminder_at has come, oldest first; on PostgreSQL locked against other sweeps."""
    if item_type == "deadline":
        query: Any = (
            select(
                col(Deadline.id),
                col(Deadline.reminder_at),
                col(Deadline.updated_at),
                col(Deadline.status),
                col(Deadline.due),
                col(Deadline.case_id),
                col(Deadline.organisation_id),
                col(Deadline.kind),
            )
            .where(col(Deadline.reminder_at) <= now)
            .order_by(col(Deadline.reminder_at))
            .limit(limit)
        )
    elif item_type == "meeting":
        query = (
            select(
                col(Meeting.id),
                col(Meeting.reminder_at),
                func.coalesce(col(Meeting.updated_at), col(Meeting.created_at)),
                col(Meeting.cancelled),
                col(Meeting.starts_at),
                col(Meeting.case_id),
            )
            .where(col(Meeting.reminder_at) <= now)
            .order_by(col(Meeting.reminder_at))
            .limit(limit)
        )
    else:
        query = (
            select(
                col(AgSession.id),
                col(AgSession.reminder_at),
                col(AgSession.updated_at),
                col(AgSession.cancelled),
                col(AgSession.starts_at),
            )
            .where(col(AgSession.reminder_at) <= now)
            .order_by(col(AgSession.reminder_at))
            .limit(limit)
        )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=_TABLES[item_type])
    items: list[DueItem] = []
    for row in session.execute(query):
        if item_type == "deadline":
            items.append(
                DueItem(
                    "deadline",
                    row[0],
                    row[1],
                    row[2],
                    row[3] == DeadlineStatus.open or row[3] == "open",
                    None,
                    row[4],
                    row[5],
                    row[6],
                    str(row[7].value if hasattr(row[7], "value") else row[7]),
                )
            )
        elif item_type == "meeting":
            items.append(
                DueItem(
                    "meeting", row[0], row[1], row[2], not row[3], row[4], None, row[5], None, None
                )
            )
        else:
            items.append(
                DueItem(
                    "session", row[0], row[1], row[2], not row[3], row[4], None, None, None, None
                )
            )
    return items


def set_reminder_at(
    session: Session, item_type: str, changes: Sequence[tuple[int, datetime, datetime | None]]
) -> None:
    """Store each item's next look (id, the value read, the new value).

    Compare-and-set: a row whose date or status changed since it was read (its trigger put
    the epoch back) keeps that value, so the next sweep plans it again from fresh data.
    """
    if not changes:
        return
    table = _TABLES[item_type]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.reminder_at == bindparam("b_old"))
        .values(reminder_at=bindparam("b_new"))
        .execution_options(synchronize_session=False)
    )
    session.connection().execute(
        stmt, [{"b_id": i, "b_old": old, "b_new": new} for i, old, new in changes]
    )


def replan_case(session: Session, case_id: int, now: datetime) -> int:
    """After a case changes hands: reminders planned ahead for its open deadlines and planned
    meetings are cancelled and planned again, for whoever is responsible now; the count.

    Only rows whose stage is still to come are withdrawn (the sweep plans stages after `now`
    again); one that has already fired and waits for office hours goes out as planned.
    """
    deadlines = _TABLES["deadline"]
    meetings = _TABLES["meeting"]
    deadline_ids = select(deadlines.c.id).where(
        deadlines.c.case_id == case_id, deadlines.c.status == DeadlineStatus.open
    )
    meeting_ids = select(meetings.c.id).where(
        meetings.c.case_id == case_id, meetings.c.cancelled.is_(False)
    )
    withdrawn = session.connection().execute(
        update(_OUTBOX)
        .where(
            _OUTBOX.c.status == PENDING,
            _OUTBOX.c.fire_at > now,
            or_(
                and_(_OUTBOX.c.item_type == "deadline", _OUTBOX.c.item_id.in_(deadline_ids)),
                and_(_OUTBOX.c.item_type == "meeting", _OUTBOX.c.item_id.in_(meeting_ids)),
            ),
        )
        .values(status=CANCELLED)
    )
    for table, ids in ((deadlines, deadline_ids), (meetings, meeting_ids)):
        session.connection().execute(
            update(table).where(table.c.id.in_(ids)).values(reminder_at=now)
        )
    return int(withdrawn.rowcount or 0)
