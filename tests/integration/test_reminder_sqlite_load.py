"""SQLite under concurrency (issue 11): 20 people using the chat at once while the dispatcher
sends a long catch-up never get "database is locked" (busy timeout, short write
transactions, no network call inside one)."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, datetime, timedelta

from bot import texts
from bot.core import Bot, build_calendar
from bot.messages import Reply
from bot.reminder_render import GermanRenderer
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from scheduler.engine import Sweeper
from scheduler.ports import Recipient
from storage import outbox
from storage.db import Database
from tests.conftest import BERLIN, ChatUser
from tests.reminder_fakes import RecordingMessenger
from tests.reminder_population import add_people_with_deadlines

START = datetime(2025, 4, 8, 8, 5, tzinfo=BERLIN)


class SlowMessenger(RecordingMessenger):
    async def send(self, recipient: Recipient, reply: Reply, *, idempotency_key: str) -> None:
        await asyncio.sleep(0.02)
        await super().send(recipient, reply, idempotency_key=idempotency_key)


async def test_chat_users_during_a_catch_up_are_never_refused(
    settings: Settings, db: Database, bot: Bot, demo: dict[str, ChatUser]
) -> None:
    assert db.engine.dialect.name == "sqlite"
    r = settings.reminders.model_copy(
        update={"rate_per_second": {"telegram": 5000.0}, "max_in_flight": 8}
    )
    fast = settings.model_copy(update={"reminders": r})
    add_people_with_deadlines(
        db, list(range(8_000_001, 8_000_401)), date(2025, 4, 8), START - timedelta(days=1)
    )
    Sweeper(fast, db, FixedClock(START), build_calendar(fast)).sweep()
    clock = FixedClock(START)
    messenger = SlowMessenger(clock, transport="telegram")
    dispatcher = Dispatcher(
        fast,
        db,
        clock,
        build_calendar(fast),
        {"telegram": messenger},
        GermanRenderer(fast, build_calendar(fast)),
    )
    answers: list[str] = []
    lock = threading.Lock()
    sending = threading.Event()

    def chat(number: int) -> None:
        person = demo["EL"] if number % 2 == 0 else demo["JB"]
        sending.wait(10)
        for round_ in range(3):
            code = f"HB-2025-{number:02d}{round_}"
            said = [
                person.say(
                    f"/fall_neu {code} §30 beginn=07.03.2025 traeger=JB asd=TB empfehlung=fk "
                    "kinderschutz=nein"
                ),
                person.say("/fristen"),
            ]
            with lock:
                answers.extend(said)

    threads = [threading.Thread(target=chat, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()

    async def dispatch() -> None:
        sending.set()
        await dispatcher.dispatch()

    await asyncio.gather(dispatch(), asyncio.to_thread(lambda: [t.join(120) for t in threads]))
    assert len(answers) == 120
    assert not any(texts.SORRY in a or "locked" in a for a in answers), [
        a for a in answers if texts.SORRY in a
    ][:3]
    assert len({m.to for m in messenger.sent}) == 400
    with db.session() as s:
        assert outbox.counts_by_status(s).get("sent", 0) >= 400
