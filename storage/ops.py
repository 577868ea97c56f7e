"""What operations reads at scrape time (issue 16): the outbox by state and transport, and the
rows that are due but not sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, or_, select
from sqlmodel import Session

from storage.models.outbox import OutboxEntry
from storage.models.staff import MessengerIdentity
from storage.outbox import PENDING, SENDING

_OUTBOX: Table = OutboxEntry.__table__  # type: ignore[attr-defined]
_IDENTITY: Table = MessengerIdentity.__table__  # type: ignore[attr-defined]
# Sent and cancelled rows are history (the send counters count them); counting them on every
# scrape would cost time that grows with the years.
OPEN_STATES = (PENDING, SENDING, "failed")
# Failures of the messenger as a whole; blocked and unknown people are their own problem.
MESSENGER_ERRORS = ("network",)


@dataclass(frozen=True)
class Retrying:
    """A row whose send failed for a messenger-wide reason and waits for its next attempt."""

    item_type: str
    fire_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class OutboxSnapshot:
    rows: dict[tuple[str, str], int]  # (state, transport of the recipient) -> rows
    # The earliest send_after of rows due now that nobody is sending: urgent ones (pages,
    # which go out also at night) and the others (which wait for the sending window).
    oldest_urgent: datetime | None
    oldest_other: datetime | None
    retrying: list[Retrying]  # oldest first, at most `limit`


def outbox_snapshot(
    session: Session,
    now: datetime,
    urgent_types: Sequence[str],
    *,
    counts: bool = True,
    limit: int = 200,
) -> OutboxSnapshot:
    """The transport of an unsent row is its recipient's newest account. The counts cost the
    most (a join over every open row, ~0.4 s at 100,000 on SQLite): /readyz goes without."""
    newest = (
        select(_IDENTITY.c.staff_id, func.max(_IDENTITY.c.id).label("id"))
        .group_by(_IDENTITY.c.staff_id)
        .subquery()
    )
    transport = func.coalesce(_OUTBOX.c.transport, _IDENTITY.c.transport, "none")
    found: Any = (
        []
        if not counts
        else session.execute(
            select(_OUTBOX.c.status, transport, func.count())
            .select_from(
                _OUTBOX.outerjoin(newest, newest.c.staff_id == _OUTBOX.c.staff_id).outerjoin(
                    _IDENTITY, _IDENTITY.c.id == newest.c.id
                )
            )
            .where(_OUTBOX.c.status.in_(OPEN_STATES))
            .group_by(_OUTBOX.c.status, transport)
        )
    )
    rows = {(str(status), str(name)): int(n) for status, name, n in found} if counts else {}
    # Pending rows due now, and rows whose sender's lease ran out: both wait for a dispatcher.
    due = (
        _OUTBOX.c.status.in_((PENDING, SENDING)),
        _OUTBOX.c.send_after <= now,
        or_(_OUTBOX.c.status == SENDING, _OUTBOX.c.attempts == 0),
    )
    urgent = _OUTBOX.c.item_type.in_(list(urgent_types))
    # Pages are few: found through the outbox key's index (item_type first). `status || ''`
    # keeps SQLite from walking every due row of the status index instead (100 ms -> 0.1 ms
    # at 100,000 pending rows).
    oldest_urgent = session.execute(
        select(func.min(_OUTBOX.c.send_after)).where(
            urgent,
            (_OUTBOX.c.status + "").in_((PENDING, SENDING)),
            _OUTBOX.c.send_after <= now,
            or_(_OUTBOX.c.status == SENDING, _OUTBOX.c.attempts == 0),
        )
    ).scalar_one_or_none()
    oldest_other = session.execute(
        select(func.min(_OUTBOX.c.send_after)).where(*due, ~urgent)
    ).scalar_one_or_none()
    retrying = [
        Retrying(item_type, fire_at, created_at)
        for item_type, fire_at, created_at in session.execute(
            select(_OUTBOX.c.item_type, _OUTBOX.c.fire_at, _OUTBOX.c.created_at)
            .where(
                and_(
                    # also while a retry is in flight: until it is marked sent, it is not
                    _OUTBOX.c.status.in_((PENDING, SENDING)),
                    _OUTBOX.c.attempts > 0,
                    _OUTBOX.c.last_error.in_(MESSENGER_ERRORS),
                )
            )
            .order_by(_OUTBOX.c.fire_at)
            .limit(limit)
        )
    ]
    return OutboxSnapshot(rows, oldest_urgent, oldest_other, retrying)


def database_answers(session: Session) -> None:
    """Raises unless the database answers."""
    session.execute(select(1)).scalar_one()
