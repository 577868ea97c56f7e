"""Schema migrations on SQLite are all-or-nothing, also on a database that holds data."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.exc import OperationalError

from storage.db import Database, alembic_config

_VERSIONS = Path(__file__).parents[2] / "storage" / "migrations" / "versions"


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as con:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_a_failing_migration_leaves_the_schema_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "koopbot.db"
    db = Database(f"sqlite:///{path}")
    command.upgrade(alembic_config(db.engine), "0006")
    before = _tables(path)
    # 0007 creates several tables; one that already exists makes it fail after the others.
    created = re.findall(
        r'op\.create_table\(\s*"(\w+)"', (_VERSIONS / "0007_oncall_reachability.py").read_text()
    )
    assert len(created) >= 2
    with sqlite3.connect(path) as con:
        con.execute(f"CREATE TABLE {created[-1]} (x INTEGER)")
    with pytest.raises(OperationalError):
        db.upgrade()
    assert _tables(path) == before | {created[-1]}  # none of the others was left behind
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("0006",)]
        con.execute(f"DROP TABLE {created[-1]}")
    db.upgrade()  # and once the obstacle is gone, it goes through
    assert set(created) <= _tables(path)
    db.dispose()


def test_table_rebuilds_work_with_rows_that_reference_them(tmp_path: Path) -> None:
    """0007 rebuilds `rotation` (SQLite batch mode) while rotation members point at it."""
    path = tmp_path / "koopbot.db"
    db = Database(f"sqlite:///{path}")
    command.upgrade(alembic_config(db.engine), "0006")
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO organisation (name, kind) VALUES ('T', 'provider')")
        con.execute(
            "INSERT INTO staff (organisation_id, name, handle, role, active, created_at) "
            "VALUES (1, 'A B', 'AB', 'caseworker', 1, '2025-01-01 00:00:00')"
        )
        con.execute(
            "INSERT INTO rotation (organisation_id, name, anchor, handover, shift_days) "
            "VALUES (1, 'R', '2025-01-06', '09:00:00', 7)"
        )
        con.execute(
            "INSERT INTO rotation_member (rotation_id, staff_id, position) VALUES (1, 1, 0)"
        )
    db.upgrade()
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM rotation_member").fetchone() == (1,)
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    db.dispose()
