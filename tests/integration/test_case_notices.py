"""C7 (issue 14): `/mitteilung` sends a short notice to the case's ASD contact through the
outbox, name-checked and audited; the sender is told who gets it. The clock stands at
Mon 07.04.2025 10:00; HB-2026-011 belongs to JB (provider) and TB (ASD)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.core import Bot
from bot.reminder_render import GermanRenderer
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from storage import retention
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.cases import CaseNotice
from storage.models.outbox import OutboxEntry
from tests.conftest import BERLIN, ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, one_row, row_counts, staff_id
from tests.reminder_fakes import RecordingMessenger

CASE = "HB-2026-011"
TB, EL, JB = "user-tb", "user-el", "user-jb"


@pytest.fixture
def dispatcher(settings: Settings, db: Database, clock: FixedClock, bot: Bot) -> Dispatcher:
    return Dispatcher(
        settings,
        db,
        clock,
        bot.calendar,
        {"console": RecordingMessenger(clock)},
        GermanRenderer(settings, bot.calendar),
    )


def sent(dispatcher: Dispatcher) -> list[tuple[str, str]]:
    messenger = dispatcher.messengers["console"]
    assert isinstance(messenger, RecordingMessenger)
    return [(s.to, s.reply.text) for s in messenger.sent]


@BOTH_BACKENDS
async def test_a_notice_reaches_the_asd_contact_once(
    db: Database, demo: dict[str, ChatUser], dispatcher: Dispatcher
) -> None:
    reply = demo["JB"].say(f"/mitteilung {CASE} veraenderung Umzug in einen anderen Stadtteil")
    notice = one_row(db, CaseNotice)
    assert reply == (
        f"Mitteilung #{notice.id} zu {CASE} (wesentliche Veränderung in der Familie) geht an "
        "Tobias Brandt (TB):\n„Umzug in einen anderen Stadtteil“"
    )
    assert (notice.kind, notice.text, notice.sent_by) == (
        "change",
        "Umzug in einen anderen Stadtteil",
        staff_id(db, "JB"),
    )
    audit = all_rows(db, AuditEntry)[-1]
    assert (audit.action, audit.entity, audit.entity_id) == ("send", "case_notice", notice.id)
    assert '"case": "HB-2026-011"' in audit.details and '"kind": "change"' in audit.details

    await dispatcher.dispatch()
    await dispatcher.dispatch()  # a second pass sends nothing again
    assert sent(dispatcher) == [
        (
            TB,
            f"📨 Mitteilung zu {CASE} (wesentliche Veränderung in der Familie) von Jonas Berg "
            "(JB), Familienhilfe Weserufer e. V., Mo 07.04.2025, 10:00:\n"
            "„Umzug in einen anderen Stadtteil“\n"
            f"Rückfragen: /erreichbar JB · Abstimmungsbedarf: /abstimmung {CASE}",
        )
    ]
    (row,) = all_rows(db, OutboxEntry)
    assert (row.item_type, row.stage, row.status) == ("alert", "c7:notice", "sent")


async def test_two_notices_at_once_both_arrive(
    db: Database, demo: dict[str, ChatUser], dispatcher: Dispatcher
) -> None:
    demo["JB"].say(f"/mitteilung {CASE} gruppenangebot Elterncafé dienstags begonnen")
    demo["JB"].say(f"/mitteilung {CASE} Vater ausgezogen")
    await dispatcher.dispatch()
    texts = [text for to, text in sent(dispatcher) if to == TB]
    assert len(texts) == 2
    assert (
        "(begonnenes Gruppenangebot)" in texts[0] and "„Elterncafé dienstags begonnen“" in texts[0]
    )
    assert (
        "(wesentliche Veränderung in der Familie)" in texts[1] and "„Vater ausgezogen“" in texts[1]
    )


async def test_while_the_contact_is_away_the_stand_in_gets_it_too(
    db: Database, clock: FixedClock, demo: dict[str, ChatUser], dispatcher: Dispatcher
) -> None:
    assert "Eingetragen" in demo["TB"].say("/abwesend urlaub heute-18.04.")
    reply = demo["JB"].say(f"/mitteilung {CASE} Vater ausgezogen")
    assert "geht an Tobias Brandt (TB) und Eva Lind (EL):" in reply  # no deputy: coordinator
    await dispatcher.dispatch()
    assert sorted(to for to, _ in sent(dispatcher)) == [EL, TB]


@pytest.mark.parametrize(
    ("who", "text", "answer"),
    [
        ("JB", f"/mitteilung {CASE} Familie Yilmaz zieht um", "als stünde ein Name"),
        ("JB", f"/mitteilung {CASE} gruppenangebot", "Was soll das Jugendamt erfahren?"),
        ("JB", "/mitteilung", "So geht eine Mitteilung"),
        ("JB", f"/mitteilung {CASE} " + "x" * 301, "zu lang (höchstens 300 Zeichen)"),
        ("LW", f"/mitteilung {CASE} Umzug", "finde ich nicht"),  # not LW's case
        ("TB", f"/mitteilung {CASE} Umzug", "schickt der freie Träger"),
        ("JB", "/mitteilung Kowalski Umzug", "sieht wie ein Name aus"),
    ],
)
def test_bad_notices_are_refused_and_change_nothing(
    db: Database, demo: dict[str, ChatUser], who: str, text: str, answer: str
) -> None:
    before = row_counts(db)
    reply = demo[who].say(text)
    assert answer in reply and "Yilmaz" not in reply and "Kowalski" not in reply
    assert row_counts(db) == before


def test_no_notice_for_a_closed_case(db: Database, demo: dict[str, ChatUser]) -> None:
    assert "beendet" in demo["TB"].say(f"/fall_schliessen {CASE}")
    before = row_counts(db)
    assert demo["JB"].say(f"/mitteilung {CASE} Umzug") == f"Der Fall {CASE} ist abgeschlossen."
    assert row_counts(db) == before


async def test_quiet_hours_hold_a_notice_until_morning(
    db: Database, clock: FixedClock, demo: dict[str, ChatUser], dispatcher: Dispatcher
) -> None:
    clock.set(datetime(2025, 4, 7, 22, 30, tzinfo=BERLIN))
    demo["JB"].say(f"/mitteilung {CASE} Vater ausgezogen")
    await dispatcher.dispatch()
    assert sent(dispatcher) == []
    clock.set(datetime(2025, 4, 8, 8, 0, tzinfo=BERLIN))
    await dispatcher.dispatch()
    assert [to for to, _ in sent(dispatcher)] == [TB]


@BOTH_BACKENDS
async def test_retention_deletes_a_closed_cases_notices(
    settings: Settings,
    db: Database,
    clock: FixedClock,
    demo: dict[str, ChatUser],
    dispatcher: Dispatcher,
) -> None:
    demo["JB"].say(f"/mitteilung {CASE} Vater ausgezogen")
    await dispatcher.dispatch()
    assert "beendet" in demo["TB"].say(f"/fall_schliessen {CASE}")
    later = clock.now() + timedelta(days=settings.retention.closed_case_days + 1)
    with db.session() as session:
        retention.apply(session, settings.retention, later, later.date())
    assert all_rows(db, CaseNotice) == []
    assert all_rows(db, OutboxEntry, OutboxEntry.stage == "c7:notice") == []
