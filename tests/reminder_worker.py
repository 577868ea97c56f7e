"""A dispatcher process for the multi-process and crash tests and the dispatch benchmark.

    python -m tests.reminder_worker DB_URL TELEGRAM_BASE_URL START_ISO

Runs sweep and dispatch in a loop with a clock that starts at START_ISO and moves in real
time, sending through the real TelegramMessenger; exits 0 once the outbox has nothing left to
send. Prints "ready" when it starts and "limited R lost L sent N" at the end (R: 429 answers,
L: rows whose claim was gone when they were marked sent). Logs to KOOPBOT_DATA_DIR/koopbot.log.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import BaseRateLimiter, ExtBot

from bot.core import build_calendar
from bot.reminder_render import GermanRenderer
from bot.telegram_send import TelegramMessenger
from config.logs import setup_logging
from config.settings import Settings
from scheduler.dispatch import Dispatcher
from scheduler.engine import Sweeper
from storage import outbox
from storage.db import Database
from tests.telegram_api import DEFAULT_TOKEN


class PassThrough(BaseRateLimiter[dict[str, Any]]):
    """No throttling in PTB: the dispatcher's own limiter paces the sends."""

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        return await callback(*args, **kwargs)


class RunningClock:
    """Starts at a given time and moves with real elapsed time."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


async def main(db_url: str, base_url: str, start: str) -> int:
    settings = Settings(database_url=db_url)  # the rest from KOOPBOT_* in the environment
    setup_logging(settings)  # koopbot.log in KOOPBOT_DATA_DIR, redacted (issue 11)
    db = Database(db_url)
    clock = RunningClock(datetime.fromisoformat(start).astimezone(settings.tz))
    calendar = build_calendar(settings)
    bot: ExtBot[Any] = ExtBot(DEFAULT_TOKEN, base_url=base_url, rate_limiter=PassThrough())
    await bot.initialize()
    dispatcher = Dispatcher(
        settings,
        db,
        clock,
        calendar,
        {"telegram": TelegramMessenger(bot)},
        GermanRenderer(settings, calendar),
    )
    sweeper = Sweeper(settings, db, clock, calendar)
    print("ready", flush=True)
    sent = lost = limited = 0
    while True:
        await asyncio.to_thread(sweeper.sweep)
        stats = await dispatcher.dispatch()
        sent += stats.sent_messages
        lost += stats.lost_claims
        limited += stats.rate_limited
        with db.session() as s:
            left = outbox.pending_or_sending(s)
        if left == 0:
            break
        if stats.claimed == 0:
            await asyncio.sleep(0.05)
    await bot.shutdown()
    db.dispose()
    print(f"limited {limited} lost {lost} sent {sent}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
