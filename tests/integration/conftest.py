"""Integration fixtures: the backend (an SQLite file or PostgreSQL) and the demo organisation.

SQLite: every test gets its own file, started from snapshots that the real code paths
(migrations, bot.demo, /start) build once per session.

PostgreSQL: one fresh database per test session, created through the admin URL in
`KOOPBOT_TEST_PG_URL` (default: the local server as root), migrated once and dropped at the
end; every test starts on empty tables. An unreachable server fails the PostgreSQL tests
instead of skipping them: CI guarantees the server runs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.core import Bot
from bot.demo import demo_invites, load_demo
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.web import FeedServer
from storage.db import Database
from tests.conftest import ChatUser

PG_URL_ENV = "KOOPBOT_TEST_PG_URL"
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://root@127.0.0.1:5432/postgres"


def pg_admin_url() -> str:
    return os.environ.get(PG_URL_ENV) or DEFAULT_PG_ADMIN_URL


def admin_engine(admin_url: str) -> Engine:
    """An autocommit engine on the admin database (CREATE DATABASE refuses transactions)."""
    return create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def create_database(admin: Engine, name: str) -> None:
    """CREATE DATABASE `name`; an unreachable server fails the test (never a skip)."""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # Test data need not survive a power cut; not waiting for the disk on every
            # commit makes the PostgreSQL tests several times faster on a busy machine.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except OperationalError as exc:
        shown = admin.url.render_as_string(hide_password=True)
        pytest.fail(
            f"PostgreSQL at {shown} is unreachable ({exc.orig}). The PostgreSQL tests need it; "
            f"set {PG_URL_ENV} to an admin URL of a running server.",
            pytrace=False,
        )


def drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, uniquely named and migrated database for this test session, dropped at the end."""
    admin = admin_engine(pg_admin_url())
    name = f"koopbot_test_{secrets.token_hex(6)}"
    try:
        create_database(admin, name)
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        database = Database(url)
        database.upgrade()
        database.dispose()
        yield url
    finally:
        # When the server was unreachable, create_database has failed the test already.
        with contextlib.suppress(OperationalError):
            drop_database(admin, name)
        admin.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_database: str, pg_engine: Engine) -> str:
    """The session database, emptied for this test as if it were new (ids start at 1 again).

    Migrating once and emptying per test is several times faster than a schema per test.
    """
    with pg_engine.begin() as conn:
        superuser = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        empty_all_tables(conn, truncate=not superuser.scalar_one())
    return pg_database


_TABLES = (
    "SELECT quote_ident(tablename) FROM pg_tables "
    "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
)
_SEQUENCES = (
    "SELECT quote_ident(sequence_name) FROM information_schema.sequences "
    "WHERE sequence_schema = current_schema()"
)


def empty_all_tables(conn: Connection, *, truncate: bool) -> None:
    """Delete every row and restart every id sequence, as on a new database.

    TRUNCATE fires no row triggers (the audit log refuses DELETE) and works for the tables'
    owner, but writes new files for every table: slow on a busy disk. A superuser deletes
    instead, with row triggers (the audit log's guard, foreign keys) off for the transaction.
    """
    tables = list(conn.execute(text(_TABLES)).scalars())
    if truncate:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    for table in tables:
        conn.execute(text(f"DELETE FROM {table}"))
    for sequence in list(conn.execute(text(_SEQUENCES)).scalars()):
        conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


@pytest.fixture
def backend() -> str:
    """SQLite unless a test module parametrizes `backend` (see helpers.BOTH_BACKENDS)."""
    return "sqlite"


@dataclass(frozen=True)
class _Snapshot:
    path: Path
    codes: dict[str, str]


