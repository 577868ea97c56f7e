"""Reminders over Matrix under SIGKILL (issue 11), for the e2e test and `bench/reminder_crash.py
--matrix`: people with deadlines on a real Synapse, a scheduler process
(tests/matrix_reminder_worker.py) sending their reminders through the Matrix messenger, killed
at random moments while a row is claimed for sending and restarted on the same database,
device and crypto store; then what reached each person, counted per reminder."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from people import Person
from sqlalchemy import update
from sqlmodel import col, select
from synapse_server import Account, Synapse

from bot.core import build_calendar
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.engine import Sweeper
from storage import outbox
from storage.db import Database
from storage.models.cases import Deadline
from storage.models.outbox import OutboxEntry
from tests.logcheck import assert_no_secrets, log_files
from tests.reminder_population import add_people_with_deadlines

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2025, 4, 8, 8, 5, tzinfo=ZoneInfo("Europe/Berlin"))  # a Tuesday, 08:05
_NUMBER = re.compile(r"#(\d+) ")


class Worker:
    """`tests.matrix_reminder_worker` processes, one at a time, on one data directory."""

    def __init__(self, db_url: str, account: Account, homeserver: str, tmp: Path) -> None:
        self.db_url, self.anchor = db_url, time.time()
        self.env = {
            **os.environ,
            "KOOPBOT_DATA_DIR": str(tmp),
            "KOOPBOT_LOG_LEVEL": "INFO",
            "KOOPBOT_MATRIX__HOMESERVER": homeserver,
            "KOOPBOT_MATRIX__USER_ID": account.user_id,
            "KOOPBOT_MATRIX__PASSWORD": account.password,
            "KOOPBOT_MATRIX__SYNC_TIMEOUT_MS": "5000",
            "KOOPBOT_REMINDERS__MESSENGERS": '["matrix"]',
            "KOOPBOT_REMINDERS__LEASE_SECONDS": "6",
            "KOOPBOT_REMINDERS__RATE_PER_SECOND": json.dumps({"matrix": 50}),
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    def now(self) -> datetime:
        """The workers' clock."""
        return START + timedelta(seconds=time.time() - self.anchor)

    async def start(self) -> None:
        assert self.proc is None or self.proc.returncode is not None
        self.starts += 1
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.matrix_reminder_worker",
            self.db_url,
            START.isoformat(),
            repr(self.anchor),
            cwd=ROOT,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 90)
        assert line.strip() == b"ready", line

    async def kill(self) -> bool:
        """SIGKILL; False if the process had already finished."""
        assert self.proc is not None
        if self.proc.returncode is not None:
            return False
        self.proc.send_signal(signal.SIGKILL)
        return await self.proc.wait() == -signal.SIGKILL

    async def finish(self) -> str:
        assert self.proc is not None
        out, _ = await asyncio.wait_for(self.proc.communicate(), 300)
        assert self.proc.returncode == 0, out
        return out.decode()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


def prepare(db_url: str, people: list[Person], per_person: int) -> tuple[Database, set[int]]:
    """`per_person` open deadlines per person, swept once; the reminders wait in the outbox,
    due only far in the future until `stagger` moves them."""
    settings = Settings(database_url=db_url)
    db = Database(db_url)
    db.upgrade()
    users = [p.user_id for p in people]
    add_people_with_deadlines(
        db,
        users,
        date(2025, 4, 8),
        START - timedelta(days=1),
        per_person=per_person,
        transport="matrix",
    )
    Sweeper(settings, db, FixedClock(START), build_calendar(settings)).sweep()
    with db.session() as s:
        assert outbox.counts_by_status(s) == {"pending": len(people) * per_person}
        s.connection().execute(update(OutboxEntry).values(send_after=START + timedelta(days=1)))
        s.commit()
        numbers = set(s.exec(select(Deadline.id)).all())
    return db, {n for n in numbers if n is not None}


def stagger(db: Database, first: datetime, spacing: float) -> None:
    """The rows come due one after another, alternating between the people: most go out as
    a message of their own."""
    with db.session() as s:
        rows = list(s.exec(select(OutboxEntry).order_by(col(OutboxEntry.id))).all())
        rank = {id(r): n for n, r in enumerate(rows)}
        per_person = Counter(r.staff_id for r in rows)
        order = sorted(rows, key=lambda r: (rank[id(r)] % per_person[r.staff_id], r.staff_id))
        for i, row in enumerate(order):
            row.send_after = first + timedelta(seconds=i * spacing)
            s.add(row)
        s.commit()


