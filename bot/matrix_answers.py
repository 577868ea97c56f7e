"""Answers on Matrix, each sent exactly once.

An answer is stored as `answering` in the command's own transaction (the core's `record`
hook), then sent under a transaction id derived from the event it answers, then marked
`answered`. A crash before the commit leaves nothing (the event runs again), one after it
re-sends the stored answer, which the homeserver deduplicates by the transaction id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlmodel import Session

from bot import matrix_texts
from bot.core import Bot
from bot.matrix_keys import Pending
from bot.matrix_render import deadline_ids, relation, relation_of, render, reply_tx_id
from bot.matrix_send import Answer, MatrixSender, MatrixStats
from bot.messages import Incoming, Reply
from scheduler.ports import DeliveryError, FailureKind
from storage import matrix_events as store
from storage.matrix_events import FINAL, EventStatus, HandledEvent, SentDeadline

log = logging.getLogger(__name__)

T = TypeVar("T")


class Answerer:
    """Runs commands through the core and delivers their answers, once per event."""

    def __init__(self, *, bot: Bot, sender: MatrixSender, stats: MatrixStats, budget: int) -> None:
        self.bot = bot
        self.sender = sender
        self.stats = stats
        self.budget = budget
        self._undelivered: set[str] = set()

    def command_names(self) -> list[str]:
        return [n for cmd in self.bot.registry.commands for n in (cmd.name, *cmd.aliases)]

    async def finished(self, row: HandledEvent) -> bool:
        """True if nothing is left to do for this event (a stored answer is re-sent)."""
        if row.status in FINAL:
            return True
        if row.status is EventStatus.answering and row.answer is not None:
            await self.deliver(row.event_id, Answer.from_json(row.answer))
            return True
        return False  # pending: it may have become readable

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
                    now=self.now(),
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
                    now=self.now(),
                )
            return answer

        await self.deliver(key, await asyncio.to_thread(work))

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
                mention=for_user,
            ),
            for_user=for_user,
            thread_root=thread_root,
        )
        await self.db(
            lambda s: store.mark_answering(
                s,
                event_id=key,
                room_id=room_id,
                sender=for_user,
                answer=answer.to_json(),
                now=self.now(),
            )
        )
        await self.deliver(key, answer)

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
            content=render(
                reply, self.command_names(), relates_to=rel, mention=incoming.sender.user_id
            ),
            for_user=incoming.sender.user_id,
            thread_root=thread_root,
            deadlines=list(deadline_ids(reply)),
            files=[Answer.file(a) for a in reply.attachments],
        )

    async def deliver(self, key: str, answer: Answer) -> None:
        try:
            event_id = await self.sender.deliver(answer, budget=self.budget)
        except DeliveryError as exc:
            if exc.kind is FailureKind.blocked:
                log.warning("matrix: cannot answer in %s any more: %s", answer.room_id, exc)
                await self.db(
                    lambda s: store.mark_ignored(
                        s,
                        event_id=key,
                        room_id=answer.room_id,
                        sender=answer.for_user,
                        now=self.now(),
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
        await self.db(
            lambda s: store.mark_answered(
                s, key, answer_event_id=event_id, now=self.now(), deadlines=sent
            )
        )
        self.stats.answered += 1

    async def retry_undelivered(self) -> None:
        """Answers a network failure held back: try again (after each sync)."""
        if not self._undelivered:
            return
        keys = list(self._undelivered)
        rows = await self.db(lambda s: store.known(s, keys))
        for key in keys:
            row = rows.get(key)
            if row is None or not await self.finished(row):
                self._undelivered.discard(key)

    async def unreadable(self, groups: list[list[Pending]]) -> None:
        """Tell people whose messages stayed unreadable past the wait, once per message."""
        for group in groups:
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
                    mention=event.sender,
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
            await self.db(partial(store.mark_notice_sent, event_ids=ids, now=self.now()))
            self.stats.notices += 1

    # -- helpers -------------------------------------------------------------------------------

    async def db(self, fn: Callable[[Session], T]) -> T:
        """One transaction of the adapter's bookkeeping, off the event loop."""

        def run() -> T:
            started = time.perf_counter()
            try:
                with self.bot.db.session() as session:
                    return fn(session)
            finally:
                self.stats.store_seconds.append(time.perf_counter() - started)

        return await asyncio.to_thread(run)

    def now(self) -> datetime:
        return self.bot.clock.now()

    @staticmethod
    def _who_incoming(key: str, incoming: Incoming) -> dict[str, str]:
        return {"event_id": key, "room_id": incoming.chat_id, "sender": incoming.sender.user_id}
