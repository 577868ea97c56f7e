"""What the Matrix adapter remembers between runs: handled events, deadlines on sent messages,
and the sync position.

An incoming event gets one row whose `event_id` is unique. `pending` keeps an undecryptable
event until its room key arrives; `answering` holds the rendered answer from the moment the
command committed (in the same transaction where it can) until the send succeeded;
`answered` and `ignored` are final. So a crash at any point either re-sends the stored answer
under the same transaction id or finds the event done, and never runs a command twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from storage.models.matrix import MatrixEvent, MatrixSentDeadline, MatrixSyncPosition


class EventStatus(StrEnum):
    pending = "pending"  # undecryptable; the room key is requested
    answering = "answering"  # the answer is decided and stored, the send not yet confirmed
    answered = "answered"
    ignored = "ignored"  # decrypted at last, but nothing to answer (talk among people)


FINAL = frozenset({EventStatus.answered, EventStatus.ignored})


@dataclass(frozen=True)
class HandledEvent:
    event_id: str
    room_id: str
    sender: str
    status: EventStatus
    encrypted: dict[str, Any] | None
    answer: dict[str, Any] | None
    notice_sent: bool


@dataclass(frozen=True)
class SentDeadline:
    event_id: str
    deadline_id: int
    room_id: str
    for_user: str
    thread_root: str | None


def _view(row: MatrixEvent) -> HandledEvent:
    return HandledEvent(
        event_id=row.event_id,
        room_id=row.room_id,
        sender=row.sender,
        status=EventStatus(row.status),
        encrypted=None if row.encrypted is None else json.loads(row.encrypted),
        answer=None if row.answer is None else json.loads(row.answer),
        notice_sent=row.notice_sent,
    )


def _row(session: Session, event_id: str) -> MatrixEvent | None:
    return session.exec(select(MatrixEvent).where(MatrixEvent.event_id == event_id)).first()


def known(session: Session, event_ids: Iterable[str]) -> dict[str, HandledEvent]:
    """The rows of these events that exist, by event id (one query for a whole sync batch)."""
    wanted = list(dict.fromkeys(event_ids))
    found: dict[str, HandledEvent] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.exec(select(MatrixEvent).where(col(MatrixEvent.event_id).in_(chunk)))
        found.update((row.event_id, _view(row)) for row in rows)
    return found


def remember_pending(
    session: Session,
    *,
    event_id: str,
    room_id: str,
    sender: str,
    encrypted: dict[str, Any],
    now: datetime,
) -> None:
    """Keep an undecryptable event until its key arrives (no-op if the event is known)."""
    if _row(session, event_id) is not None:
        return
    session.add(
        MatrixEvent(
            event_id=event_id,
            room_id=room_id,
            sender=sender,
            status=EventStatus.pending,
            encrypted=json.dumps(encrypted),
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()


def mark_answering(
    session: Session,
    *,
    event_id: str,
    room_id: str,
    sender: str,
    answer: dict[str, Any],
    now: datetime,
) -> None:
    """Store the answer to send; from here on the event is never run again."""
    row = _row(session, event_id)
    if row is None:
        row = MatrixEvent(
            event_id=event_id,
            room_id=room_id,
            sender=sender,
            status="",
            created_at=now,
            updated_at=now,
        )
    row.status, row.answer, row.encrypted, row.updated_at = (
        EventStatus.answering,
        json.dumps(answer),
        None,
        now,
    )
    session.add(row)
    session.flush()


def mark_answered(
    session: Session,
    event_id: str,
    *,
    answer_event_id: str,
    now: datetime,
    deadlines: Sequence[SentDeadline] = (),
) -> None:
    """The answer is on the server; its text is dropped here (it lives in the chat)."""
    row = _row(session, event_id)
    if row is None:
        raise LookupError(f"matrix event {event_id} was never recorded")
    row.status, row.answer, row.answer_event_id, row.updated_at = (
        EventStatus.answered,
        None,
        answer_event_id,
        now,
    )
    session.add(row)
    record_sent_deadlines(session, deadlines, now)


def mark_ignored(
    session: Session, *, event_id: str, room_id: str, sender: str, now: datetime
) -> None:
    row = _row(session, event_id) or MatrixEvent(
        event_id=event_id,
        room_id=room_id,
        sender=sender,
        status="",
        created_at=now,
        updated_at=now,
    )
    row.status, row.encrypted, row.answer, row.updated_at = EventStatus.ignored, None, None, now
    session.add(row)


def mark_notice_sent(session: Session, event_ids: Iterable[str], now: datetime) -> None:
    for event_id in event_ids:
        row = _row(session, event_id)
        if row is not None:
            row.notice_sent, row.updated_at = True, now
            session.add(row)


def unfinished(session: Session) -> list[HandledEvent]:
    """Events still waiting for a key or for their answer to be confirmed, oldest first."""
    rows = session.exec(
        select(MatrixEvent)
        .where(col(MatrixEvent.status).in_([EventStatus.pending, EventStatus.answering]))
        .order_by(col(MatrixEvent.id))
    )
    return [_view(row) for row in rows]


def record_sent_deadlines(
    session: Session, deadlines: Sequence[SentDeadline], now: datetime
) -> None:
    """Remember which deadlines a sent message carries (idempotent: a resend adds nothing)."""
    if not deadlines:
        return
    have = {
        (row.event_id, row.deadline_id)
        for row in session.exec(
            select(MatrixSentDeadline).where(
                col(MatrixSentDeadline.event_id).in_({d.event_id for d in deadlines})
            )
        )
    }
    for d in deadlines:
        if (d.event_id, d.deadline_id) in have:
            continue
        have.add((d.event_id, d.deadline_id))
        session.add(
            MatrixSentDeadline(
                event_id=d.event_id,
                deadline_id=d.deadline_id,
                room_id=d.room_id,
                for_user=d.for_user,
                thread_root=d.thread_root,
                created_at=now,
            )
        )


def sent_deadlines(session: Session, event_id: str) -> list[SentDeadline]:
    """The deadlines a message koopbot sent carries, in deadline order."""
    rows = session.exec(
        select(MatrixSentDeadline)
        .where(MatrixSentDeadline.event_id == event_id)
        .order_by(col(MatrixSentDeadline.deadline_id))
    )
    return [
        SentDeadline(r.event_id, r.deadline_id, r.room_id, r.for_user, r.thread_root) for r in rows
    ]


def sync_position(session: Session, user_id: str) -> str | None:
    row = session.get(MatrixSyncPosition, user_id)
    return None if row is None else row.next_batch


def save_sync_position(session: Session, user_id: str, next_batch: str, now: datetime) -> None:
    row = session.get(MatrixSyncPosition, user_id)
    if row is None:
        row = MatrixSyncPosition(user_id=user_id, next_batch=next_batch, updated_at=now)
    row.next_batch, row.updated_at = next_batch, now
    session.add(row)
