"""Three schedulers on one PostgreSQL against the Bot API test server enforcing 30/s (issue 11).

    .venv/bin/python bench/reminder_rate.py [--n 1800] [--processes 3]

n people each have one reminder waiting; `processes` worker processes (tests/reminder_worker.py:
the real Dispatcher and TelegramMessenger) send them at the same time, sharing one rate limit
through the `rate_limit` table. The server (tests/telegram_api.py) answers 429 past 30/s
overall and 1/s per chat. Prints the combined rate as a share of 30/s, the 429 answers as a
share of sends, lost and duplicate reminders, and the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.reminder_common import finish_worker, pg_database, start_worker
from bot.core import build_calendar
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.engine import Sweeper
from storage.db import Database
from tests.reminder_population import add_people_with_deadlines
from tests.telegram_api import TelegramTestServer

START = datetime(2025, 4, 8, 8, 5, tzinfo=ZoneInfo("Europe/Berlin"))
CEILING = 30.0
ENV = {"KOOPBOT_REMINDERS__MESSENGERS": '["telegram"]', "KOOPBOT_LOG_LEVEL": "WARNING"}


async def run(n: int, processes: int) -> None:
    load = os.getloadavg()[0]
    with pg_database() as url, tempfile.TemporaryDirectory() as tmp:
        seen: list[float] = []  # the server's clock at each send it throttled

        def clock() -> float:
            seen.append(time.monotonic())
            return seen[-1]

        async with TelegramTestServer(clock=clock) as server:
            settings = Settings(database_url=url)
            db = Database(url)
            db.upgrade()
            chats = [server.user(f"P{i}").id for i in range(n)]
            add_people_with_deadlines(db, chats, date(2025, 4, 8), START - timedelta(days=1))
            Sweeper(settings, db, FixedClock(START), build_calendar(settings)).sweep()
            db.dispose()
            procs = await asyncio.gather(
                *(
                    start_worker(url, server.base_url, START.isoformat(), ENV, Path(tmp))
                    for _ in range(processes)
                )
            )
            started = time.perf_counter()
            results = await asyncio.gather(*(finish_worker(p) for p in procs))
            elapsed = time.perf_counter() - started
    sent = sum(r[0] for r in results)
    limited = sum(r[2] for r in results)
    delivered = sum(1 for c in chats if server.sent_to(c))
    duplicates = sum(max(0, len(server.sent_to(c)) - 1) for c in chats)
    rate = n / elapsed
    span = seen[-1] - seen[0] if len(seen) > 1 else elapsed
    at_server = (sent - 1) / span
    print(
        f"{processes} schedulers, {n} reminders in {elapsed:.1f} s (processes started to "
        f"ended): {rate:.2f} msg/s = {rate / CEILING:.3f} of {CEILING:.0f}/s; at the server "
        f"(first to last send, {span:.1f} s): {at_server:.2f} msg/s = "
        f"{at_server / CEILING:.3f}; 429 answers {limited} = "
        f"{100 * limited / max(sent + limited, 1):.2f} % of sends; lost {n - delivered}, "
        f"duplicates {duplicates}; load {load:.1f} -> {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1800)
    parser.add_argument("--processes", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.n, args.processes))


if __name__ == "__main__":
    main()
