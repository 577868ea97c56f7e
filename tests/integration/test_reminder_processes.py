"""Several real dispatcher processes on the real PostgreSQL, sending through the Telegram
Bot API test server: three at once send each reminder once; one killed with SIGKILL at
random moments (>= 20 times) loses nothing and duplicates only within the documented window."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import build_calendar
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.engine import Sweeper
from storage import outbox
from storage.db import Database
from tests.conftest import BERLIN
from tests.reminder_population import add_people_with_deadlines
from tests.telegram_api import RateLimits, TelegramTestServer

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2025, 4, 8, 8, 5, tzinfo=BERLIN)  # a Tuesday, just after 08:00
MAX_IN_FLIGHT = 4
WORKER_ENV = {
    "KOOPBOT_REMINDERS__LEASE_SECONDS": "2",
    "KOOPBOT_REMINDERS__MAX_IN_FLIGHT": str(MAX_IN_FLIGHT),
    "KOOPBOT_REMINDERS__MESSENGERS": '["telegram"]',
    "KOOPBOT_REMINDERS__RATE_PER_SECOND": json.dumps({"telegram": 150}),
}


class Workers:
    """Worker processes of one test; all are killed at the end, also on failure."""

    def __init__(self, db_url: str, base_url: str, tmp: Path) -> None:
        self.db_url, self.base_url, self.tmp = db_url, base_url, tmp
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self) -> asyncio.subprocess.Process:
        env = {**os.environ, **WORKER_ENV, "KOOPBOT_DATA_DIR": str(self.tmp)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.reminder_worker",
            self.db_url,
            self.base_url,
            START.isoformat(),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.strip() == b"ready", line
        return proc

    async def finish(self, proc: asyncio.subprocess.Process) -> int:
        out, _ = await asyncio.wait_for(proc.communicate(), 90)
        assert proc.returncode == 0, out
        return int(out.split()[-1])

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.kill()


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramTestServer]:
    server = TelegramTestServer(limits=RateLimits.off())
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def workers(
    pg_url: str, telegram: TelegramTestServer, tmp_path: Path
) -> AsyncIterator[Workers]:
    group = Workers(pg_url, telegram.base_url, tmp_path)
    try:
        yield group
    finally:
        group.kill_all()
        await asyncio.gather(*(p.wait() for p in group.procs))


def prepare(pg_url: str, server: TelegramTestServer, n: int) -> tuple[Database, list[int]]:
    """n people with a deadline due today, swept once: n reminders wait in the outbox."""
    settings = Settings(database_url=pg_url)
    db = Database(pg_url)
    db.upgrade()
    chats = [server.user(f"P{i}").id for i in range(n)]
    add_people_with_deadlines(db, chats, date(2025, 4, 8), START - timedelta(days=1))
    Sweeper(settings, db, FixedClock(START), build_calendar(settings)).sweep()
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"pending": n}
    return db, chats


def deliveries(server: TelegramTestServer, chats: list[int]) -> Counter[int]:
    return Counter({chat: len(server.sent_to(chat)) for chat in chats})


async def test_three_processes_send_each_reminder_once(
    pg_url: str, telegram: TelegramTestServer, workers: Workers
) -> None:
    db, chats = prepare(pg_url, telegram, 600)
    procs = await asyncio.gather(*(workers.start() for _ in range(3)))
    sent = await asyncio.gather(*(workers.finish(p) for p in procs))
    counts = deliveries(telegram, chats)
    assert set(counts.values()) == {1}, Counter(counts.values())
    assert sum(sent) == 600
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"sent": 600}
    db.dispose()


async def test_sigkill_during_sending_loses_nothing(
    pg_url: str, telegram: TelegramTestServer, workers: Workers
) -> None:
    db, chats = prepare(pg_url, telegram, 1000)
    rng = random.Random(20250408)
    kills = 0
    while kills < 20:
        proc = await workers.start()
        await asyncio.sleep(rng.uniform(0.05, 0.6))
        if proc.returncode is not None:
            break
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        kills += 1
    assert kills >= 20
    await workers.finish(await workers.start())
    counts = deliveries(telegram, chats)
    assert min(counts.values()) >= 1, "a reminder was lost"
    duplicates = sum(c - 1 for c in counts.values())
    # At-least-once: only messages in flight when a process died may go out twice.
    assert duplicates <= kills * MAX_IN_FLIGHT, duplicates
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"sent": 1000}
    print(f"\n{kills} kills, {duplicates} duplicates of 1000 reminders")
    db.dispose()
