"""Dispatch rate against the Telegram Bot API test server enforcing 30 messages/s overall.

    .venv/bin/python bench/reminder_dispatch.py [--n 900]

n people each have one reminder waiting in the outbox (SQLite); the real dispatcher sends
them through the real TelegramMessenger (python-telegram-bot, as `koopbot scheduler` builds
it) to `tests/telegram_api.py`, which answers 429 + retry_after past 30/s. Prints messages/s
as a ratio of that ceiling, the 429s received and whether every reminder arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.reminder_render import GermanRenderer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram.ext import ExtBot

from bot.core import build_calendar
from bot.telegram_rate_limiter import TelegramRateLimiter
from bot.telegram_send import TelegramMessenger
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from scheduler.engine import Sweeper
from storage import outbox
from storage.db import Database
from tests.reminder_population import add_people_with_deadlines
from tests.reminder_worker import RunningClock
from tests.telegram_api import DEFAULT_TOKEN, TelegramTestServer

START = datetime(2025, 4, 8, 8, 5, tzinfo=ZoneInfo("Europe/Berlin"))
CEILING = 30.0


async def run(n: int) -> None:
    async with TelegramTestServer() as server:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(data_dir=Path(tmp))
            db = Database(settings.effective_database_url)
            db.upgrade()
            chats = [server.user(f"P{i}").id for i in range(n)]
            add_people_with_deadlines(db, chats, date(2025, 4, 8), START - timedelta(days=1))
            calendar = build_calendar(settings)
            Sweeper(settings, db, FixedClock(START), calendar).sweep()
            bot: ExtBot[dict[str, Any]] = ExtBot(
                DEFAULT_TOKEN,
                base_url=server.base_url,
                rate_limiter=TelegramRateLimiter(max_retries=0),
            )
            await bot.initialize()
            dispatcher = Dispatcher(
                settings,
                db,
                RunningClock(START),
                calendar,
                {"telegram": TelegramMessenger(bot)},
                GermanRenderer(settings, calendar),
            )
            started = time.perf_counter()
            rate_limited = 0
            while True:
                stats = await dispatcher.dispatch()
                rate_limited += stats.rate_limited
                with db.session() as s:
                    if outbox.pending_or_sending(s) == 0:
                        break
                if stats.claimed == 0:
                    await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            await bot.shutdown()
            db.dispose()
    delivered = sum(1 for c in chats if len(server.sent_to(c)) >= 1)
    duplicates = sum(max(0, len(server.sent_to(c)) - 1) for c in chats)
    rate = n / elapsed
    print(
        f"{n} reminders in {elapsed:.1f} s: {rate:.2f} msg/s = {rate / CEILING:.3f} of the "
        f"{CEILING:.0f}/s ceiling; 429 answers: {rate_limited}; delivered {delivered}/{n}, "
        f"lost {n - delivered}, duplicates {duplicates}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=900)
    asyncio.run(run(parser.parse_args().n))


if __name__ == "__main__":
    main()