class SqliteSnapshots:
    """SQLite files built once per session by the real code paths, restored into each test.

    Migrating and loading the demo took most of each SQLite test's time; a copy of the
    resulting file is the same state at a fraction of the cost. PostgreSQL tests, tests with
    another clock, and the schema tests still build everything from scratch.
    """

    NOW = datetime(2025, 4, 7, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # tests/conftest.py

    def __init__(self, root: Path) -> None:
        self.root = root
        self.migrated = root / "migrated.db"
        self._demo: tuple[_Snapshot, _Snapshot] | None = None
        database = Database(f"sqlite:///{self.migrated.as_posix()}")
        database.upgrade()
        database.dispose()

    def demo(self) -> tuple[_Snapshot, _Snapshot]:
        """The demo loaded with fresh invites, and the same with everyone registered."""
        if self._demo is None:
            settings = Settings(data_dir=self.root / "demo")
            database = Database(settings.effective_database_url)
            database.upgrade()
            bot = Bot(settings, database, FixedClock(self.NOW))
            codes = _load_demo(bot)
            loaded = _Snapshot(self.root / "demo-loaded.db", codes)
            _backup(_sqlite_file(database), loaded.path)
            _register(bot, codes)
            registered = _Snapshot(self.root / "demo-registered.db", codes)
            _backup(_sqlite_file(database), registered.path)
            database.dispose()
            self._demo = (loaded, registered)
        return self._demo

    def usable(self, settings: Settings, clock: FixedClock) -> bool:
        return settings.database_url is None and clock.now() == self.NOW


def _sqlite_file(database: Database) -> Path:
    name = make_url(database.url).database
    assert name, database.url
    return Path(name)


def _backup(source: Path, target: Path) -> None:
    """Copy through SQLite's online backup: consistent, WAL content included, and an open
    target database (the test's engine) sees the new content at once."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        dst.execute("PRAGMA synchronous=OFF")  # test data: no need to wait for the disk
        src.backup(dst)


def _load_demo(bot: Bot) -> dict[str, str]:
    with bot.db.session() as session:
        now = bot.clock.now()
        assert load_demo(session, bot.settings, bot.calendar, now)
        return {p.handle: code for p, code in demo_invites(session, bot.settings, now)}


def _register(bot: Bot, codes: dict[str, str]) -> dict[str, ChatUser]:
    users: dict[str, ChatUser] = {}
    for handle, code in codes.items():
        user = ChatUser(bot, f"user-{handle.lower()}")
        reply = user.say(f"/start {code}")
        assert reply.startswith("Willkommen"), reply
        users[handle] = user
    return users


@pytest.fixture(scope="session")
def sqlite_snapshots(tmp_path_factory: pytest.TempPathFactory) -> SqliteSnapshots:
    return SqliteSnapshots(tmp_path_factory.mktemp("sqlite-snapshots"))


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> Settings:
    if backend == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return Settings(data_dir=tmp_path / "data", database_url=url)
    assert backend == "sqlite", backend
    settings = Settings(data_dir=tmp_path / "data")
    # Start from the migrated snapshot: the db fixture's upgrade then finds nothing to do.
    snapshots: SqliteSnapshots = request.getfixturevalue("sqlite_snapshots")
    target = settings.data_dir / "koopbot.db"
    target.parent.mkdir(parents=True)
    shutil.copyfile(snapshots.migrated, target)
    return settings


@pytest.fixture
def demo_codes(
    request: pytest.FixtureRequest, bot: Bot, db: Database, settings: Settings, clock: FixedClock
) -> dict[str, str]:
    """The demo organisation, loaded through bot.demo; one fresh invite code per Kürzel."""
    if _snapshot_usable(request, settings, clock):
        loaded, _ = request.getfixturevalue("sqlite_snapshots").demo()
        _backup(loaded.path, _sqlite_file(db))
        return dict(loaded.codes)
    return _load_demo(bot)


@pytest.fixture
def demo(
    request: pytest.FixtureRequest, bot: Bot, db: Database, settings: Settings, clock: FixedClock
) -> dict[str, ChatUser]:
    """Every demo person registered with their invite, as a chat user by Kürzel."""
    if _snapshot_usable(request, settings, clock):
        _, registered = request.getfixturevalue("sqlite_snapshots").demo()
        _backup(registered.path, _sqlite_file(db))
        return {h: ChatUser(bot, f"user-{h.lower()}") for h in registered.codes}
    return _register(bot, _load_demo(bot))


def _snapshot_usable(request: pytest.FixtureRequest, settings: Settings, clock: FixedClock) -> bool:
    snapshots: SqliteSnapshots = request.getfixturevalue("sqlite_snapshots")
    return snapshots.usable(settings, clock)


@pytest.fixture
async def http(settings: Settings, db: Database, clock: FixedClock) -> AsyncIterator[TestClient]:
    """The feed server on a free 127.0.0.1 port, rechecking the database on every request."""
    web = settings.web.model_copy(update={"recheck_seconds": 0.0})
    server = FeedServer(settings.model_copy(update={"web": web}), db, clock)
    client = TestClient(TestServer(server.app(), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
