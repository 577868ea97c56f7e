"""Incoming Matrix events: what a message, an edit, a reaction or an undecryptable event asks
of koopbot. Answering each exactly once is `matrix_answers`' job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nio import AsyncClient, MatrixRoom, MegolmEvent, ReactionEvent, RoomMessageText

from bot import matrix_texts
from bot.matrix_answers import Answerer
from bot.matrix_keys import KeyRecovery
from bot.matrix_render import DONE_KEYS, SNOOZE_KEYS, Relation, command_text, relation_of
from bot.matrix_rooms import RoomDirectory
from bot.matrix_send import Answer
from bot.messages import Incoming, Sender
from storage import matrix_events as store
from storage.matrix_events import EventStatus, HandledEvent

log = logging.getLogger(__name__)

TRANSPORT = "matrix"


class Inbox:
    """Reads one room's new events in order and asks the Answerer for what they need."""

    def __init__(
        self,
        *,
        client: Callable[[], AsyncClient],
        user_id: str,
        rooms: RoomDirectory,
        keys: KeyRecovery,
        answers: Answerer,
    ) -> None:
        self._client = client
        self.user_id = user_id
        self.rooms = rooms
        self.keys = keys
        self.answers = answers

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
        known = await self.answers.db(lambda s: store.known(s, ids))
        consumed: set[str] = set()
        for event in events:
            if getattr(event, "sender", self.user_id) == self.user_id:
                continue
            row = known.get(event.event_id)
            if row is not None and await self.answers.finished(row):
                continue
            if isinstance(event, MegolmEvent):
                await self._undecryptable(room, event, row)
            elif isinstance(event, ReactionEvent):
                await self._reaction(room, event)
            elif isinstance(event, RoomMessageText):
                await self._message(room, event, row, known, edits, consumed)

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
            # Edited before koopbot got to it: the edited text is the question, and the edit
            # itself is done (recorded first, so a crash in between never turns it into a hint).
            consumed.add(newer.event_id)
            text = command_text(newer.source.get("content", {}))
            await self.answers.db(
                lambda s: store.mark_ignored(s, **self._who(newer.event_id, room, newer.sender))
            )
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
                await self.answers.db(
                    lambda s: store.mark_ignored(s, **self._who(key, room, sender))
                )
            return
        incoming = Incoming(
            sender=Sender(TRANSPORT, sender, room.user_name(sender)),
            chat_id=room.room_id,
            text=text,
            private=private,
        )
        await self.answers.answer(incoming, key=key, thread_root=rel.thread_root, reply_to=key)

    async def _edit(
        self, room: MatrixRoom, event: RoomMessageText, target: str, row: HandledEvent | None
    ) -> None:
        if row is None:
            row = (await self.answers.db(lambda s: store.known(s, [target]))).get(target)
        author, original = await self._original(room.room_id, target)
        if (row.sender if row is not None else author) not in (None, event.sender):
            return  # only the author may edit a message
        text = command_text(event.source.get("content", {}))
        if row is not None and row.status in (EventStatus.answered, EventStatus.answering):
            if self.rooms.is_private(room, event.sender) or text.startswith(("!", "/")):
                await self.answers.notice(
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
        targets = await self.answers.db(lambda s: store.sent_deadlines(s, event.reacts_to))
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
            await self.answers.answer(
                incoming, key=event.event_id, thread_root=thread, reply_to=reply_to
            )
            return
        await self.answers.notice(
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
        await self.answers.db(
            lambda s: store.remember_pending(
                s, **self._who(event.event_id, room, event.sender), encrypted=event.source
            )
        )
        self.keys.add(room.room_id, event, notice_sent=row is not None and row.notice_sent)
        await self.keys.request(event)

    # -- after each sync and at start --------------------------------------------------------------

    async def resume(self) -> None:
        """At start: re-send stored answers, and wait again for the keys still missing."""
        for row in await self.answers.db(store.unfinished):
            if row.status is EventStatus.answering and row.answer is not None:
                await self.answers.deliver(row.event_id, Answer.from_json(row.answer))
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
        await self.answers.retry_undelivered()

    async def send_notices(self) -> None:
        await self.answers.unreadable(self.keys.due())

    def _who(self, key: str, room: MatrixRoom, sender: str) -> dict[str, Any]:
        return {
            "event_id": key,
            "room_id": room.room_id,
            "sender": sender,
            "now": self.answers.now(),
        }
