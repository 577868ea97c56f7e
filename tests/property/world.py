"""A demo organisation for the property tests: built once, restored before every example."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from bot.core import Bot
from bot.demo import demo_invites, load_demo
from bot.messages import Incoming, Reply, Sender
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from tests.integration.conftest import SqliteSnapshots

# Security records of failed /start attempts are meant to be written on a refusal (issue 12).
SECURITY_TABLES = frozenset({"start_attempt"})
SECURITY_ACTIONS = frozenset({"start_failed"})


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class World:
    bot: Bot
    db: Database
    file: Path
    snapshot: Path
    senders: dict[str, Sender]  # Kürzel (and "stranger") -> messenger account
    errors: _Errors = field(default_factory=_Errors)
    examples: int = 0

    def restore(self) -> None:
        with (
            closing(sqlite3.connect(self.snapshot)) as src,
            closing(sqlite3.connect(self.file)) as dst,
        ):
            src.backup(dst)

    def say(self, who: str, text: str, *, private: bool) -> Reply:
        sender = self.senders[who]
        self.examples += 1
        return self.bot.handle(Incoming(sender, sender.user_id, text, private=private))

    def state(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table (security records of failed /start left out)."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.db.engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                if table.name in SECURITY_TABLES:
                    continue
                rows = [
                    tuple(r)
                    for r in conn.execute(select(table))
                    if table.name != "audit_log" or r._mapping["action"] not in SECURITY_ACTIONS
                ]
                out[table.name] = sorted(rows, key=repr)
        return out


def build_world(root: Path) -> World:
    now = SqliteSnapshots.NOW
    settings = Settings(data_dir=root / "data")
    db = Database(settings.effective_database_url)
    db.upgrade()
    bot = Bot(settings, db, FixedClock(now))
    with db.session() as session:
        assert load_demo(session, settings, bot.calendar, now)
        codes = {p.handle: code for p, code in demo_invites(session, settings, now)}
    senders = {"stranger": Sender("telegram", "4711", "Fremd")}
    for handle, code in codes.items():
        sender = Sender("telegram", f"10{len(senders)}", handle)
        reply = bot.handle(Incoming(sender, sender.user_id, f"/start {code}"))
        assert reply.text.startswith("Willkommen"), reply
        senders[handle] = sender
    file = settings.data_dir / "koopbot.db"
    snapshot = root / "snapshot.db"
    with closing(sqlite3.connect(file)) as src, closing(sqlite3.connect(snapshot)) as dst:
        src.backup(dst)
    world = World(bot=bot, db=db, file=file, snapshot=snapshot, senders=senders)
    logging.getLogger().addHandler(world.errors)
    return world
