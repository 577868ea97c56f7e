"""/notfall from the stored rotation (DOMAIN.md R1, R2) and /ag78 sessions (A1, A2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.core import Bot
from config.enums import OrgKind, Role
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.rota import Rotation
from storage.models.staff import Organisation
from storage.staff import create_invite
from tests.conftest import ChatUser
from tests.integration.helpers import one_row, row_counts

BERLIN = ZoneInfo("Europe/Berlin")
HEAD = "Notfallkontakt jetzt:\nRufbereitschaft Weserufer (Familienhilfe Weserufer e. V.):"
MARA = "  Mara Koch (MK), Tel. 0421 555-1010"
JONAS = "  Jonas Berg (JB), Tel. 0421 555-1011"
TIM = "  Tim Sommer (TS), Tel. 0421 555-1013"


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_demo_rotation_is_weekly_from_a_monday(db: Database, demo: dict[str, ChatUser]) -> None:
    rotation = one_row(db, Rotation)
    # The demo anchors the rotation three weeks before the clock's Monday 07.04.2025.
    assert (rotation.anchor, rotation.handover, rotation.shift_days) == (
        date(2025, 3, 17),
        time(9, 0),
        7,
    )


@pytest.mark.parametrize(
    ("now", "person", "until", "then"),
    [
        (_at(2025, 4, 7, 8, 59), TIM, "Mo 07.04.2025, 09:00", "Mara Koch"),
        (_at(2025, 4, 7, 9, 0), MARA, "Mo 14.04.2025, 09:00", "Jonas Berg"),
        (_at(2025, 4, 7, 10, 0), MARA, "Mo 14.04.2025, 09:00", "Jonas Berg"),
        (_at(2025, 4, 13, 23, 59), MARA, "Mo 14.04.2025, 09:00", "Jonas Berg"),
        (_at(2025, 4, 14, 8, 59), MARA, "Mo 14.04.2025, 09:00", "Jonas Berg"),
        (_at(2025, 4, 14, 9, 0), JONAS, "Mo 21.04.2025, 09:00", "Tim Sommer"),
        (_at(2025, 4, 21, 9, 30), TIM, "Mo 28.04.2025, 09:00", "Mara Koch"),
        (_at(2025, 4, 28, 9, 30), MARA, "Mo 05.05.2025, 09:00", "Jonas Berg"),
    ],
)
def test_on_call_before_and_after_handover(
    clock: FixedClock,
    demo: dict[str, ChatUser],
    now: datetime,
    person: str,
    until: str,
    then: str,
) -> None:
    clock.set(now)
    assert demo["LW"].say("/notfall") == f"{HEAD}\n{person}\n  bis {until}, danach {then}"


@pytest.mark.parametrize(
    ("now", "person", "until", "then"),
    [
        # Spring forward in the night to Sun 29.03.2026; the handover stays at 09:00 local.
        (_at(2026, 3, 29, 12, 0), TIM, "Mo 30.03.2026, 09:00", "Mara Koch"),
        (_at(2026, 3, 30, 8, 59), TIM, "Mo 30.03.2026, 09:00", "Mara Koch"),
        (_at(2026, 3, 30, 9, 1), MARA, "Mo 06.04.2026, 09:00", "Jonas Berg"),
        # The same instants given in UTC (07:01 UTC is 09:01 summer time, 08:01 winter time).
        (datetime(2026, 3, 30, 6, 59, tzinfo=UTC), TIM, "Mo 30.03.2026, 09:00", "Mara Koch"),
        (datetime(2026, 3, 30, 7, 1, tzinfo=UTC), MARA, "Mo 06.04.2026, 09:00", "Jonas Berg"),
        # Fall back in the night to Sun 26.10.2025.
        (_at(2025, 10, 27, 8, 59), JONAS, "Mo 27.10.2025, 09:00", "Tim Sommer"),
        (datetime(2025, 10, 27, 8, 1, tzinfo=UTC), TIM, "Mo 03.11.2025, 09:00", "Mara Koch"),
    ],
)
def test_handover_stays_at_nine_across_daylight_saving(
    clock: FixedClock,
    demo: dict[str, ChatUser],
    now: datetime,
    person: str,
    until: str,
    then: str,
) -> None:
    clock.set(now)
    assert demo["TB"].say("/notfall") == f"{HEAD}\n{person}\n  bis {until}, danach {then}"


def test_on_call_works_in_groups_and_for_the_jugendamt(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    before = row_counts(db)
    private = demo["JB"].say("/notfall")
    assert private.startswith(f"{HEAD}\n{MARA}")
    # R2: the ASD side asks who is on call at the provider, also in a shared group chat.
    assert demo["TB"].say("/notfall", private=False) == private
    assert demo["EL"].say("/oncall", private=False) == private
    assert demo["TB"].say("/notfall@koopbot_bot", private=False) == private
    assert demo["TB"].say("!notfall", private=False) == private
    # Case data never goes to a group.
    for text in ("/fristen", "/faelle", "/fall HB-2026-011", "/stunden 1 netzwerk"):
        assert demo["JB"].say(text, private=False) == texts.PRIVATE_ONLY
    assert row_counts(db) == before


def test_no_rotation_yet(bot: Bot, db: Database, clock: FixedClock) -> None:
    with db.session() as s:
        org = Organisation(name="Träger Ost", kind=OrgKind.provider)
        s.add(org)
        s.flush()
        code, _ = create_invite(
            s, organisation=org, role=Role.coordinator, now=clock.now(), valid_days=14
        )
    user = ChatUser(bot, "ost-1")
    assert user.say(f"/start {code} Olga Ost").startswith("Willkommen")
    assert user.say("/notfall") == texts.NO_ONCALL
    assert user.say("/ag78") == texts.NO_SESSIONS


def test_ag78_lists_upcoming_sessions_only(demo: dict[str, ChatUser]) -> None:
    reply = demo["EL"].say("/ag78")
    place = ", Kreishaus, Sitzungssaal 2"
    assert reply.splitlines() == [
        "AG 78 – kommende Termine:",
        f"Fr 09.05.2025, 09:00–12:00 Sitzung 2. Quartal 2025{place}",
        f"Fr 08.08.2025, 09:00–12:00 Sitzung 3. Quartal 2025{place}",
        f"Fr 14.11.2025, 09:00–12:00 Sitzung 4. Quartal 2025{place}",
    ]
    assert demo["JB"].say("/ag78", private=False) == reply


def test_ag78_session_in_progress_is_still_upcoming(
    clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    clock.set(_at(2025, 5, 9, 11, 0))
    assert "Fr 09.05.2025, 09:00–12:00" in demo["MK"].say("/ag78")
    clock.set(_at(2025, 5, 9, 12, 1))
    assert "09.05.2025" not in demo["MK"].say("/ag78")


def test_ag78_alle_includes_the_seed_dates(demo: dict[str, ChatUser]) -> None:
    lines = demo["MK"].say("/ag78 alle").splitlines()
    assert lines[0] == "AG 78 – alle Termine:"
    place = ", Kreishaus, Sitzungssaal 2"
    # Seed 003 calls 20.03.2023 a Wednesday; it was a Monday (A2).
    assert lines[1:6] == [
        f"Fr 27.01.2023, 09:00–12:00 1. Sitzung AG 78 HzE{place}",
        f"Mo 20.03.2023, 09:00–16:00 Fachaustausch (Workshop){place}",
        f"Fr 12.05.2023, 09:00–12:00 Sitzung 2. Quartal{place}",
        f"Fr 01.09.2023, 09:00–12:00 Sitzung 3. Quartal{place}",
        f"Fr 13.10.2023, 09:00–12:00 Sitzung 4. Quartal{place}",
    ]
    assert len(lines) == 9 and lines[6].startswith("Fr 09.05.2025")
