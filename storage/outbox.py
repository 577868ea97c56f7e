"""The reminder outbox: the sweep's reads and writes, claiming rows for sending, and their fate.

The outbox key (item_type, item_id, stage, staff_id) is unique, so a reminder is written once
however many sweeps (processes, retries after a crash) find it due. Claiming rows for
sending, with leases, lives in `storage.delivery` (at-least-once; see README "Reminders").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sm_select

from config.enums import CaseStatus, DeadlineStatus, Role
from storage.models import (
    AgSession,
    Case,
    Deadline,
    Meeting,
    MessengerIdentity,
    OutboxEntry,
    Staff,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # reminder_at meaning "plan this row now"

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"

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


@dataclass(frozen=True)
class NewEntry:
    item_type: str
    item_id: int
    stage: str
    staff_id: int
    fire_at: datetime
    send_after: datetime


@dataclass(frozen=True)
class CaseParties:
    provider_staff_id: int | None
    asd_staff_id: int | None
    provider_org_id: int
    jugendamt_org_id: int
    open: bool


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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


def case_parties(session: Session, case_ids: Iterable[int]) -> dict[int, CaseParties]:
    ids = sorted(set(case_ids))
    out: dict[int, CaseParties] = {}
    for chunk in _chunks(ids, 500):
        for row in session.execute(
            select(
                col(Case.id),
                col(Case.provider_staff_id),
                col(Case.asd_staff_id),
                col(Case.provider_org_id),
                col(Case.jugendamt_org_id),
                col(Case.status),
            ).where(col(Case.id).in_(chunk))
        ):
            out[row[0]] = CaseParties(row[1], row[2], row[3], row[4], row[5] == CaseStatus.open)
    return out


def active_staff(session: Session, staff_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(staff_ids))
    active: set[int] = set()
    for chunk in _chunks(ids, 500):
        active.update(
            session.execute(
                select(col(Staff.id)).where(col(Staff.id).in_(chunk), col(Staff.active).is_(True))
            ).scalars()
        )
    return active


def coordinators(session: Session, org_ids: Iterable[int]) -> dict[int, list[int]]:
    """Active coordinators by organisation."""
    ids = sorted(set(org_ids))
    out: dict[int, list[int]] = {i: [] for i in ids}
    if not ids:
        return out
    for staff_id, org_id in session.execute(
        select(col(Staff.id), col(Staff.organisation_id))
        .where(
            col(Staff.organisation_id).in_(ids),
            col(Staff.role) == Role.coordinator,
            col(Staff.active).is_(True),
        )
        .order_by(col(Staff.id))
    ):
        out[org_id].append(staff_id)
    return out


def all_coordinators(session: Session) -> list[int]:
    return list(
        session.execute(
            select(col(Staff.id)).where(
                col(Staff.role) == Role.coordinator, col(Staff.active).is_(True)
            )
        ).scalars()
    )


def all_active_staff(session: Session) -> list[int]:
    return list(session.execute(select(col(Staff.id)).where(col(Staff.active).is_(True))).scalars())


def staff_with_identity(session: Session) -> list[int]:
    """Active staff that registered at least one messenger account (digest recipients)."""
    return list(
        session.execute(
            select(col(Staff.id))
            .where(
                col(Staff.active).is_(True),
                col(Staff.id).in_(select(col(MessengerIdentity.staff_id))),
            )
            .order_by(col(Staff.id))
        ).scalars()
    )


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


def identities(
    session: Session, staff_ids: Iterable[int], transports: Sequence[str]
) -> dict[int, tuple[str, str]]:
    """Each person's most recently registered account on one of `transports`."""
    ids = sorted(set(staff_ids))
    out: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(ids, 500):
        for staff_id, transport, external_id in session.execute(
            select(
                col(MessengerIdentity.staff_id),
                col(MessengerIdentity.transport),
                col(MessengerIdentity.external_id),
            )
            .where(
                col(MessengerIdentity.staff_id).in_(chunk),
                col(MessengerIdentity.transport).in_(list(transports)),
            )
            .order_by(col(MessengerIdentity.id))
        ):
            out[staff_id] = (transport, external_id)  # later rows win: the newest account
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


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
