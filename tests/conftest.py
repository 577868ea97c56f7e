"""Shared fixtures: a real SQLite file (or PostgreSQL), a fixed clock, the bot core."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core import Bot
from bot.messages import Incoming, Reply, Sender
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def clock() -> FixedClock:
    # A Monday in Bremen, mid-morning.
    return FixedClock(datetime(2025, 4, 7, 10, 0, tzinfo=BERLIN))


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.effective_database_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def bot(settings: Settings, db: Database, clock: FixedClock) -> Bot:
    return Bot(settings, db, clock)


class ChatUser:
    """One person typing into the core, as an adapter would deliver it."""

    def __init__(self, bot: Bot, user_id: str, transport: str = "console") -> None:
        self.bot = bot
        self.sender = Sender(transport=transport, user_id=user_id, display_name=None)

    def say(self, text: str, *, private: bool = True) -> str:
        reply: Reply = self.bot.handle(
            Incoming(sender=self.sender, chat_id=self.sender.user_id, text=text, private=private)
        )
        return reply.text
