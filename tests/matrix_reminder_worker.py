"""A dispatcher process sending reminders over Matrix, for the Matrix crash test (issue 11).

    python -m tests.matrix_reminder_worker DB_URL START_ISO ANCHOR_EPOCH

Runs koopbot's Matrix adapter (device and crypto store in KOOPBOT_DATA_DIR/matrix, the same
after every restart) and sweep plus dispatch in a loop through the real MatrixMessenger. The
clock reads START_ISO at ANCHOR_EPOCH (wall time) and moves with it, so a restarted process
continues where the killed one was. Prints "ready" once the first sync is done and
"lost L sent N" when the outbox has nothing left to send. Matrix settings come from
KOOPBOT_MATRIX__*; logs go to KOOPBOT_DATA_DIR/koopbot.log.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from datetime import datetime, timedelta

from bot.core import Bot, build_calendar
from bot.matrix import MatrixAdapter, MatrixMessenger
from bot.reminder_render import GermanRenderer
from config.logs import setup_logging
from config.settings import Settings
from scheduler.dispatch import Dispatcher
from scheduler.engine import Sweeper
from storage import outbox
from storage.db import Database


class AnchoredClock:
    """`start` at wall time `anchor`, moving with the wall clock."""

    def __init__(self, start: datetime, anchor: float) -> None:
        self._start, self._anchor = start, anchor

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.time() - self._anchor)


async def main(db_url: str, start: str, anchor: str) -> int:
    settings = Settings(database_url=db_url)  # the rest from KOOPBOT_* in the environment
    setup_logging(settings)
    db = Database(db_url)
    clock = AnchoredClock(datetime.fromisoformat(start).astimezone(settings.tz), float(anchor))
    calendar = build_calendar(settings)
    adapter = MatrixAdapter.from_settings(settings, Bot(settings, db, clock, calendar=calendar))
    syncing = asyncio.create_task(adapter.run())
    ready = asyncio.create_task(adapter.ready.wait())
    await asyncio.wait({syncing, ready}, return_when=asyncio.FIRST_COMPLETED)
    if syncing.done():
        syncing.result()  # the start-up error
    dispatcher = Dispatcher(
        settings,
        db,
        clock,
        calendar,
        {"matrix": MatrixMessenger(adapter)},
        GermanRenderer(settings, calendar),
    )
    sweeper = Sweeper(settings, db, clock, calendar)
    print("ready", flush=True)
    sent = lost = 0
    while True:
        await asyncio.to_thread(sweeper.sweep)
        stats = await dispatcher.dispatch()
        sent += stats.sent_messages
        lost += stats.lost_claims
        with db.session() as s:
            left = outbox.pending_or_sending(s)
        if left == 0:
            break
        if stats.claimed == 0:
            await asyncio.sleep(0.05)
    syncing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await syncing
    await adapter.close()
    db.dispose()
    print(f"lost {lost} sent {sent}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
