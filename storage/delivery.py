"""Claiming outbox rows for sending, per person, with leases on the database clock (issue 11).

A claim takes every due row of a person at once (across batches and processes), so one
person gets one message per dispatch round. A claim holds until `lease_until`, seconds since
the epoch on the *database's* clock (process clocks may differ or be injected in tests); the
dispatcher renews it while it sends, so it lapses only when its process died. Every write that
settles a row is fenced by the claim token: an update matching no row means the claim was lost.
A row keeps the `send_key` of the claim it was first sent under, so its retry after a crash
uses the same idempotency key (Matrix transaction id) and is retried before anything new.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_, select, text, update
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sm_select

from storage.models.outbox import OutboxEntry

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"

_OUTBOX = SQLModel.metadata.tables["reminder_outbox"]
_PERSON_LOCK = 11  # first key of the advisory locks that make a person's claim exclusive


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def db_clock(session: Session) -> Any:
    """The database's current time as epoch seconds (a SQL expression)."""
    if is_postgres(session):
        return literal_column("extract(epoch from clock_timestamp())")
    return literal_column("((julianday('now') - 2440587.5) * 86400.0)")


def db_now(session: Session) -> float:
    return float(session.execute(select(db_clock(session))).scalar_one())


def new_claim_token() -> str:
    return secrets.token_hex(8)


def _due(session: Session, now: datetime) -> Any:
    lease = _OUTBOX.c.lease_until
    return or_(
        and_(_OUTBOX.c.status == PENDING, _OUTBOX.c.send_after <= now),
        and_(_OUTBOX.c.status == SENDING, or_(lease.is_(None), lease <= db_clock(session))),
    )


def claim(
    session: Session,
    *,
    now: datetime,
    lease_seconds: float,
    token: str,
    people: int,
    item_types: Sequence[str] | None = None,
) -> list[OutboxEntry]:
    """Claim every due row of up to `people` persons (pending, or sending with a lapsed lease).

    Interrupted rows first, then the oldest. PostgreSQL: a person is taken under a
    transaction-level advisory lock, so two processes never claim rows of the same person in
    one round; SQLite has one writer, and one scheduler per file.
    """
    due = _due(session, now)
    if item_types is not None:  # quiet hours: only what may wake people (pages, issue 6)
        due = and_(due, _OUTBOX.c.item_type.in_(list(item_types)))
    first = case((_OUTBOX.c.status == SENDING, 0), else_=1)
    candidates = session.execute(
        select(_OUTBOX.c.staff_id, func.min(first), func.min(_OUTBOX.c.send_after))
        .where(due)
        .group_by(_OUTBOX.c.staff_id)
        .order_by(func.min(first), func.min(_OUTBOX.c.send_after), _OUTBOX.c.staff_id)
        .limit(people * 2 if is_postgres(session) else people)
    ).all()
    staff_ids = [row[0] for row in candidates]
    if is_postgres(session):
        locked = [
            staff_id
            for staff_id in staff_ids
            if session.execute(
                text("SELECT pg_try_advisory_xact_lock(:k, :s)"), {"k": _PERSON_LOCK, "s": staff_id}
            ).scalar_one()
        ]
        staff_ids = locked[:people]
    if not staff_ids:
        return []
    stmt = (
        update(_OUTBOX)
        .where(_OUTBOX.c.staff_id.in_(staff_ids), due)
        .values(
            status=SENDING,
            claimed_by=token,
            lease_until=db_clock(session) + lease_seconds,
            send_key=func.coalesce(_OUTBOX.c.send_key, token),
        )
        .returning(_OUTBOX.c.id)
    )
    ids = list(session.connection().execute(stmt).scalars())
    if not ids:
        return []
    rows = session.exec(
        sm_select(OutboxEntry).where(col(OutboxEntry.id).in_(ids)).order_by(col(OutboxEntry.id))
    ).all()
    return list(rows)


def renew(session: Session, token: str, lease_seconds: float) -> int:
    """Extend the lease of every row still claimed by `token`; the number of rows."""
    result = session.connection().execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.claimed_by == token, _OUTBOX.c.status == SENDING)
        .values(lease_until=db_clock(session) + lease_seconds)
    )
    return int(result.rowcount or 0)


def finish(
    session: Session,
    ids: Sequence[int],
    token: str,
    *,
    status: str,
    now: datetime,
    late: bool = False,
    transport: str | None = None,
    error: str | None = None,
) -> int:
    """Settle claimed rows as sent, failed or cancelled; the number settled. Rows claimed by
    someone else (the claim was lost) stay as they are."""
    if not ids:
        return 0
    values: dict[str, Any] = {"status": status, "last_error": error, "lease_until": None}
    if status == SENT:
        values.update(sent_at=now, late=late, transport=transport)
    return _update_claimed(session, ids, token, values)


def retry_later(
    session: Session,
    ids: Sequence[int],
    token: str,
    *,
    send_after: datetime,
    count_attempt: bool,
    error: str | None,
    keep_key: bool = False,
) -> int:
    """Put claimed rows back as pending for a later attempt. `keep_key`: the send may have
    arrived (a timeout), so its retry keeps the idempotency key."""
    if not ids:
        return 0
    values: dict[str, Any] = {
        "status": PENDING,
        "send_after": send_after,
        "last_error": error,
        "lease_until": None,
    }
    if not keep_key:
        values["send_key"] = None
    if count_attempt:
        values["attempts"] = _OUTBOX.c.attempts + 1
    return _update_claimed(session, ids, token, values)


def _update_claimed(
    session: Session, ids: Sequence[int], token: str, values: dict[str, Any]
) -> int:
    """Update the rows of `ids` that still carry this claim (fenced); how many did."""
    result = session.connection().execute(
        update(_OUTBOX)
        .where(
            _OUTBOX.c.id.in_(list(ids)),
            _OUTBOX.c.claimed_by == token,
            _OUTBOX.c.status == SENDING,
        )
        .values(**values)
    )
    return int(result.rowcount or 0)
