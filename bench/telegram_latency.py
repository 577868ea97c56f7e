"""Round-trip latency on Telegram: a caseworker's command through the test Bot API server,
PTB's long polling, the adapter and the core, back to the server as sendMessage.

Prints p50/p95 over N commands and the share spent inside Bot.handle.

    .venv/bin/python bench/telegram_latency.py [--commands 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core import Bot
from bot.messages import Incoming, Reply
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from tests.telegram_api import RateLimits, TelegramTestServer
from tests.telegram_harness import demo_codes, running_adapter

COMMANDS = (
    "/notfall",
    "/fristen",
    "/faelle",
    "/fall HB-2026-011",
    "/ag78",
    "/meinestunden",
    "/hilfe",
    "/stunden 0,5 HB-2026-011",
    "/stunden_zurueck",
    "/abstimmung HB-2026-011 gestern",
)


class TimedBot(Bot):
    """The core, recording how long each `handle` takes."""

    durations: list[float]

    def handle(self, message: Incoming) -> Reply:
        start = time.perf_counter()
        try:
            return super().handle(message)
        finally:
            self.durations.append(time.perf_counter() - start)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        db = Database(settings.effective_database_url)
        db.upgrade()
        clock = FixedClock(datetime(2025, 4, 7, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))
        core = TimedBot(settings, db, clock)
        core.durations = []
        codes = demo_codes(core, clock.now())
        async with (
            TelegramTestServer(limits=RateLimits.off()) as server,
            running_adapter(core, server),
        ):
            mara = server.user("Mara")
            await server.say(mara, f"/start {codes['MK']}")
            for command in COMMANDS:  # warm-up: imports, caches, connections
                await server.say(mara, command)
            core.durations.clear()
            rtt: list[float] = []
            for i in range(count):
                start = time.perf_counter()
                await server.say(mara, COMMANDS[i % len(COMMANDS)])
                rtt.append(time.perf_counter() - start)
        db.dispose()
    handle = core.durations
    print(f"Telegram round trip over {count} commands (test Bot API server, long polling):")
    for label, values in (("round trip", rtt), ("inside Bot.handle", handle)):
        print(
            f"  {label:<18} p50 {_pct(values, 50):6.1f} ms   p95 {_pct(values, 95):6.1f} ms"
            f"   mean {statistics.mean(values) * 1000:6.1f} ms   max {max(values) * 1000:6.1f} ms"
        )
    print(
        f"  the core's share: {_pct(handle, 50) / _pct(rtt, 50) * 100:.0f} % of the median, "
        f"{sum(handle) / sum(rtt) * 100:.0f} % of the total time"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100)
    asyncio.run(main(parser.parse_args().commands))
