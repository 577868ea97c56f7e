"""A third messenger for the tests (issue 17): this one file plus one line in the table of
`bot/messengers.py` make it a messenger of `koopbot run` and of the reminder engine.

Its chat takes lines from `WIRE.inbox` and answers through the core, as the Telegram and
Matrix adapters do; its outgoing side keeps what the reminder engine sends. `None` in the
inbox ends the chat (and so `run_services`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.app import App, MessengerKind
from bot.messages import Incoming, Reply, Sender
from scheduler.ports import Recipient

TRANSPORT = "echo"


@dataclass
class Sent:
    recipient: Recipient
    reply: Reply
    key: str


@dataclass
class Wire:
    inbox: asyncio.Queue[tuple[str, str] | None] = field(default_factory=asyncio.Queue)
    answers: list[tuple[str, Reply]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)


WIRE = Wire()


class EchoMessenger:
    transport = TRANSPORT
    max_chars = 1000

    async def send(self, recipient: Recipient, reply: Reply, *, idempotency_key: str) -> None:
        WIRE.sent.append(Sent(recipient, reply, idempotency_key))


async def chat(app: App) -> None:
    while (line := await WIRE.inbox.get()) is not None:
        user, text = line
        incoming = Incoming(Sender(TRANSPORT, user), chat_id=user, text=text)
        WIRE.answers.append((user, await asyncio.to_thread(app.bot.handle, incoming)))


async def outgoing(app: App) -> EchoMessenger:
    return EchoMessenger()


MESSENGER = MessengerKind(chat, outgoing)
