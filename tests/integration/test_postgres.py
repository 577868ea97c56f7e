"""PostgreSQL specifics: the per-session database, column types, and parity with SQLite.

The storage-heavy tests of the other modules run on both backends (helpers.BOTH_BACKENDS);
this module checks what only makes sense with PostgreSQL itself.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from bot.core import Bot
from bot.demo import demo_invites, load_demo
from config.enums import OrgKind
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.staff import Organisation
from tests.conftest import ChatUser
from tests.integration.conftest import (
    PG_URL_ENV,
    admin_engine,
    create_database,
    empty_all_tables,
)
from tests.integration.helpers import one_row, row_counts

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2025, 4, 7, 10, 0, tzinfo=BERLIN)

# A working week of both sides, as one transcript: (Kürzel, message) or a new clock time.
SCRIPT: list[tuple[str, str] | datetime] = [
    ("MK", "/faelle"),
    ("MK", "/fristen alle"),
    ("TB", "/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=JB kinderschutz=ja empfehlung=fk"),
    ("TB", "/fall_neu HB-2025-018 §31 beginn=01.04.2025 traeger=LW bericht=3"),
    ("TB", "/hpg HB-2025-117 02.06.2025 10:00"),
    ("JB", "/hpg HB-2025-117 03.06.2025 14:30"),
    ("JB", "/stunden 1,5 HB-2025-117"),
    ("JB", "/stunden 2 gruppe teilnehmer=6 gestern"),
    ("LW", "/stunden 12 netzwerk 01.04."),
    ("LW", "/stunden 12 beratung 01.04."),
    ("LW", "/stunden 1 fallunspezifisch 01.04."),
    datetime(2025, 4, 10, 11, 0, tzinfo=BERLIN),
    ("JB", "/abstimmung HB-2025-117"),
    ("JB", "/fristen"),
    ("JB", "/erledigt 23"),
    ("JB", "/meinestunden monat"),
    ("JB", "/stunden_zurueck"),
    ("TB", "/zuweisen HB-2025-018 traeger=LW"),
    datetime(2025, 4, 28, 9, 30, tzinfo=BERLIN),
    ("TB", "/fall_schliessen HB-2025-018"),
    ("EL", "/fristen alle"),
    ("TS", "/notfall"),
    ("LW", "/ag78 alle"),
    ("MK", "/faelle alle"),
    ("TB", "/fall HB-2025-117"),
]


def _transcript(settings: Settings) -> list[str]:
    """Run SCRIPT against a fresh database and return every reply."""
    database = Database(settings.effective_database_url)
    database.upgrade()
    try:
        clock = FixedClock(START)
        bot = Bot(settings, database, clock)
        with database.session() as session:
            load_demo(session, settings, bot.calendar, clock.now())
            codes = {p.handle: code for p, code in demo_invites(session, settings, clock.now())}
        users = {handle: ChatUser(bot, f"u-{handle}") for handle in codes}
        replies = [users[h].say(f"/start {code}") for h, code in codes.items()]
        for step in SCRIPT:
            if isinstance(step, datetime):
                clock.set(step)
            else:
                replies.append(users[step[0]].say(step[1]))
        return replies
    finally:
        database.dispose()


def test_both_backends_give_the_same_answers(tmp_path: Path, pg_url: str) -> None:
    on_sqlite = _transcript(Settings(data_dir=tmp_path / "sqlite"))
    on_postgres = _transcript(Settings(data_dir=tmp_path / "pg", database_url=pg_url))
    assert (
        len(on_postgres)
        == len(on_sqlite)
        == 6 + len([s for s in SCRIPT if not isinstance(s, datetime)])
    )
    for step, (lite, pg) in enumerate(zip(on_sqlite, on_postgres, strict=True)):
        assert pg == lite, f"reply {step} differs"
    # The script really exercised the database, not only error paths.
    assert sum("angelegt" in r for r in on_postgres) == 2
    assert any("verschoben (vorher Do 17.04.2025)" in r for r in on_postgres)
    assert any("mehr als 24 Std. an einem Tag" in r for r in on_postgres)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_session_database_is_fresh_and_named_for_tests(
    backend: str, settings: Settings, db: Database, pg_engine: Engine
) -> None:
    assert settings.effective_database_url.startswith("postgresql+psycopg://")
    with db.engine.connect() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        assert name.startswith("koopbot_test_")
        assert conn.execute(text("SELECT count(*) FROM staff")).scalar_one() == 0
        # Aware timestamps are stored as timestamptz, enums as PostgreSQL enum types.
        types = dict(
            conn.execute(
                text(
                    "SELECT table_name || '.' || column_name, data_type "
                    "FROM information_schema.columns WHERE table_schema = current_schema()"
                )
            ).all()
        )
        assert types["meeting.starts_at"] == "timestamp with time zone"
        assert types["audit_log.at"] == "timestamp with time zone"
        assert types["hzcase.start_date"] == "date"
        assert types["deadline.kind"] == "USER-DEFINED"
        trigger = conn.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass")
        ).scalars()
        assert "audit_log_append_only" in list(trigger)


@pytest.mark.parametrize("truncate", [True, False])
@pytest.mark.parametrize("backend", ["postgresql"])
def test_emptying_between_tests_leaves_a_new_database(
    backend: str, truncate: bool, db: Database, pg_engine: Engine, demo: dict[str, ChatUser]
) -> None:
    demo["TB"].say("/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=JB")
    assert row_counts(db)["audit_log"] > 0 and row_counts(db)["deadline"] > 0
    with pg_engine.begin() as conn:
        empty_all_tables(conn, truncate=truncate)
    assert set(row_counts(db).values()) == {0}
    with pg_engine.begin() as conn:  # the schema and its guards are still there
        trigger = "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_log_append_only'"
        assert conn.execute(text(trigger)).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    with db.session() as s:
        s.add(Organisation(name="Neu", kind=OrgKind.provider))
    assert one_row(db, Organisation).id == 1  # ids start again


def test_unreachable_server_fails_instead_of_skipping() -> None:
    # Port 1 on the loopback refuses at once; nothing listens there.
    admin = admin_engine("postgresql+psycopg://root@127.0.0.1:1/postgres?connect_timeout=3")
    try:
        with pytest.raises(pytest.fail.Exception) as failed:
            create_database(admin, "koopbot_test_never")
    finally:
        admin.dispose()
    assert "PostgreSQL at postgresql+psycopg://root@127.0.0.1:1/postgres" in str(failed.value)
    assert "unreachable" in str(failed.value) and PG_URL_ENV in str(failed.value)
