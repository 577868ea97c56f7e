"""A Messenger that prints reminders to the console and the log (until a chat adapter runs)."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from bot.messages import Reply
from scheduler.ports import Recipient

log = logging.getLogger(__name__)


class LogMessenger:
    """`scheduler.ports.Messenger` for the `console` transport: writes the reminder to a stream."""

    max_chars = 4096

    def __init__(self, transport: str = "console", stream: TextIO | None = None) -> None:
        self.transport = transport
        self.stream = stream or sys.stdout

    async def send(self, recipient: Recipient, message: Reply, *, idempotency_key: str) -> None:
        """Print `message` addressed to the console user; buttons become their commands."""
        buttons = "".join(f"\n  [{b.label}: {b.command}]" for b in message.buttons)
        self.stream.write(f"\n🔔 an {recipient.external_id}:\n{message.text}{buttons}\n")
        self.stream.flush()
        # Only ids in the log: the text carries case codes and belongs to the chat alone.
        log.info("reminder %s shown to staff %s", idempotency_key, recipient.staff_id)
