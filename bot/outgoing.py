"""The outgoing side of a messenger, as the reminder engine and paging use it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.messages import Reply


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


class Messenger(Protocol):
    """Sends a Reply to one person in a direct chat; raises DeliveryError on failure.

    `idempotency_key` is stable across retries of the same delivery, so transports that
    support it (Matrix transaction ids) never post twice.
    """

    transport: str

    async def send(self, recipient: Recipient, reply: Reply, *, idempotency_key: str) -> None: ...
