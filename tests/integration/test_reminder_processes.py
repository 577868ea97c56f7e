"""Several real dispatcher processes on a real database, sending through the Telegram Bot API
test server (issue 11): three at once on PostgreSQL, with both cores saturated by CPU burners,
send each reminder once; one killed with SIGKILL at random moments (on SQLite and PostgreSQL)
loses nothing and duplicates only messages in flight at a kill. No log holds the bot token."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
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
from tests.logcheck import assert_no_secrets, log_files
from tests.reminder_population import add_people_with_deadlines
from tests.telegram_api import DEFAULT_TOKEN, RateLimits, TelegramTestServer

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2025, 4, 8, 8, 5, tzinfo=BERLIN)  # a Tuesday, just after 08:00
MAX_IN_FLIGHT = 4
WORKER_ENV = {
    "KOOPBOT_REMINDERS__LEASE_SECONDS": "4",
    "KOOPBOT_REMINDERS__MAX_IN_FLIGHT": str(MAX_IN_FLIGHT),
    "KOOPBOT_REMINDERS__MESSENGERS": '["telegram"]',
    "KOOPBOT_REMINDERS__RATE_PER_SECOND": json.dumps({"telegram": 150}),
    "KOOPBOT_TELEGRAM__TOKEN": DEFAULT_TOKEN,
    "KOOPBOT_LOG_LEVEL": "INFO",  # httpx logs every request URL (with the token) at INFO
}
BURN = "import time\nend = time.time() + 600\nwhile time.time() < end: pass\n"


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
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.strip() == b"ready", line
        return proc

    async def finish(self, proc: asyncio.subprocess.Process) -> tuple[int, int]:
        """(messages sent, claims found lost) of a worker that ends by itself."""
        out, _ = await asyncio.wait_for(proc.communicate(), 300)
        assert proc.returncode == 0, out
        words = out.split()
        return int(words[-1]), int(words[-3])

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


@pytest.fixture
def burners() -> Iterator[None]:
    """Both cores busy with other work, as on a loaded CI machine."""
    import subprocess

    procs = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(2)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def prepare(db_url: str, server: TelegramTestServer, n: int) -> tuple[Database, list[int]]:
    """n people with a deadline due today, swept once: n reminders wait in the outbox."""
    settings = Settings(database_url=db_url)
    db = Database(db_url)
    db.upgrade()
    chats = [server.user(f"P{i}").id for i in range(n)]
    add_people_with_deadlines(db, chats, date(2025, 4, 8), START - timedelta(days=1))
    Sweeper(settings, db, FixedClock(START), build_calendar(settings)).sweep()
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"pending": n}
    return db, chats


def deliveries(server: TelegramTestServer, chats: list[int]) -> Counter[int]:
    return Counter({chat: len(server.sent_to(chat)) for chat in chats})


def assert_logs_clean(tmp: Path) -> None:
    logs = log_files(tmp)
    assert logs, "the workers wrote no log"
    text = "\n".join(p.read_text(encoding="utf-8") for p in logs)
    assert "sendMessage" in text  # httpx logged the requests ...
    assert_no_secrets(logs, [DEFAULT_TOKEN])  # ... without the token


async def test_three_processes_send_each_reminder_once(
    pg_url: str, telegram: TelegramTestServer, workers: Workers, burners: None, tmp_path: Path
) -> None:
    db, chats = prepare(pg_url, telegram, 600)
    procs = await asyncio.gather(*(workers.start() for _ in range(3)))
    results = await asyncio.gather(*(workers.finish(p) for p in procs))
    counts = deliveries(telegram, chats)
    assert set(counts.values()) == {1}, Counter(counts.values())
    assert sum(sent for sent, _ in results) == 600
    assert sum(lost for _, lost in results) == 0  # no claim lapsed while its process lived
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"sent": 600}
    db.dispose()
    assert_logs_clean(tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def crash_db_url(request: pytest.FixtureRequest, pg_url: str, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crash.db'}"
    return pg_url


async def test_sigkill_during_sending_loses_nothing(
    crash_db_url: str, telegram: TelegramTestServer, tmp_path: Path
) -> None:
    db, chats = prepare(crash_db_url, telegram, 400)
    group = Workers(crash_db_url, telegram.base_url, tmp_path)
    rng = random.Random(20250408)
    kills = 0
    try:
        while kills < 10:
            proc = await group.start()
            await asyncio.sleep(rng.uniform(0.05, 0.6))
            if proc.returncode is not None:
                break
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            kills += 1
        assert kills >= 10
        await group.finish(await group.start())
    finally:
        group.kill_all()
        await asyncio.gather(*(p.wait() for p in group.procs))
    counts = deliveries(telegram, chats)
    assert min(counts.values()) >= 1, "a reminder was lost"
    duplicates = sum(c - 1 for c in counts.values())
    # At-least-once: only messages in flight when a process died may go out twice.
    assert duplicates <= kills * MAX_IN_FLIGHT, duplicates
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"sent": 400}
    print(f"\n{kills} kills, {duplicates} duplicates of 400 reminders")
    db.dispose()
    assert_logs_clean(tmp_path)
