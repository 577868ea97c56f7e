"""One real Synapse per test session; per test a fresh koopbot account, database and people."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from people import Person, RunningBot
from synapse_server import Account, Synapse

from bot.core import Bot
from bot.demo import demo_invites, load_demo
from bot.matrix import MatrixAdapter
from config.messengers import MatrixSettings
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database

_names = itertools.count(1)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


class MatrixWorld:
    """What one test needs: koopbot's account and adapters, people, invite codes."""

    def __init__(self, synapse: Synapse, tmp: Path, bot: Bot, db: Database) -> None:
        self.synapse = synapse
        self.tmp = tmp
        self.bot = bot
        self.db = db
        self.people: list[Person] = []
        self.running: list[RunningBot] = []
        self.codes: dict[str, str] = {}
        self.bot_account: Account | None = None

    def register_bot(self, *, rate_limited: bool = False) -> Account:
        account = self.synapse.register(f"koopbot{next(_names)}")
        if not rate_limited:
            self.synapse.exempt_from_rate_limit(account.user_id)
        self.bot_account = account
        return account

    @property
    def bot_id(self) -> str:
        assert self.bot_account is not None
        return self.bot_account.user_id

    def adapter(self, **overrides: object) -> MatrixAdapter:
        if self.bot_account is None:
            self.register_bot()
        assert self.bot_account is not None
        config = MatrixSettings.model_validate(
            {
                "homeserver": self.synapse.url,
                "user_id": self.bot_account.user_id,
                "password": self.bot_account.password,
                "sync_timeout_ms": 10_000,
                **overrides,
            }
        )
        return MatrixAdapter(config, self.bot, self.tmp / "koopbot-matrix")

    async def start_bot(self, **overrides: object) -> RunningBot:
        running = RunningBot(self.adapter(**overrides))
        self.running.append(running)
        await running.start()
        return running

    async def person(self, name: str) -> Person:
        account = self.synapse.register(f"{name}{next(_names)}")
        self.synapse.exempt_from_rate_limit(account.user_id)
        person = Person(self.synapse.url, account, self.tmp / f"person-{account.user_id}")
        self.people.append(person)
        await person.start()
        return person

    def load_demo(self) -> None:
        now = self.bot.clock.now()
        with self.db.session() as session:
            load_demo(session, self.bot.settings, self.bot.calendar, now)
            self.codes = {
                p.handle: code for p, code in demo_invites(session, self.bot.settings, now)
            }

    async def caseworker(self, handle: str = "MK") -> tuple[Person, str]:
        """A demo person who opened an encrypted direct chat with koopbot and registered."""
        if not self.codes:
            self.load_demo()
        person = await self.person(handle.lower())
        room_id = await person.create_room(invite=[self.bot_id], direct=True)
        await person.wait_joined(room_id, self.bot_id)
        answer = await person.ask(room_id, f"/start {self.codes[handle]}", self.bot_id)
        assert "Willkommen" in answer.body, answer.body
        return person, room_id

    async def close(self) -> None:
        for running in self.running:
            await running.stop()
        for person in self.people:
            await person.stop()


@pytest.fixture
async def world(
    synapse: Synapse, tmp_path: Path, settings: Settings, db: Database, clock: FixedClock
) -> AsyncIterator[MatrixWorld]:
    w = MatrixWorld(synapse, tmp_path, Bot(settings, db, clock), db)
    try:
        yield w
    finally:
        await w.close()
