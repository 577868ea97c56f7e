"""Engine, sessions and schema upgrades."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

import storage.models.registry
import storage.versioning  # noqa: F401  (registers the calendar versioning listener)

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"
_BUSY_MS = 30_000  # how long a SQLite write waits for another's lock (issue 11: chat users
# during a catch-up send)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite files get WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": _BUSY_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        cursor.close()

    return engine


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic configuration bound to this engine (no alembic.ini needed)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run on every start."""
    command.upgrade(alembic_config(engine), revision)


class Database:
    """The engine plus a session factory; one per process, passed down from the entry point."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error (no partial writes)."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def is_current(self) -> bool:
        """Whether the schema is at the code's head (a read: no write lock is taken)."""
        heads = set(ScriptDirectory.from_config(alembic_config(self.engine)).get_heads())
        with self.engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads()) == heads

    def upgrade(self) -> None:
        """Migrate when the schema is behind; a current schema is only read, so a command
        (`koopbot backup`) started while others write never waits for the write lock."""
        if not self.is_current():
            upgrade(self.engine)
        if self.engine.dialect.name == "sqlite":
            # Without statistics SQLite may scan all open deadlines instead of starting from a
            # person's cases; analysis_limit keeps this cheap however large the tables grow.
            # Fresh statistics are a nicety: under a write load they wait for the next start.
            try:
                with self.engine.begin() as connection:
                    connection.exec_driver_sql("PRAGMA busy_timeout=1000")
                    try:
                        connection.exec_driver_sql("PRAGMA analysis_limit=400")
                        connection.exec_driver_sql("ANALYZE")
                    finally:
                        connection.exec_driver_sql(f"PRAGMA busy_timeout={_BUSY_MS}")
            except OperationalError as exc:
                log.info("statistics not refreshed at start (%s)", exc.orig)

    def dispose(self) -> None:
        self.engine.dispose()
