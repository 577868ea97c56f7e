"""The append-only audit log (DOMAIN.md P4) and the schema: migrations, WAL, constraints."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import delete, inspect, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from bot.core import Bot
from config.enums import Role
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database, alembic_config
from storage.models.audit import AuditEntry
from storage.models.cases import Case
from storage.models.staff import Staff
from tests.conftest import ChatUser
from tests.integration.helpers import (
    BOTH_BACKENDS,
    all_rows,
    audit_trail,
    case_of,
    deadline_number,
    last_audit_id,
    one_row,
    row_counts,
    staff_id,
)

_INVITE_CODE = re.compile(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}\b")
CODE = "HB-2025-117"


@BOTH_BACKENDS
def test_every_change_is_audited(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    who = {handle: staff_id(db, handle) for handle in demo}
    mark = last_audit_id(db)
    invite_code = _INVITE_CODE.findall(demo["MK"].say("/einladen mitarbeiter typ=semi"))[0]
    ChatUser(bot, "nora").say(f"/start {invite_code} Nora Neu")
    created = demo["TB"].say(f"/fall_neu {CODE} §30 beginn=07.03.2025 traeger=JB")
    action_plan = deadline_number(created, "Handlungsplan")
    demo["TB"].say(f"/hpg {CODE} 02.06.2025 10:00")
    demo["JB"].say(f"/hpg {CODE} 03.06.2025 10:00")
    demo["JB"].say(f"/abstimmung {CODE}")
    demo["JB"].say(f"/erledigt {action_plan}")
    demo["JB"].say(f"/stunden 1,5 {CODE}")
    demo["JB"].say("/stunden_zurueck")
    demo["TB"].say(f"/zuweisen {CODE} traeger=TS")
    demo["TB"].say(f"/hpg {CODE} absagen")
    demo["MK"].say(f"/fall_schliessen {CODE}")
    changes = audit_trail(db, mark)

    # Reading and refused changes leave no trace.
    for handle, request in [
        ("JB", "/fristen"),
        ("TB", "/faelle"),
        ("TB", f"/fall {CODE}"),
        ("EL", "/notfall"),
        ("LW", "/ag78 alle"),
        ("JB", "/meinestunden"),
        ("MK", "/hilfe"),
        ("JB", "/stunden 13 netzwerk"),
        ("LW", f"/erledigt {action_plan}"),
        ("TB", f"/fall_neu {CODE} §30 beginn=07.03.2025 traeger=JB"),
    ]:
        demo[handle].say(request)
    assert audit_trail(db, mark) == changes

    nora = staff_id(db, "NN")
    assert changes == [
        (who["MK"], "invite", "invite"),
        (nora, "register", "staff"),
        (who["TB"], "create", "case"),
        (who["TB"], "meeting_eingetragen", "meeting"),
        (who["JB"], "meeting_verlegt", "meeting"),
        (who["JB"], "raise", "coordination_request"),
        (who["JB"], "done", "deadline"),
        (who["JB"], "log", "hours_entry"),
        (who["JB"], "undo", "hours_entry"),
        (who["TB"], "assign", "case"),
        (who["TB"], "meeting_abgesagt", "meeting"),
        (who["MK"], "close", "case"),
    ]
    entries = [a for a in all_rows(db, AuditEntry) if (a.id or 0) > mark]
    case_id = case_of(db, CODE).id
    assert [a.entity_id for a in entries if a.entity == "case"] == [case_id] * 3
    assert {a.at for a in entries} == {clock.now()}
    assert {a.actor for a in entries} == {"staff"}
    for entry in entries:
        details = json.loads(entry.details)  # codes and ids only, never free text
        assert "Nora" not in entry.details and "Neu" not in entry.details
        assert all(isinstance(v, str | int | bool | None) for v in details.values())
    # The demo loader records itself too.
    first = all_rows(db, AuditEntry)[0]
    assert (first.actor, first.action, first.actor_staff_id) == ("cli", "load_demo", None)


@BOTH_BACKENDS
def test_audit_log_refuses_update_and_delete(db: Database, demo: dict[str, ChatUser]) -> None:
    before = [(a.id, a.action, a.details) for a in all_rows(db, AuditEntry)]
    assert len(before) >= 7  # the demo load and six registrations
    first_id, last_id = before[0][0], before[-1][0]

    statements = [
        update(AuditEntry).values(action="forged"),
        update(AuditEntry).where(AuditEntry.id == last_id).values(details="{}"),
        delete(AuditEntry),
        delete(AuditEntry).where(AuditEntry.id == first_id),
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
            s.execute(statement)
    with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
        s.execute(text("UPDATE audit_log SET actor_staff_id = NULL"))
    with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
        entry = s.get(AuditEntry, last_id)
        assert entry is not None
        entry.action = "forged"
    with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
        s.delete(s.get(AuditEntry, first_id))

    assert [(a.id, a.action, a.details) for a in all_rows(db, AuditEntry)] == before
    # Appending still works after the refusals.
    demo["MK"].say("/einladen koordination")
    assert len(all_rows(db, AuditEntry)) == len(before) + 1


@BOTH_BACKENDS
def test_upgrade_is_idempotent_and_matches_the_models(
    settings: Settings, db: Database, demo: dict[str, ChatUser]
) -> None:
    counts = row_counts(db)
    for _ in range(2):
        again = Database(settings.effective_database_url)
        again.upgrade()
        again.dispose()
    db.upgrade()
    assert row_counts(db) == counts

    head = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            head
        ]
        # The migrations create exactly what the models describe (no drift either way).
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables
    assert demo["JB"].say("/faelle").startswith("2 Fälle:")  # the data survived


@BOTH_BACKENDS
def test_database_enforces_keys_and_uniqueness(db: Database, demo: dict[str, ChatUser]) -> None:
    case = case_of(db, "HB-2026-011")
    before = row_counts(db)
    with pytest.raises(DBAPIError), db.session() as s:
        s.add(
            Staff(
                organisation_id=999_999,
                name="Niemand",
                handle="NI",
                role=Role.caseworker,
                created_at=case.created_at,
            )
        )
    with pytest.raises(DBAPIError), db.session() as s:
        s.add(Case(**case.model_dump(exclude={"id"})))  # the same code once more
    assert row_counts(db) == before
    assert one_row(db, Case, Case.code == "HB-2026-011").start_date == date(2025, 3, 26)


def test_fresh_sqlite_file_is_migrated_twice_and_in_wal_mode(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh")
    path = settings.data_dir / "koopbot.db"
    assert not path.exists()
    database = Database(settings.effective_database_url)
    try:
        database.upgrade()
        database.upgrade()
        assert path.is_file()
        head = ScriptDirectory.from_config(alembic_config(database.engine)).get_current_head()
        with database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            assert list(versions) == [head]
    finally:
        database.dispose()
    # WAL is a property of the file: a plain connection from another process sees it too.
    with closing(sqlite3.connect(path)) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
