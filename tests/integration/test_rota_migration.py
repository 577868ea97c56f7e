"""Migration 0011 (issue 15) on a database holding rotations and swaps from before it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import command

from scheduler.rota import shift_by_number
from scheduler.rota_state import load_state, rotation_spec
from storage.db import Database, alembic_config
from storage.models.rota import Rotation

BERLIN = ZoneInfo("Europe/Berlin")


def test_stored_swaps_get_the_span_of_their_shifts_and_old_rotations_keep_working(
    tmp_path: Path,
) -> None:
    path = tmp_path / "koopbot.db"
    db = Database(f"sqlite:///{path}")
    command.upgrade(alembic_config(db.engine), "0007")
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO organisation (name, kind) VALUES ('T', 'provider')")
        for handle in ("AB", "CD"):
            con.execute(
                "INSERT INTO staff (organisation_id, name, handle, role, active, created_at) "
                f"VALUES (1, 'N {handle}', '{handle}', 'caseworker', 1, '2025-01-01 00:00:00')"
            )
        con.execute(
            "INSERT INTO rotation (organisation_id, name, anchor, handover, shift_days, "
            "backup_next) VALUES (1, 'R', '2025-01-06', '09:00:00.000000', 7, 0)"
        )
        for position, staff in enumerate((1, 2)):
            con.execute(
                "INSERT INTO rotation_member (rotation_id, staff_id, position) "
                f"VALUES (1, {staff}, {position})"
            )
        con.execute(
            "INSERT INTO oncall_swap (rotation_id, shift_a, holder_a, holder_b, shift_b, "
            "requested_by, status, created_at) VALUES (1, 10, 1, 2, 11, 1, 'confirmed', "
            "'2025-02-01 00:00:00')"
        )
    db.upgrade()
    with db.session() as session:
        rotation = session.get(Rotation, 1)
        assert rotation is not None
        spec = rotation_spec(session, rotation, BERLIN)
        a, b = shift_by_number(spec, 10), shift_by_number(spec, 11)
        assert a is not None and b is not None
        # The stored span covers both shifts, with a day's margin.
        (first, last), *_ = session.connection().exec_driver_sql(
            "SELECT first_start, last_end FROM oncall_swap"
        )
        first_at = datetime.fromisoformat(str(first)).replace(tzinfo=UTC)
        last_at = datetime.fromisoformat(str(last)).replace(tzinfo=UTC)
        assert first_at <= a.start and last_at >= b.end
        assert a.start - first_at <= timedelta(days=1, hours=10)
        # The old rotation has no rule versions and still answers, the swap applied.
        state = load_state(session, rotation, BERLIN, start=a.start, end=b.end)
        duty = state.duty_at(a.start + timedelta(hours=1))
        assert duty is not None and duty.staff_id == 2
    with sqlite3.connect(path) as con:
        columns = {r[1]: r[3] for r in con.execute("PRAGMA table_info(oncall_swap)")}
        assert columns["first_start"] == 1 and columns["last_end"] == 1  # NOT NULL
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    db.dispose()
