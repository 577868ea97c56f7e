"""On-call figures (issue 6): /notfall reply time, the on-call sweep tick, and page delivery.

Builds a temporary SQLite database with the demo organisation plus R extra rotations (each
with members, overrides and confirmed swaps), then measures with an injected clock:

- `/notfall` through the core (all rotations, overrides and swaps applied): median and p95;
- one tick of the on-call sweep (escalations, handovers, gap detection over `gap_days`);
- page to delivered: `/anpiepen` + dispatch through a recording messenger, at night.

    .venv/bin/python bench/rota.py [--rotations 50] [--runs 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core import Bot
from bot.demo import demo_invites, load_demo
from bot.messages import Incoming, Sender
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from scheduler.rota_sweep import RotaSweeper
from storage.db import Database
from tests.reminder_fakes import RecordingMessenger

BERLIN = ZoneInfo("Europe/Berlin")


def say(bot: Bot, user: str, text: str) -> str:
    return bot.handle(Incoming(Sender("console", user), user, text)).text


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rotations", type=int, default=50)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        db = Database(settings.effective_database_url)
        db.upgrade()
        clock = FixedClock(datetime(2025, 4, 7, 10, tzinfo=BERLIN))
        bot = Bot(settings, db, clock)
        with db.session() as session:
            load_demo(session, settings, bot.calendar, clock.now())
            codes = {s.handle: c for s, c in demo_invites(session, settings, clock.now())}
        for handle, code in codes.items():
            say(bot, f"u-{handle}", f"/start {code}")
        mk = "u-MK"
        for i in range(args.rotations):
            say(
                bot,
                mk,
                f'/rufbereitschaft_neu "Bereitschaft {i:03d}" mitglieder=JB,LW,TS '
                f"schicht={1 + i % 7} uebergabe=0{7 + i % 3}:00 zweite=naechste",
            )
        for week in range(8):
            day = (clock.now() + timedelta(days=7 * week + 1)).strftime("%d.%m.")
            say(bot, mk, f"/vertretung JB {day}-{day} durch=MK grund=krank")
        asked = say(bot, "u-JB", "/tausch 14.04. 21.04. rb=Weserufer")
        number = asked.split("/tausch_ok ")[1].split(")")[0]
        say(bot, "u-TS", f"/tausch_ok {number}")

        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            reply = say(bot, "u-TB", "/notfall")
            times.append(time.perf_counter() - start)
        assert reply.startswith("Notfallkontakt jetzt:"), reply
        print(f"rotations: {args.rotations + 1}, overrides: 8, swaps: 1")
        print(
            f"/notfall: median {statistics.median(times) * 1000:.1f} ms, "
            f"p95 {percentile(times, 0.95) * 1000:.1f} ms over {args.runs} runs"
        )

        sweeper = RotaSweeper(settings, db, clock, bot.calendar)
        ticks = []
        for minute in range(20):
            clock.set(datetime(2025, 4, 7, 10, minute, tzinfo=BERLIN))
            start = time.perf_counter()
            sweeper.tick()
            ticks.append(time.perf_counter() - start)
        print(
            f"on-call sweep tick (gap_days={settings.oncall.gap_days}): median "
            f"{statistics.median(ticks) * 1000:.1f} ms, max {max(ticks) * 1000:.1f} ms"
        )

        messenger = RecordingMessenger(clock)
        dispatcher = Dispatcher(settings, db, clock, bot.calendar, {"console": messenger})
        asyncio.run(dispatcher.dispatch())  # send what is queued before measuring
        clock.set(datetime(2025, 4, 8, 2, 0, tzinfo=BERLIN))
        delivered = []
        for _ in range(20):
            before = len(messenger.sent)
            start = time.perf_counter()
            say(bot, "u-TB", "/anpiepen Weserufer Bitte dringend zurückrufen")
            asyncio.run(dispatcher.dispatch())
            delivered.append(time.perf_counter() - start)
            assert len(messenger.sent) == before + 1
        print(
            f"page to delivered (command + one dispatch, at night): median "
            f"{statistics.median(delivered) * 1000:.1f} ms, max {max(delivered) * 1000:.1f} ms "
            f"(plus up to reminders.dispatch_seconds = {settings.reminders.dispatch_seconds} s "
            "until the next dispatch tick)"
        )
        db.dispose()


if __name__ == "__main__":
    main()
