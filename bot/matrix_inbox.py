"""Incoming Matrix events: commands, edits, reactions and undecryptable messages, each
answered exactly once.

The protocol (rows in `storage.matrix_events`): a command's answer is stored as `answering`
in the command's own transaction, then sent under a transaction id derived from the event,
then marked `answered`. A crash before the commit leaves nothing (the event runs again), one
after it re-sends the stored answer, which the server deduplicates by the transaction id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from nio import AsyncClient, MatrixRoom, MegolmEvent, ReactionEvent, RoomMessageText
from sqlmodel import Session

from bot import matrix_texts
from bot.core import Bot
from bot.matrix_keys import KeyRecovery
from bot.matrix_render import (
    DONE_KEYS,
    SNOOZE_KEYS,
    Relation,
    command_text,
    deadline_ids,
    relation,
    relation_of,
    render,
    reply_tx_id,
)
from bot.matrix_rooms import RoomDirectory
from bot.matrix_send import Answer, MatrixSender, MatrixStats
from bot.messages import Incoming, Reply, Sender
from bot.outgoing import DeliveryError, FailureKind
from storage import matrix_events as store
from storage.matrix_events import FINAL, EventStatus, HandledEvent, SentDeadline

log = logging.getLogger(__name__)

TRANSPORT = "matrix"
T = TypeVar("T")


class Inbox:
    """Turns one room's new events into answers; owns the exactly-once bookkeeping."""

    def __init__(
        self,
        *,
        bot: Bot,
        client: Callable[[], AsyncClient],
        user_id: str,
        rooms: RoomDirectory,
        sender: MatrixSender,
        keys: KeyRecovery,
        stats: MatrixStats,
        budget: int,
    ) -> None:
        self.bot = bot
        self._client = client
        self.user_id = user_id
        self.rooms = rooms
        self.sender = sender
        self.keys = keys
        self.stats = stats
        self.budget = budget
        self._undelivered: set[str] = set()

    def command_names(self) -> list[str]:
        return [n for cmd in self.bot.registry.commands for n in (cmd.name, *cmd.aliases)]

    # -- a batch of events -----------------------------------------------------------------------

    async def on_events(self, room: MatrixRoom, events: list[Any]) -> None:
        """Handle one room's events in timeline order; known ones are skipped or re-sent."""
        edits: dict[str, RoomMessageText] = {}
        for event in events:
            if isinstance(event, RoomMessageText) and event.sender != self.user_id:
                target = relation_of(event.source.get("content", {})).edit_of
                if target is not None:
                    edits[target] = event  # the latest edit wins
        ids = [e.event_id for e in events if getattr(e, "event_id", None)] + list(edits)
        known = await self._db(lambda s: store.known(s, ids))
        consumed: set[str] = set()
        for event in events:
            if getattr(event, "sender", self.user_id) == self.user_id:
                continue
            row = known.get(event.event_id)
            if row is not None and await self._finished(row):
                continue
            if isinstance(event, MegolmEvent):
                await self._undecryptable(room, event, row)
            elif isinstance(event, ReactionEvent):
                await self._reaction(room, event)
            elif isinstance(event, RoomMessageText):
                await self._message(room, event, row, known, edits, consumed)

    async def _finished(self, row: HandledEvent) -> bool:
        """True if nothing is left to do for this event (a stored answer is re-sent)."""
        if row.status in FINAL:
            return True
        if row.status is EventStatus.answering and row.answer is not None:
            await self._deliver(row.event_id, Answer.from_json(row.answer))
            return True
        return False  # pending: it may have become readable

    async def _message(
        self,
        room: MatrixRoom,
        event: RoomMessageText,
        row: HandledEvent | None,
        known: dict[str, HandledEvent],
        edits: dict[str, RoomMessageText],
        consumed: set[str],
    ) -> None:
        content = event.source.get("content", {})
        rel = relation_of(content)
        if rel.edit_of is not None:
            if event.event_id not in consumed:
                await self._edit(room, event, rel.edit_of, known.get(rel.edit_of))
            return
        text = command_text(content)
        newer = edits.get(event.event_id)
        if newer is not None and newer.sender == event.sender:
            # Edited before koopbot got to it: the edited text is the question.
            consumed.add(newer.event_id)
            text = command_text(newer.source.get("content", {}))
        await self._command(
            room, key=event.event_id, sender=event.sender, text=text, rel=rel, pending=row
        )

    async def _command(
        self,
        room: MatrixRoom,
        *,
        key: str,
        sender: str,
        text: str,
        rel: Relation,
        pending: HandledEvent | None,
    ) -> None:
        self.keys.forget(key)
        private = self.rooms.is_private(room, sender)
        if not private and not text.startswith(("!", "/")):
            if pending is not None:  # was undecryptable; turned out to be talk among people
                await self._db(lambda s: store.mark_ignored(s, **self._who(key, room, sender)))
            return
        incoming = Incoming(
            sender=Sender(TRANSPORT, sender, room.user_name(sender)),
            chat_id=room.room_id,
            text=text,
            private=private,
        )
        await self.answer(incoming, key=key, thread_root=rel.thread_root, reply_to=key)

    async def _edit(
        self, room: MatrixRoom, event: RoomMessageText, target: str, row: HandledEvent | None
    ) -> None:
        if row is None:
            row = (await self._db(lambda s: store.known(s, [target]))).get(target)
        author, original = await self._original(room.room_id, target)
        if (row.sender if row is not None else author) not in (None, event.sender):
            return  # only the author may edit a message
        text = command_text(event.source.get("content", {}))
        if row is not None and row.status in (EventStatus.answered, EventStatus.answering):
            if self.rooms.is_private(room, event.sender) or text.startswith(("!", "/")):
                await self.notice(
                    room.room_id,
                    key=event.event_id,
                    for_user=event.sender,
                    text=matrix_texts.EDIT_OF_ANSWERED,
                    reply_to=target,
                    thread_root=original.thread_root,
                )
            return
        # Not answered yet (undecryptable, or no command before): the edit is the question.
        await self._command(
            room, key=target, sender=event.sender, text=text, rel=original, pending=row
        )

    async def _original(self, room_id: str, event_id: str) -> tuple[str | None, Relation]:
        """Author and thread of an edited message (both readable while it is encrypted)."""
        resp = await self._client().room_get_event(room_id, event_id)
        event = getattr(resp, "event", None)
        if event is None:
            return None, Relation()
        return event.sender, relation_of(event.source.get("content", {}))

    async def _reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        key = event.key.replace("\ufe0f", "")
        snooze = key in SNOOZE_KEYS
        if not snooze and key not in DONE_KEYS:
            return  # 👍 and friends
        targets = await self._db(lambda s: store.sent_deadlines(s, event.reacts_to))
        if not targets:
            return
        first = targets[0]
        numbers = [t.deadline_id for t in targets]
        reply_to, thread = event.reacts_to, first.thread_root
        if event.sender != first.for_user:
            text = matrix_texts.REACTION_NOT_YOURS
        elif len(numbers) > 1:
            text = matrix_texts.reaction_ambiguous(numbers, snooze=snooze)
        else:
            command = f"/spaeter {numbers[0]} 1" if snooze else f"/erledigt {numbers[0]}"
            incoming = Incoming(
                sender=Sender(TRANSPORT, event.sender, room.user_name(event.sender)),
                chat_id=room.room_id,
                text=command,
                private=self.rooms.is_private(room, event.sender),
            )
            await self.answer(incoming, key=event.event_id, thread_root=thread, reply_to=reply_to)
            return
        await self.notice(
            room.room_id,
            key=event.event_id,
            for_user=event.sender,
            text=text,
            reply_to=reply_to,
            thread_root=thread,
        )

    async def _undecryptable(
        self, room: MatrixRoom, event: MegolmEvent, row: HandledEvent | None
    ) -> None:
        await self._db(
            lambda s: store.remember_pending(
                s, **self._who(event.event_id, room, event.sender), encrypted=event.source
            )
        )
        self.keys.add(room.room_id, event, notice_sent=row is not None and row.notice_sent)
        await self.keys.request(event)

    # -- answers ---------------------------------------------------------------------------------

    async def answer(
        self, incoming: Incoming, *, key: str, thread_root: str | None, reply_to: str
    ) -> None:
        """Run a command through the core and send its answer, exactly once per `key`."""
        rel = relation(reply_to, thread_root)

        def work() -> Answer:
            stored: list[tuple[Reply, Answer]] = []

            def record(session: Session, reply: Reply) -> None:
                answer = self._answer(incoming, key, reply, rel, thread_root)
                store.mark_answering(
                    session,
                    **self._who_incoming(key, incoming),
                    answer=answer.to_json(),
                    now=self._now(),
                )
                stored.append((reply, answer))

            started = time.perf_counter()
            reply = self.bot.handle(incoming, record=record)
            self.stats.handle_seconds.append(time.perf_counter() - started)
            if stored and stored[0][0] is reply:
                return stored[0][1]
            # Nothing was written (a refusal, bad input, an error): record it on its own.
            answer = self._answer(incoming, key, reply, rel, thread_root)
            with self.bot.db.session() as session:
                store.mark_answering(
                    session,
                    **self._who_incoming(key, incoming),
                    answer=answer.to_json(),
                    now=self._now(),
                )
            return answer

        await self._deliver(key, await asyncio.to_thread(work))

    async def notice(
        self,
        room_id: str,
        *,
        key: str,
        for_user: str,
        text: str,
        reply_to: str,
        thread_root: str | None,
    ) -> None:
        """A short hint of the adapter's own (no command), exactly once per `key`."""
        answer = Answer(
            room_id=room_id,
            tx_id=reply_tx_id(key),
            content=render(
                Reply(text),
                self.command_names(),
                relates_to=relation(reply_to, thread_root),
                notice=True,
            ),
            for_user=for_user,
            thread_root=thread_root,
        )
        await self._db(
            lambda s: store.mark_answering(
                s,
                event_id=key,
                room_id=room_id,
                sender=for_user,
                answer=answer.to_json(),
                now=self._now(),
            )
        )
        await self._deliver(key, answer)

    def _answer(
        self,
        incoming: Incoming,
        key: str,
        reply: Reply,
        rel: dict[str, Any] | None,
        thread_root: str | None,
    ) -> Answer:
        return Answer(
            room_id=incoming.chat_id,
            tx_id=reply_tx_id(key),
            content=render(reply, self.command_names(), relates_to=rel),
            for_user=incoming.sender.user_id,
            thread_root=thread_root,
            deadlines=list(deadline_ids(reply)),
            files=[Answer.file(a) for a in reply.attachments],
        )

    async def _deliver(self, key: str, answer: Answer) -> None:
        try:
            event_id = await self.sender.deliver(answer, budget=self.budget)
        except DeliveryError as exc:
            if exc.kind is FailureKind.blocked:
                log.warning("matrix: cannot answer in %s any more: %s", answer.room_id, exc)
                await self._db(
                    lambda s: store.mark_ignored(
                        s,
                        event_id=key,
                        room_id=answer.room_id,
                        sender=answer.for_user,
                        now=self._now(),
                    )
                )
                return
            log.warning(
                "matrix: answer in %s not delivered yet (%s); will retry", answer.room_id, exc
            )
            self._undelivered.add(key)
            return
        self._undelivered.discard(key)
        sent = [
            SentDeadline(event_id, number, answer.room_id, answer.for_user, answer.thread_root)
            for number in answer.deadlines
        ]
        await self._db(
            lambda s: store.mark_answered(
                s, key, answer_event_id=event_id, now=self._now(), deadlines=sent
            )
        )
        self.stats.answered += 1

    # -- after each sync and at start --------------------------------------------------------------

    async def resume(self) -> None:
        """At start: re-send stored answers, and wait again for the keys still missing."""
        for row in await self._db(store.unfinished):
            if row.status is EventStatus.answering and row.answer is not None:
                await self._deliver(row.event_id, Answer.from_json(row.answer))
            elif row.status is EventStatus.pending and row.encrypted is not None:
                event = KeyRecovery.parse(row.room_id, row.encrypted)
                if event is not None:
                    self.keys.add(row.room_id, event, notice_sent=row.notice_sent)

    async def after_sync(self) -> None:
        """Answer what became readable; retry answers a network failure held back."""
        client = self._client()
        for room_id, event in self.keys.decryptable():
            room = client.rooms.get(room_id)
            if room is not None:
                await self.on_events(room, [event])
        if self._undelivered:
            pending = list(self._undelivered)
            rows = await self._db(lambda s: store.known(s, pending))
            for key in pending:
                row = rows.get(key)
                if row is None or not await self._finished(row):
                    self._undelivered.discard(key)

    async def send_notices(self) -> None:
        """Tell people whose messages stayed unreadable past the wait, once per message."""
        for group in self.keys.due():
            first = group[0]
            event = first.event
            thread_root = relation_of(event.source.get("content", {})).thread_root
            answer = Answer(
                room_id=first.room_id,
                tx_id=reply_tx_id(f"{event.event_id}#unreadable"),
                content=render(
                    Reply(matrix_texts.unreadable(len(group))),
                    relates_to=relation(event.event_id, thread_root),
                    notice=True,
                ),
                for_user=event.sender,
                thread_root=thread_root,
            )
            try:
                await self.sender.deliver(answer, budget=self.budget)
            except DeliveryError as exc:
                log.warning("matrix: notice in %s not delivered: %s", first.room_id, exc)
                continue
            for item in group:
                item.notice_sent = True
            ids = [item.event.event_id for item in group]
            await self._db(partial(store.mark_notice_sent, event_ids=ids, now=self._now()))
            self.stats.notices += 1

    # -- helpers -------------------------------------------------------------------------------

    async def _db(self, fn: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.bot.db.session() as session:
                return fn(session)

        return await asyncio.to_thread(run)

    def _now(self) -> Any:
        return self.bot.clock.now()

    def _who(self, key: str, room: MatrixRoom, sender: str) -> dict[str, Any]:
        return {"event_id": key, "room_id": room.room_id, "sender": sender, "now": self._now()}

    @staticmethod
    def _who_incoming(key: str, incoming: Incoming) -> dict[str, str]:
        return {"event_id": key, "room_id": incoming.chat_id, "sender": incoming.sender.user_id}
