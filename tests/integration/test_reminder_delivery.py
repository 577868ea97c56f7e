"""Delivery under load (issue 11): one message per person across batches, a claim renewed
while a slow send runs (no second sender takes it over), and "mark sent" fenced by the claim."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import SQLModel

from bot.core import build_calendar
from bot.messages import Reply
from bot.reminder_render import GermanRenderer
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from scheduler.engine import Sweeper
from scheduler.ports import Recipient
from storage import delivery, outbox
from storage.db import Database
from tests.conftest import BERLIN
from tests.integration.helpers import BOTH_BACKENDS
from tests.reminder_fakes import RecordingMessenger
from tests.reminder_population import add_people_with_deadlines

START = datetime(2025, 4, 8, 8, 5, tzinfo=BERLIN)  # a Tuesday, just after 08:00
_OUTBOX = SQLModel.metadata.tables["reminder_outbox"]


def fast(settings: Settings, **reminders: object) -> Settings:
    r = settings.reminders.model_copy(
        update={"rate_per_second": {"telegram": 2000.0}, "messengers": ["telegram"], **reminders}
    )
    return settings.model_copy(update={"reminders": r})


def populate(settings: Settings, db: Database, people: int, per_person: int) -> list[str]:
    chats = list(range(9_000_001, 9_000_001 + people))
    add_people_with_deadlines(
        db, chats, date(2025, 4, 8), START - timedelta(days=1), per_person=per_person
    )
    Sweeper(settings, db, FixedClock(START), build_calendar(settings)).sweep()
    return [str(c) for c in chats]


@BOTH_BACKENDS
async def test_1000_due_deadlines_for_250_people_are_250_messages(
    settings: Settings, db: Database
) -> None:
    settings = fast(settings, max_in_flight=4)  # claims of 16 people: many batches
    chats = populate(settings, db, 250, 4)
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"pending": 1000}
    clock = FixedClock(START)
    messenger = RecordingMessenger(clock, transport="telegram")
    dispatcher = Dispatcher(
        settings,
        db,
        clock,
        build_calendar(settings),
        {"telegram": messenger},
        GermanRenderer(settings, build_calendar(settings)),
    )
    stats = await dispatcher.dispatch()
    assert stats.sent_rows == 1000 and stats.sent_messages == 250
    assert sorted(s.to for s in messenger.sent) == sorted(chats)
    for sent in messenger.sent:
        assert sent.reply.text.startswith("Erinnerungen:"), sent.reply.text
        assert sent.reply.text.count("\n• ") == 4, sent.reply.text
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"sent": 1000}


class SlowMessenger(RecordingMessenger):
    """Accepts every message after `delay` seconds."""

    delay: float = 0.0

    async def send(self, recipient: Recipient, reply: Reply, *, idempotency_key: str) -> None:
        await asyncio.sleep(self.delay)
        await super().send(recipient, reply, idempotency_key=idempotency_key)


@BOTH_BACKENDS
async def test_a_claim_is_renewed_while_slow_sends_run(settings: Settings, db: Database) -> None:
    # Lease 2 s, sends of 0.5 s (under lease/3), one at a time: the round holds its claim
    # for ~4 s, twice the lease, and a second dispatcher polling meanwhile gets nothing.
    settings = fast(settings, lease_seconds=2, max_in_flight=1)
    chats = populate(settings, db, 8, 1)
    clock = FixedClock(START)
    calendar = build_calendar(settings)
    slow = SlowMessenger(clock, transport="telegram")
    slow.delay = 0.5
    other = RecordingMessenger(clock, transport="telegram")
    first = Dispatcher(
        settings, db, clock, calendar, {"telegram": slow}, GermanRenderer(settings, calendar)
    )
    second = Dispatcher(
        settings, db, clock, calendar, {"telegram": other}, GermanRenderer(settings, calendar)
    )

    async def poll() -> int:
        claimed = 0
        await asyncio.sleep(0.3)
        for _ in range(20):
            claimed += (await second.dispatch()).claimed
            await asyncio.sleep(0.2)
        return claimed

    stats, stolen = await asyncio.gather(first.dispatch(), poll())
    assert stolen == 0 and other.sent == []
    assert stats.renewals >= 2 and stats.lost_claims == 0
    assert sorted(s.to for s in slow.sent) == sorted(chats)


@BOTH_BACKENDS
async def test_mark_sent_is_fenced_by_the_claim(settings: Settings, db: Database) -> None:
    populate(settings, db, 3, 2)
    now = START
    with db.session() as s:
        rows = delivery.claim(s, now=now, lease_seconds=60, token="A", people=10)
        ids = [r.id for r in rows if r.id is not None]
        assert len(ids) == 6 and {r.send_key for r in rows} == {"A"}
        # A's process stalls past its lease; B claims the rows again.
        s.execute(update(_OUTBOX).values(lease_until=0.0))
    with db.session() as s:
        again = delivery.claim(s, now=now, lease_seconds=60, token="B", people=10)
        assert sorted(r.id for r in again) == sorted(ids)
        assert {r.send_key for r in again} == {"A"}  # the retry keeps the idempotency key
    with db.session() as s:
        assert delivery.renew(s, "A", 60) == 0
        assert delivery.finish(s, ids, "A", status=delivery.SENT, now=now) == 0  # lost
        assert delivery.finish(s, ids, "B", status=delivery.SENT, now=now) == 6
        assert delivery.finish(s, ids, "B", status=delivery.SENT, now=now) == 0  # once
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"sent": 6}
        assert delivery.claim(s, now=now, lease_seconds=60, token="C", people=10) == []
