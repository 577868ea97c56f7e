"""One send rate per messenger account, shared by every scheduler on one database (issue 11).

Telegram allows about 30 messages/s per bot, one per second per chat and 20 per minute per
group; a Matrix homeserver its configured `rc_message` (setting `reminders.matrix_rc_message`).
On PostgreSQL the schedulers reserve send slots in the `rate_limit` table, each reservation a
short transaction on the database clock; on SQLite one scheduler runs per file (a lock file
next to it) and paces in memory.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql
from sqlmodel import SQLModel

from config.settings import Settings
from storage.db import Database
from storage.delivery import db_now

log = logging.getLogger(__name__)

_TABLE = SQLModel.metadata.tables["rate_limit"]


@dataclass(frozen=True)
class Limits:
    """Seconds between two sends: of the account, to one chat, to one group chat."""

    account: float
    chat: float = 0.0
    group: float = 0.0


def limits_for(transport: str, settings: Settings) -> Limits:
    r = settings.reminders
    if transport == "telegram":
        return Limits(1.0 / r.rate_per_second.get("telegram", 28.0), 1.2, 3.0)
    if transport == "matrix":
        return Limits(1.0 / r.matrix_rc_message)
    return Limits(1.0 / r.rate_per_second.get(transport, 50.0))


def _chat_gap(limits: Limits, transport: str, external_id: str) -> float:
    group = transport == "telegram" and external_id.startswith("-")
    return limits.group if group else limits.chat


class Pacer(Protocol):
    async def acquire(self, transport: str, external_id: str) -> None:
        """Wait for this send's slot."""

    async def pause(self, transport: str, seconds: float) -> None:
        """The messenger asked to wait: no send of this account before `seconds` from now."""


class MemoryPacer:
    """Evenly spaced sends of one process (no bursts)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, transport: str, external_id: str) -> None:
        limits = limits_for(transport, self.settings)
        chat = f"{transport}:{external_id}"
        async with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(transport, 0.0), self._next.get(chat, 0.0))
            self._next[transport] = at + limits.account
            gap = _chat_gap(limits, transport, external_id)
            if gap:
                self._next[chat] = at + gap
        if at > now:
            await asyncio.sleep(at - now)

    async def pause(self, transport: str, seconds: float) -> None:
        self._next[transport] = max(self._next.get(transport, 0.0), time.monotonic() + seconds)


class DatabasePacer:
    """Send slots reserved in the `rate_limit` table (PostgreSQL), on the database clock."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db
        # database clock - time.monotonic(), from the read with the shortest round trip, so
        # a slot is kept to the millisecond however long its reservation took.
        self._offset = 0.0
        self._rtt = float("inf")
        self._sampled = 0.0

    async def acquire(self, transport: str, external_id: str) -> None:
        limits = limits_for(transport, self.settings)
        gap = _chat_gap(limits, transport, external_id)
        chat = f"{transport}:{external_id}" if gap else None
        slot = await asyncio.to_thread(self._reserve, transport, limits.account, chat, gap)
        wait = slot - self._offset - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def _now(self, session: Any) -> float:
        """The database clock, also refining the offset to the local monotonic clock."""
        before = time.monotonic()
        now = db_now(session)
        after = time.monotonic()
        if after - before < self._rtt or after - self._sampled > 60:
            self._offset, self._rtt, self._sampled = (
                now - (before + after) / 2,
                after - before,
                after,
            )
        return now

    def _reserve(
        self, account: str, account_gap: float, chat: str | None, chat_gap: float
    ) -> float:
        """Seconds until the reserved slot. Locks the chat row, then the account row (always
        in this order: no deadlock)."""
        with self.db.session() as s:
            keys = [k for k in (chat, account) if k is not None]
            s.execute(
                postgresql.insert(_TABLE)
                .values([{"key": k, "next_at": 0.0} for k in keys])
                .on_conflict_do_nothing(index_elements=["key"])
            )
            now = self._now(s)
            earliest = now
            if chat is not None:
                chat_next = s.execute(
                    select(_TABLE.c.next_at).where(_TABLE.c.key == chat).with_for_update()
                ).scalar_one()
                earliest = max(earliest, float(chat_next))
            slot = float(
                s.execute(
                    update(_TABLE)
                    .where(_TABLE.c.key == account)
                    .values(next_at=func.greatest(_TABLE.c.next_at, earliest) + account_gap)
                    .returning(_TABLE.c.next_at)
                ).scalar_one()
                - account_gap
            )
            if chat is not None:
                s.execute(
                    update(_TABLE).where(_TABLE.c.key == chat).values(next_at=slot + chat_gap)
                )
        return slot

    async def pause(self, transport: str, seconds: float) -> None:
        await asyncio.to_thread(self._pause, transport, seconds)

    def _pause(self, account: str, seconds: float) -> None:
        with self.db.session() as s:
            now = db_now(s)
            s.execute(
                update(_TABLE)
                .where(_TABLE.c.key == account)
                .values(next_at=func.greatest(_TABLE.c.next_at, now + seconds))
            )


def pacer_for(settings: Settings, db: Database) -> Pacer:
    if db.engine.dialect.name == "postgresql":
        return DatabasePacer(settings, db)
    return MemoryPacer(settings)


# -- one scheduler per SQLite file -------------------------------------------------------------

LOCKED_MESSAGE = (
    "Auf dieser SQLite-Datei läuft schon ein Scheduler; dieser wartet, bis er endet. / "
    "Another scheduler already runs on this SQLite file; this one waits until it ends."
)


def sqlite_lock_path(db: Database) -> Path | None:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(f"{url.database}.scheduler.lock")


def try_lock(path: Path) -> IO[str] | None:
    """The open, exclusively locked lock file; None when another process holds it."""
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held while the scheduler runs)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


async def single_scheduler(db: Database, *, poll_seconds: float = 5.0) -> IO[str] | None:
    """On SQLite: wait until this process is the only scheduler on the file (the lock is held
    as long as the returned file stays open); on PostgreSQL nothing to do (None)."""
    path = sqlite_lock_path(db)
    if path is None:
        return None
    told = False
    while True:
        handle = try_lock(path)
        if handle is not None:
            if told:
                log.warning("the other scheduler on this SQLite file ended; starting")
            return handle
        if not told:
            log.warning("another scheduler runs on %s; waiting", path.name)
            print(LOCKED_MESSAGE, file=sys.stderr, flush=True)
            told = True
        await asyncio.sleep(poll_seconds)
