"""What the reminder engine needs from outside, as protocols of its own (issue 17).

The engine decides what is due, for whom, in which message and when; a `Renderer` turns that
into text and a `Messenger` delivers it. Both are built by the composition root
(`bot/runner.py`), so nothing here knows Telegram, Matrix or German. A message is opaque
to the engine: whatever the renderer makes, the messenger sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from sqlmodel import Session

from storage.models.ag78 import AgSession
from storage.models.cases import Case, Deadline, Meeting
from storage.models.outbox import OutboxEntry
from storage.models.staff import Staff

M = TypeVar("M")  # a rendered message
M_contra = TypeVar("M_contra", contravariant=True)
T = TypeVar("T")


class FailureKind(StrEnum):
    blocked = "blocked"  # the person blocked the bot or left the direct chat
    unknown_user = "unknown_user"  # no such account / no chat with the bot yet
    rate_limited = "rate_limited"  # the messenger asks us to wait (retry_after seconds)
    network = "network"  # timeouts, connection errors, 5xx: try again later


class DeliveryError(Exception):
    """A send that did not reach the person, with the reason and when to retry."""

    def __init__(self, kind: FailureKind, detail: str = "", retry_after: float | None = None):
        super().__init__(f"{kind.value}: {detail}" if detail else kind.value)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class Recipient:
    """A staff member on one messenger: the stable user id stored at registration."""

    staff_id: int
    transport: str
    external_id: str


class Messenger(Protocol[M_contra]):
    """Sends a message to one person in a direct chat; raises DeliveryError on failure.

    `idempotency_key` is stable across retries of the same delivery, so transports that
    support it (Matrix transaction ids) never post twice. `max_chars` is the longest text
    one message may carry; the engine has longer ones rendered in parts.
    """

    @property
    def transport(self) -> str: ...

    @property
    def max_chars(self) -> int: ...

    async def send(
        self, recipient: Recipient, message: M_contra, /, *, idempotency_key: str
    ) -> None: ...


@dataclass(frozen=True)
class Line:
    """One thing to remind of, as rendered; `deadline_id` asks for its done/snooze choices."""

    text: str
    deadline_id: int | None = None


@dataclass(frozen=True)
class RowMessage(Generic[T]):
    """A message an outbox row stands for alone; `kind` other than "main" keeps it apart
    from the person's other reminders (pages, handovers, notices to the ASD)."""

    message: T
    kind: str = "main"


class Renderer(Protocol[M]):
    """Turns what is due into messages (the German texts of `bot/reminder_render.py`)."""

    def deadline_line(
        self,
        deadline: Deadline,
        case: Case | None,
        today: date,
        *,
        escalation: bool,
        responsible: Staff | None,
    ) -> Line: ...

    def meeting_line(self, meeting: Meeting, case: Case, starts: datetime, today: date) -> Line: ...

    def session_line(self, ag_session: AgSession, starts: datetime, today: date) -> Line: ...

    def undeliverable_line(self, staff: Staff, reason: str) -> Line: ...

    def reminder(self, lines: list[Line], *, late: bool, now: datetime, limit: int) -> M: ...

    def digest(
        self,
        rows: list[tuple[Deadline, str | None]],
        more: int,
        *,
        week_start: date,
        today: date,
        late: bool,
    ) -> M: ...

    def row_message(
        self, session: Session, row: OutboxEntry, now: datetime
    ) -> RowMessage[M] | None:
        """The message of any other row (hours alerts, on-call, notices); None: no longer
        needed (the row is cancelled)."""
        ...

    def parts(self, messages: list[M], limit: int) -> list[M]:
        """`messages` as one message, in parts of at most `limit` characters."""
        ...
