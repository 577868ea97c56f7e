"""Hours controlling through the core (issue 7): figures computed by hand, the 90 % rule and its
alert, closing quarters, corrections, the views by role, PNG and XLSX opened and read back."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import col

from bot.console import chat
from bot.core import Bot
from bot.demo import PROVIDER
from bot.messages import Incoming, Reply
from bot.reminder_engine import reminder_engine
from config.enums import HoursCategory, MissedReason
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.hours import HoursCorrection, HoursEntry
from storage.models.outbox import OutboxEntry
from storage.models.staff import Staff
from tests.conftest import ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, case_of, one_row, row_counts
from tests.reminder_fakes import RecordingMessenger

BERLIN = ZoneInfo("Europe/Berlin")
KOOPBOT = Path(sys.executable).with_name("koopbot")
JB_CASE = "HB-2026-011"  # JB (Fachkraft), started 26.03.2025
LW_CASE = "HB-2026-007"  # LW (semiprofessionell), started 21.02.2025


def at(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, tzinfo=BERLIN)


def ask(bot: Bot, user: ChatUser, text: str) -> Reply:
    return bot.handle(Incoming(sender=user.sender, chat_id=user.sender.user_id, text=text))


def add(
    db: Database,
    handle: str,
    day: date,
    minutes: int,
    category: HoursCategory = HoursCategory.direct,
    case: str | None = None,
    *,
    participants: int | None = None,
    reason: MissedReason | None = None,
    withdrawn: bool = False,
) -> int:
    """One hours entry as `/stunden` would write it (the fixed data of the figure tests)."""
    staff = one_row(db, Staff, Staff.handle == handle)
    case_id = case_of(db, case).id if case else None
    with db.session() as s:
        entry = HoursEntry(
            staff_id=staff.id or 0,
            organisation_id=staff.organisation_id,
            day=day,
            minutes=minutes,
            category=category,
            case_id=case_id,
            participants=participants,
            missed_reason=reason,
            created_at=at(day.year, day.month, day.day, 18),
            deleted_at=at(day.year, day.month, day.day, 19) if withdrawn else None,
        )
        s.add(entry)
        s.flush()
        assert entry.id is not None
        return entry.id


def first_half_2025(db: Database) -> None:
    """Q1/2025: 8.5 h direct (85 %); Q2/2025: 8 h direct (80 %) of a 10 h quarter target."""
    add(db, "JB", date(2025, 3, 31), 240, case=JB_CASE)  # last day of Q1
    add(db, "LW", date(2025, 3, 14), 270, case=LW_CASE)
    add(db, "JB", date(2025, 4, 1), 180, case=JB_CASE)  # first day of Q2
    add(db, "LW", date(2025, 4, 18), 300, case=LW_CASE)  # Good Friday: a holiday, still counted
    add(db, "LW", date(2025, 4, 22), 120, HoursCategory.group, participants=6)
    add(db, "JB", date(2025, 4, 2), 60, HoursCategory.missed, JB_CASE, reason=MissedReason.illness)
    add(db, "JB", date(2025, 4, 3), 30, HoursCategory.informal_advice)
    add(db, "TS", date(2025, 4, 4), 48, HoursCategory.network)
    add(db, "TS", date(2025, 4, 4), 90, HoursCategory.non_case)
    add(db, "JB", date(2025, 5, 5), 600, case=JB_CASE, withdrawn=True)  # withdrawn: never counted


@pytest.fixture
def contract(demo: dict[str, ChatUser]) -> None:
    reply = demo["MK"].say("/vertrag stunden=40")
    assert "• 2025: 40 Std. (Quartal 10 Std.)" in reply, reply


def test_coordinator_gets_last_quarter_figures_chart_and_xlsx(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser], contract: None
) -> None:
    first_half_2025(db)
    clock.set(at(2025, 7, 1))
    reply = ask(bot, demo["MK"], "/quartal letztes")
    lines = reply.text.splitlines()
    assert lines[0] == (
        "Stundencontrolling Q2/2025 (01.04.2025–30.06.2025) · Familienhilfe Weserufer e. V."
    )
    # By hand: direct 180 + 300 = 480 min = 8 h of 10 h (40 h / 4) = 80 %; Fachkraft JB 3 h,
    # semiprofessional LW 5 h; indirect 20 % of 8 h = 1.6 h.
    # All categories (H4): Fachkräfte JB 3 + 1 + 0.5 h and TS 0.8 + 1.5 h = 6.8 h; LW 5 + 2 h.
    assert lines[1:12] == [
        "Direkt am Klienten: 8 Std. von 10 Std. Soll = 80 %",
        "  Fachkraft 3 Std. · semiprofessionell 5 Std.",
        "  alle Kategorien: Fachkraft 6,8 Std. · semiprofessionell 7 Std.",
        "Indirekte Zeit (20 % kalkulatorisch): 1,6 Std.",
        "Gruppenangebote/fallübergreifend: 1 Termin, 2 Std., 6 Teilnehmende",
        "Beratung ohne HzE: 1 Beratung, 0,5 Std.",
        "Fallunspezifische Arbeit: 1,5 Std. · Netzwerkarbeit: 0,8 Std.",
        "Ausgefallen: 1 Termin, 1 Std. (Krankheit 1)",
        "Betreute Fälle (mit direkten Stunden): 2",
        "Beendete Hilfen: 0, davon ohne Anschlusshilfe außerhalb der Familie: 0",
        "Noch nicht abgeschlossen: /quartal_abschliessen 2025-Q2",
    ]
    assert "• Q1/2025: 8,5 Std. von 10 Std. = 85 % ⚠️ unter 90 %" in lines
    assert "• Q2/2025: 8 Std. von 10 Std. = 80 % ⚠️ unter 90 %" in lines
    assert lines[-2:] == [
        "Keine 3 abgeschlossenen Quartale in Folge unter 90 %.",
        # Issue 14: the running Q3 still needs 90 % of 10 hours, over its working days after
        # today: 23 in July, 21 in August, 22 in September (no holiday in Bremen), less one.
        "Bis 30.09.2025 fehlen noch 9 Std. zu 90 %: 8 Min. je verbleibendem Werktag (65 Werktage).",
    ]

    png, xlsx = reply.attachments
    # Issue 14: the creation time in file names, so no download replaces an earlier one.
    assert (png.filename, png.mime_type) == ("stunden_2025-Q2_2025-07-01_090000.png", "image/png")
    image = Image.open(io.BytesIO(png.data)).convert("RGB")
    assert image.size == (800, 450)
    colors = image.getcolors(maxcolors=1_000_000)
    assert colors is not None and len(colors) > 20  # not blank
    present = {rgb for _, rgb in colors}
    assert (31, 95, 139) in present and (111, 168, 220) in present  # both staff types' bars

    assert xlsx.filename == "stunden_2025-Q2_2025-07-01_090000.xlsx"
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == [  # as the README lists them (issue 14)
        "Übersicht",
        "Quartale",
        "Kategorien",
        "Ausfälle",
        "Mitarbeitende",
        "Korrekturen",
    ]
    overview = {row[0].value: row[1] for row in book["Übersicht"].iter_rows(min_row=2)}
    assert overview["von"].value == datetime(2025, 4, 1)
    assert overview["von"].number_format == "DD.MM.YYYY"
    assert overview["Ist direkt"].value == 8.0
    assert overview["Soll direkt"].value == 10.0
    assert overview["Erfüllung"].value == pytest.approx(0.8)
    assert overview["Erfüllung"].number_format == "0.0%"
    categories = {
        row[0].value: [c.value for c in row[1:]] for row in book["Kategorien"].iter_rows(min_row=2)
    }
    assert categories["direkt am Klienten"] == [3.0, 5.0, 8.0]
    assert categories["Gruppenangebot / fallübergreifend"] == [0.0, 2.0, 2.0]
    body = [v for k, v in categories.items() if k != "Summe"]
    # The sums read back equal the sum of the rows: 8 + 2 + 1.5 + 0.8 + 0.5 + 1 = 13.8 h.
    assert categories["Summe"][-1] == pytest.approx(sum(v[-1] for v in body)) == pytest.approx(13.8)
    assert categories["Summe"][0] == pytest.approx(3 + 1 + 0.5 + 0.8 + 1.5)  # Fachkräfte
    assert book["Kategorien"]["B2"].number_format == "#,##0.00"
    staff = {row[0].value: row for row in book["Mitarbeitende"].iter_rows(min_row=2)}
    assert set(staff) == {"JB", "LW", "TS", "MK"}  # MK logged nothing: a row of zeros
    assert staff["MK"][-1].value == 0
    assert staff["JB"][-1].value == pytest.approx(3 + 1 + 0.5)
    quarters = list(book["Quartale"].iter_rows(min_row=2, values_only=True))
    assert quarters[0][:7] == (
        "Q2/2025",
        datetime(2025, 4, 1),
        datetime(2025, 6, 30),
        10.0,
        8.0,
        0.8,
        "unter Grenze",
    )


@pytest.mark.parametrize(("q3_minutes", "alerted"), [(480, True), (540, False)])
async def test_ninety_percent_alert_fires_once_after_three_short_quarters(
    bot: Bot,
    db: Database,
    clock: FixedClock,
    demo: dict[str, ChatUser],
    contract: None,
    q3_minutes: int,
    alerted: bool,
) -> None:
    first_half_2025(db)
    add(db, "JB", date(2025, 8, 12), q3_minutes, case=JB_CASE)  # 8 h = 80 % or 9 h = 90 %
    messenger = RecordingMessenger(clock)
    service = reminder_engine(bot.settings, db, clock, bot.calendar, {"console": messenger})

    # While Q3 runs, it is a forecast and never counts: Q1 and Q2 are only two. The forecast
    # alert (issue 14) goes to the provider's coordinator when Q3 would be the third.
    clock.set(at(2025, 9, 30, 17))
    assert service.evaluate_controlling() == int(alerted)
    assert "läuft noch, Prognose" in ask(bot, demo["MK"], "/quartal").text
    forecast = all_rows(db, OutboxEntry, OutboxEntry.stage == "fc:2025Q3")
    assert [a.staff_id for a in forecast] == (
        [one_row(db, Staff, Staff.handle == "MK").id] if alerted else []
    )

    # The scheduled evaluation after Q3 ended, twice (a restart), then the dispatch.
    clock.set(at(2025, 10, 1, 7))
    assert service.evaluate_controlling() == int(alerted)
    assert service.evaluate_controlling() == int(alerted)
    alerts = all_rows(db, OutboxEntry, col(OutboxEntry.stage).like("h3:%"))
    if not alerted:
        assert alerts == []
        assert "Keine 3 abgeschlossenen Quartale" in demo["MK"].say("/pruefen")
        return
    # Once per coordinator: the provider's (MK) and the ASD office's (EL).
    assert sorted((a.stage, a.staff_id) for a in alerts) == sorted(
        ("h3:2025Q3", one_row(db, Staff, Staff.handle == h).id or 0) for h in ("MK", "EL")
    )
    assert alerts[0].send_after == at(2025, 10, 1, 8)  # quiet hours until 08:00
    clock.set(at(2025, 10, 1, 8))
    await service.dispatcher.dispatch()
    clock.set(at(2025, 10, 2, 8))
    assert service.evaluate_controlling() == 1
    await service.dispatcher.dispatch()
    assert sorted(s.to for s in messenger.sent) == ["user-el", "user-mk"]
    text = messenger.sent[0].reply.text
    assert text.splitlines() == [
        "⚠️ 90-%-Regel: Familienhilfe Weserufer e. V. hat in 3 Quartalen in Folge weniger als "
        "90 % der vereinbarten Stunden am Klienten erbracht:",
        "• Q1/2025: 8,5 Std. von 10 Std. = 85 %",
        "• Q2/2025: 8 Std. von 10 Std. = 80 %",
        "• Q3/2025: 8 Std. von 10 Std. = 80 %",
        "Nach der Trägerbudgetvereinbarung wird über eine Anpassung verhandelt, wenn sich das "
        "voraussichtlich nicht ändert.",
        "Details: /quartal 2025-Q3",
    ]
    on_demand = demo["MK"].say("/pruefen")
    assert "⚠️ Q1/2025, Q2/2025, Q3/2025 liegen in Folge unter 90 %" in on_demand
    assert "(2 Personen) werden einmalig für dieses Quartal benachrichtigt" in on_demand
    assert len(all_rows(db, OutboxEntry, col(OutboxEntry.stage).like("h3:%"))) == 2  # once
    # The forecast alert queued while Q3 ran was dropped when Q3 ended: the H3 alert decides.
    assert [a.status for a in all_rows(db, OutboxEntry, OutboxEntry.stage == "fc:2025Q3")] == [
        "cancelled"
    ]


@BOTH_BACKENDS
def test_closing_locks_entries_and_corrections_are_audited(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser], contract: None
) -> None:
    entry = add(db, "JB", date(2025, 3, 31), 240, case=JB_CASE)
    mk, jb = demo["MK"], demo["JB"]
    assert mk.say("/quartal_abschliessen 2025-Q2") == (
        "Q2/2025 läuft noch (bis Mo 30.06.2025); abschließen geht erst danach."
    )
    assert mk.say("/quartal_abschliessen") == (
        "Q1/2025 ist abgeschlossen: direkt am Klienten 4 Std., insgesamt 4 Std. erfasst. "
        "Einträge vom 01.01.2025 bis 31.03.2025 sind gesperrt; Korrekturen nur über "
        "/korrektur mit Grund."
    )
    assert mk.say("/quartal_abschliessen 2025-Q1") == "Q1/2025 ist bereits abgeschlossen."
    before = row_counts(db)
    locked = (
        "Q1/2025 ist abgeschlossen; Einträge vom Mo 31.03.2025 sind gesperrt. "
        "Korrekturen macht die Koordination mit /korrektur und Grund."
    )
    assert jb.say(f"/stunden 1 {JB_CASE} 31.03.") == locked
    assert jb.say(f"/stunden_zurueck {entry}") == locked
    assert jb.say(f"/korrektur {entry} 3 grund=Tippfehler") == (
        "Das darfst du mit deiner Rolle nicht. /hilfe zeigt, was du tun kannst."
    )
    assert mk.say(f"/korrektur {entry} 3").startswith("Eine Korrektur braucht einen Grund")
    assert mk.say(f"/korrektur {entry} 13 grund=Tippfehler").startswith(
        "Ein Eintrag hat mehr als 0"
    )
    assert row_counts(db) == before  # refused input changes nothing

    assert mk.say(f'/korrektur {entry} 3 grund="Tippfehler beim Erfassen"') == (
        f"Korrigiert #{entry} (JB, Mo 31.03.2025, direkt am Klienten): 4 Std. → 3 Std. "
        "(Grund: Tippfehler beim Erfassen)"
    )
    corrected = one_row(db, HoursEntry, HoursEntry.id == entry)
    assert corrected.minutes == 180
    correction = one_row(db, HoursCorrection, HoursCorrection.entry_id == entry)
    assert (correction.old_minutes, correction.new_minutes) == (240, 180)
    audit = all_rows(db, AuditEntry, AuditEntry.action == "correct")[-1]
    details = json.loads(audit.details)
    assert details["reason"] == "Tippfehler beim Erfassen" and details["closed_quarter"] is True
    assert mk.say(f"/korrektur {entry} loeschen grund=doppelt").endswith(
        "): zurückgenommen (Grund: doppelt)"
    )
    assert one_row(db, HoursEntry, HoursEntry.id == entry).deleted_at is not None
    assert "Direkt am Klienten: 0 Std. von 10 Std. Soll = 0 %" in mk.say("/quartal 2025-Q1")


def test_each_role_sees_its_own_view(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser], contract: None
) -> None:
    first_half_2025(db)
    clock.set(at(2025, 7, 1))
    assert demo["JB"].say("/quartal letztes") == (
        "Deine Stunden Q2/2025 (01.04.2025–30.06.2025):\n"
        "• direkt am Klienten: 3 Std.\n"
        "• Beratung ohne HzE: 0,5 Std.\n"
        "• ausgefallene Leistung: 1 Std.\n"
        "Indirekte Zeit (20 % kalkulatorisch): 0,6 Std.\n"
        "Betreute Fälle: 1"
    )
    assert demo["TB"].say("/quartal 2025-Q2") == (
        "Stunden in deinen Fällen Q2/2025 (01.04.2025–30.06.2025):\n"
        f"• {LW_CASE}: direkt 5 Std.\n"
        f"• {JB_CASE}: direkt 3 Std., ausgefallen 1 Std.\n"
        "Summe direkt: 8 Std. · ausgefallen: 1 Std. · Fälle: 2"
    )
    assert demo["EL"].say("/quartal 2025-Q2").startswith("Stunden in deinen Fällen Q2/2025")
    reply = ask(bot, demo["LW"], "/grafik monat")  # issue 14: a notice, not an empty chart
    assert reply.text == (
        "Du hast vom 01.07.2025 bis 31.07.2025 (07/2025) noch keine Stunden erfasst; eine "
        "Grafik gibt es, sobald Stunden erfasst sind."
    )
    assert reply.attachments == ()
    add(db, "LW", date(2025, 7, 1), 60, HoursCategory.non_case)
    reply = ask(bot, demo["LW"], "/grafik monat")
    assert reply.text == "Stunden LW · 07/2025 (01.07.2025–31.07.2025): 1 Std."
    assert Image.open(io.BytesIO(reply.attachments[0].data)).size == (1100, 450)
    # Staff get no organisation figures, exports or contract.
    for command in (
        "/export xlsx 2025-Q2",
        "/vertrag",
        "/quartal_abschliessen",
        "/grafik JB monat",
    ):
        assert "darfst du" in demo["JB"].say(command) or "eigene Woche" in demo["JB"].say(command)


def test_leap_year_quarter_and_csv_export(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser], contract: None
) -> None:
    add(db, "JB", date(2028, 2, 29), 90, case=JB_CASE)
    add(db, "LW", date(2028, 3, 31), 30, case=LW_CASE)
    add(db, "LW", date(2028, 4, 1), 600, case=LW_CASE)  # Q2: not in Q1
    clock.set(at(2028, 4, 3))
    reply = ask(bot, demo["MK"], "/quartal 2028-Q1")
    # 90 + 30 min = 2 h of 10 h = 20 %; Q1/2028 has 91 days (01.01.-31.03.).
    assert "Direkt am Klienten: 2 Std. von 10 Std. Soll = 20 %" in reply.text
    files = ask(bot, demo["MK"], "/export csv 2028-Q1").attachments
    names = [f.filename for f in files]
    assert names[:2] == [
        "stunden_2028-Q1_2028-04-03_090000_uebersicht.csv",
        "stunden_2028-Q1_2028-04-03_090000_quartale.csv",
    ]
    quarters = files[1].data.decode("utf-8-sig").splitlines()
    assert quarters[1].startswith("Q1/2028;01.01.2028;31.03.2028;10,00;2,00;20,0;unter Grenze;")
    assert all(f.mime_type == "text/csv" for f in files)


def test_bad_input_gets_german_answers_and_changes_nothing(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    mk = demo["MK"]
    assert mk.say("/pruefen").startswith("Es ist noch keine Trägerbudgetvereinbarung")
    assert mk.say("/vertrag").startswith("Es ist noch keine Trägerbudgetvereinbarung")
    before = row_counts(db)
    for command, answer in [
        ("/quartal Q5", "„Q5“ ist kein Quartal."),
        ("/quartal 2026-Q1", "Q1/2026 hat noch nicht begonnen"),
        ("/jahr zwanzig", "Diese Angabe ist kein Jahr."),
        ("/vertrag stunden=viele", "Diese Angabe: Stunden bitte als ganze Zahl"),
        ("/vertrag 2031 stunden=100", "2031 liegt nicht in der Laufzeit"),
        ("/vertrag laufzeit=2025", "Laufzeit bitte so"),
        ("/export pdf 2025", "„pdf 2025“ ist kein Quartal"),
        ("/korrektur 999 1 grund=Tippfehler", "Einen gültigen Eintrag #999"),
        ("/hilfeende HB-2026-011 anschluss=nein", "HB-2026-011 ist noch nicht beendet"),
    ]:
        assert mk.say(command).startswith(answer), (command, mk.say(command))
    assert row_counts(db) == before


def test_console_saves_attachments_and_cli_exports(
    bot: Bot,
    db: Database,
    settings: Settings,
    demo: dict[str, ChatUser],
    contract: None,
    tmp_path: Path,
) -> None:
    add(db, "JB", date(2025, 3, 31), 240, case=JB_CASE)
    out = io.StringIO()
    chat(bot, "user-mk", stdin=io.StringIO("/export xlsx 2025-Q1\n"), stdout=out)
    saved = settings.data_dir / "files" / "stunden_2025-Q1_2025-04-07_100000.xlsx"
    assert f"Datei: {saved}" in out.getvalue()
    assert load_workbook(saved)["Übersicht"]["B7"].value == 4.0  # Ist direkt

    env = {**os.environ, "KOOPBOT_DATA_DIR": str(settings.data_dir), "KOOPBOT_CONFIG": ""}
    command = [str(KOOPBOT), "export", "2025-Q1", "--org", PROVIDER, "--format", "csv"]

    def export() -> list[Path]:
        result = subprocess.run(
            [*command, "--out", str(tmp_path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return [Path(line) for line in result.stdout.splitlines()]

    paths = export()
    # Issue 14: the creation time in the name, and a second export never replaces the first.
    assert re.fullmatch(r"stunden_2025-Q1_\d{4}-\d\d-\d\d_\d{6}_uebersicht\.csv", paths[0].name)
    assert paths[0].parent == tmp_path
    again = export()
    assert not set(again) & set(paths) and all(p.exists() for p in paths + again)
    overview = paths[0].read_text(encoding="utf-8-sig").splitlines()
    assert overview[0] == "Kennzahl;Wert;Einheit"
    assert "Ist direkt;4,00;Std." in overview and "von;01.01.2025;" in overview
    bad = subprocess.run(
        [str(KOOPBOT), "export", "Sommer", "--org", PROVIDER],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "ist weder ein Quartal" in bad.stderr
