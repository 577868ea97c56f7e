"""Issue 14 on the controlling views: split by staff type whenever both logged hours (H4), a
German notice instead of an empty chart, the XLSX sheets the README lists, file names that
never replace an earlier file. The clock stands at Mon 07.04.2025 10:00 (Q2/2025 running)."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook

from bot.core import Bot
from bot.messages import Incoming, Reply
from config.enums import HoursCategory
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.hours import HoursEntry
from storage.models.staff import Staff
from tests.conftest import BERLIN, ChatUser
from tests.integration.helpers import BOTH_BACKENDS, case_of, one_row

CASE = "HB-2026-011"  # JB (Fachkraft)


def ask(bot: Bot, user: ChatUser, text: str) -> Reply:
    return bot.handle(Incoming(sender=user.sender, chat_id=user.sender.user_id, text=text))


def add(db: Database, handle: str, day: date, minutes: int, category: HoursCategory) -> None:
    staff = one_row(db, Staff, Staff.handle == handle)
    case_id = case_of(db, CASE).id if category is HoursCategory.direct else None
    with db.session() as s:
        s.add(
            HoursEntry(
                staff_id=staff.id or 0,
                organisation_id=staff.organisation_id,
                day=day,
                minutes=minutes,
                category=category,
                case_id=case_id,
                created_at=datetime(2025, 4, 1, 18, tzinfo=BERLIN),
            )
        )


@BOTH_BACKENDS
def test_both_staff_types_are_shown_when_both_logged_hours(
    bot: Bot, db: Database, demo: dict[str, ChatUser]
) -> None:
    """LW (semiprofessional) logged group and non-case work only: she is not left out."""
    assert "Gespeichert" in demo["MK"].say("/vertrag stunden=40")
    add(db, "JB", date(2025, 4, 1), 180, HoursCategory.direct)
    add(db, "LW", date(2025, 4, 2), 120, HoursCategory.group)
    add(db, "LW", date(2025, 4, 3), 60, HoursCategory.non_case)
    reply = ask(bot, demo["MK"], "/quartal")
    lines = reply.text.splitlines()
    assert lines[1:4] == [
        "Direkt am Klienten: 3 Std. von 10 Std. Soll = 30 %",
        "  Fachkraft 3 Std. · semiprofessionell 0 Std.",
        "  alle Kategorien: Fachkraft 3 Std. · semiprofessionell 3 Std.",
    ]
    png, xlsx = reply.attachments
    assert png.mime_type == "image/png"
    categories = {
        row[0]: row[1:]
        for row in load_workbook(io.BytesIO(xlsx.data))["Kategorien"].iter_rows(
            min_row=2, values_only=True
        )
    }
    assert categories["Gruppenangebot / fallübergreifend"] == (0.0, 2.0, 2.0)


def test_a_quarter_with_only_fachkraft_hours_needs_no_split_line(
    bot: Bot, db: Database, demo: dict[str, ChatUser]
) -> None:
    add(db, "JB", date(2025, 4, 1), 180, HoursCategory.direct)
    lines = ask(bot, demo["MK"], "/quartal").text.splitlines()
    assert lines[2] == "  Fachkraft 3 Std."
    assert not any(line.startswith("  alle Kategorien") for line in lines)


def test_no_hours_gives_a_notice_instead_of_an_empty_chart(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    mk = demo["MK"]
    assert "Gespeichert" in mk.say("/vertrag stunden=1200")
    clock.set(datetime(2026, 1, 5, 10, tzinfo=BERLIN))
    chart = ask(bot, mk, "/grafik 2025")
    assert chart.text == (
        "Keine Grafik: Für 2025 und die Quartale davor sind noch keine Stunden am Klienten erfasst."
    )
    assert chart.attachments == ()
    month = ask(bot, mk, "/grafik monat JB")
    assert month.text == (
        "JB hat vom 01.01.2026 bis 31.01.2026 (01/2026) noch keine Stunden erfasst; eine "
        "Grafik gibt es, sobald Stunden erfasst sind."
    )
    assert month.attachments == ()
    quarter = ask(bot, mk, "/quartal letztes")
    assert "Keine Grafik: Für Q4/2025 und die Quartale davor" in quarter.text
    assert [a.mime_type for a in quarter.attachments] == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ]
    year = ask(bot, mk, "/jahr 2025")
    assert year.text.endswith("Jahresbericht 2025: Zahlen und XLSX anbei.")


def test_the_export_has_the_readmes_sheets_even_without_data(
    bot: Bot, db: Database, demo: dict[str, ChatUser]
) -> None:
    reply = ask(bot, demo["MK"], "/export xlsx 2025-Q1")
    assert reply.text == (
        "Export Q1/2025 als XLSX (Blätter: Übersicht, Quartale, Kategorien, Ausfälle, "
        "Mitarbeitende, Korrekturen)."
    )
    (xlsx,) = reply.attachments
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == [
        "Übersicht",
        "Quartale",
        "Kategorien",
        "Ausfälle",
        "Mitarbeitende",
        "Korrekturen",
    ]
    staff = [row[:3] for row in book["Mitarbeitende"].iter_rows(min_row=2, values_only=True)]
    assert staff == [
        ("JB", "Jonas Berg", "Fachkraft"),
        ("LW", "Lea Wolf", "semiprofessionell"),
        ("MK", "Mara Koch", "Fachkraft"),
        ("TS", "Tim Sommer", "Fachkraft"),
    ]
    assert [c.value for c in book["Korrekturen"][1]][:2] == ["korrigiert am", "Eintrag"]
    assert book["Korrekturen"].max_row == 1


def test_file_names_carry_the_time_so_nothing_is_replaced(
    bot: Bot, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    mk = demo["MK"]
    first = ask(bot, mk, "/export xlsx 2025-Q1").attachments[0].filename
    clock.set(datetime(2025, 4, 7, 10, 0, 1, tzinfo=BERLIN))
    second = ask(bot, mk, "/quartal 2025-Q1").attachments[-1].filename
    assert first == "stunden_2025-Q1_2025-04-07_100000.xlsx"
    assert second == "stunden_2025-Q1_2025-04-07_100001.xlsx"