async def claims_left(db: Database) -> set[str]:
    """The claims of the rows in "sending"."""
    with db.session() as s:
        claims = s.exec(select(OutboxEntry.claimed_by).where(OutboxEntry.status == "sending")).all()
    return {c for c in claims if c is not None}


async def sending(db: Database, dead: set[str], timeout: float = 30) -> set[str]:
    """Waits until a live process (not one of the `dead` claims) is sending; its claims."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = await claims_left(db) - dead
        if live:
            return live
        await asyncio.sleep(0.01)
    raise AssertionError("no row was being sent")


def received(person: Person, room: str, bot: str) -> Counter[int]:
    """How often each deadline number reached the person in koopbot's messages."""
    return Counter(int(n) for m in person.received(room, bot) for n in _NUMBER.findall(m.body))


@dataclass
class Outcome:
    kills: int
    starts: int
    reminders: set[int]  # the deadline numbers that were due
    counts: Counter[int]  # how often each reached its person
    messages: int
    caught: int  # rows claimed by a killed process and sent by a later one
    statuses: dict[str, int]
    undecryptable: int
    all_encrypted: bool
    seconds: float
    lost: list[int] = field(default_factory=list)
    duplicates: dict[int, int] = field(default_factory=dict)


async def crash_run(
    synapse: Synapse,
    tmp: Path,
    *,
    people_n: int,
    per_person: int,
    kills: int,
    spacing: float,
    seed: int = 20250408,
) -> Outcome:
    """The whole run; every process it starts is stopped, and no log holds a secret."""
    t0 = time.monotonic()
    suffix = os.urandom(3).hex()
    account = synapse.register(f"koopbot-crash-{suffix}")
    synapse.exempt_from_rate_limit(account.user_id)
    bot = account.user_id
    people: list[Person] = []
    worker = Worker(f"sqlite:///{tmp / 'koopbot.db'}", account, synapse.url, tmp)
    rng = random.Random(seed)
    try:
        for i in range(people_n):
            human = synapse.register(f"p{i}-{suffix}")
            synapse.exempt_from_rate_limit(human.user_id)
            person = Person(synapse.url, human, tmp / f"person-{i}")
            people.append(person)
            await person.start()
        db, numbers = prepare(worker.db_url, people, per_person)
        rooms = [await p.create_room(invite=[bot], direct=True) for p in people]
        await worker.start()
        for person, room in zip(people, rooms, strict=True):
            await person.wait_joined(room, bot)
        stagger(db, worker.now() + timedelta(seconds=1), spacing)

        done, dead = 0, set[str]()
        while done < kills:
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            live = await sending(db, dead)  # a kill while a message is on its way
            await asyncio.sleep(rng.uniform(0, 0.15))
            assert await worker.kill(), "the worker finished before the kill"
            dead |= live | await claims_left(db)  # every claim now is a dead process's
            done += 1
            await worker.start()
        assert "sent" in await worker.finish()
        with db.session() as s:
            statuses = outbox.counts_by_status(s)
            # Claimed by one process, sent by another under the first one's key.
            caught = len(
                s.exec(
                    select(OutboxEntry.id).where(OutboxEntry.send_key != OutboxEntry.claimed_by)
                ).all()
            )
        db.dispose()

        # Each person's own marker comes after everything koopbot sent: once it is back,
        # every message (and every duplicate) has arrived.
        for person, room in zip(people, rooms, strict=True):
            marker = await person.say(room, f"marker-{suffix}")
            await person.wait(
                lambda p=person, r=room, e=marker: any(
                    m.event_id == e for m in p.inbox if m.room_id == r
                ),
                "the marker",
                60,
            )
        counts: Counter[int] = Counter()
        for person, room in zip(people, rooms, strict=True):
            counts += received(person, room, bot)
        pairs = list(zip(people, rooms, strict=True))
        outcome = Outcome(
            kills=done,
            starts=worker.starts,
            reminders=numbers,
            counts=counts,
            messages=sum(len(p.received(r, bot)) for p, r in pairs),
            caught=caught,
            statuses=statuses,
            undecryptable=sum(len(p.undecryptable) for p in people),
            all_encrypted=all(m.encrypted for p, r in pairs for m in p.received(r, bot)),
            seconds=time.monotonic() - t0,
            lost=sorted(numbers - set(counts)),
            duplicates={n: c for n, c in counts.items() if c > 1},
        )
    finally:
        await worker.stop()
        for person in people:
            await person.stop()

    token = json.loads((tmp / "matrix" / "credentials.json").read_text())["access_token"]
    logs = log_files(tmp)
    assert logs, "the worker wrote no log"
    assert_no_secrets(logs, [account.password, token])
    return outcome
