"""Alembic environment: runs against the engine handed in by storage.db."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

import storage.models.registry  # noqa: F401  (registers every table)

_LOCK_KEY = 0x6B6F6F70  # "koop": koopbot's schema upgrades, one at a time per database
config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through storage.db.upgrade(engine)")


def _run(connection: Connection, *, batch: bool) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=batch,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes may start (and upgrade) at once: the first migrates, the others
            # wait here and then find the schema at head (issue 16). SQLite: BEGIN IMMEDIATE.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        context.run_migrations()


def _run_sqlite(connection: Connection) -> None:
    """All pending migrations in one real SQLite transaction, so a failure leaves nothing.

    Python's sqlite3 driver commits before DDL on its own; with its transaction handling off
    we issue BEGIN and COMMIT ourselves. Batch migrations rebuild tables (copy, drop, rename),
    which foreign keys would refuse; the pragma only works outside a transaction, and the
    keys are checked before the commit instead.
    """
    driver = connection.connection.driver_connection
    assert driver is not None
    saved = driver.isolation_level
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    driver.isolation_level = None
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            _run(connection, batch=True)
            violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise RuntimeError(f"migration left foreign key violations: {violations[:5]}")
            connection.exec_driver_sql("COMMIT")
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
    finally:
        driver.isolation_level = saved
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


with engine.connect() as connection:
    if connection.dialect.name == "sqlite":
        _run_sqlite(connection)
    else:
        _run(connection, batch=False)
        connection.commit()
