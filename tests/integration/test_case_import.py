"""`koopbot import cases` on SQLite and PostgreSQL: good rows, bad rows, re-imports, failures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col

from bot.cli import _parser
from bot.core import Bot
from bot.import_cli import run
from config.enums import DeadlineStatus
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.cases import Case, Deadline, Meeting
from storage.models.feeds import FeedState
from tests.conftest import ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, case_of, deadlines_of, row_counts

HEADER = (
    "aktenzeichen;rechtsgrundlage;hilfebeginn;traeger;asd;fachkraft_traeger;fachkraft_asd;"
    "empfehlung;kinderschutz;berichtsintervall;naechstes_hpg"
)
PROVIDER = "Familienhilfe Weserufer e. V."
OFFICE = "ASD Stadtteilbüro Nord"


def _import(
    bot: Bot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    lines: list[str],
    *options: str,
    name: str = "faelle.csv",
) -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    args = _parser().parse_args(["import", "cases", str(path), *options])
    code = run(args, bot.settings, bot.db, bot.clock.now())
    out, err = capsys.readouterr()
    return code, out, err


def _chain(db: Database, code: str) -> list[tuple[str, str, object, DeadlineStatus]]:
    return sorted(
        (d.kind.value, d.rule, d.due, d.status)
        for d in deadlines_of(db, code)
        if d.status is not DeadlineStatus.cancelled
    )


@BOTH_BACKENDS
def test_good_rows_get_the_chain_of_fall_neu_and_show_up_for_everyone_on_the_case(
    backend: str,
    bot: Bot,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    demo: dict[str, ChatUser],
) -> None:
    tb, jb, el, mk = demo["TB"], demo["JB"], demo["EL"], demo["MK"]
    assert tb.say(
        "/fall_neu HB-2025-301 §30 beginn=07.03.2025 traeger=JB asd=TB empfehlung=fk bericht=3"
    ).startswith("Fall HB-2025-301 angelegt")
    assert "eingetragen" in tb.say("/hpg HB-2025-301 02.06.2025 10:00")
    before = _counts(db)

    code, out, err = _import(
        bot,
        tmp_path,
        capsys,
        [
            f"HB-2025-300;§30;07.03.2025;{PROVIDER};{OFFICE};JB;TB;fk;nein;3;02.06.2025 10:00",
            "hb-2025-302;27 Abs. 2;2025-01-15;;;LW;TB;semi;ja;;",  # organisations from the staff
        ],
    )
    assert (code, err) == (0, ""), out
    assert "2 Zeilen: 2 neu, 0 geändert, 0 unverändert, 0 abgelehnt." in out
    assert re.search(r"Importiert: 2 Fälle angelegt \(\d+ Fristen\), 0 geändert", out), out

    assert _chain(db, "HB-2025-300") == _chain(db, "HB-2025-301")  # same rules as /fall_neu
    imported = case_of(db, "HB-2025-302")
    assert imported.child_protection and imported.recommended_staff_type.value == "semiprofessional"
    hpg = all_rows(db, Meeting, Meeting.case_id == case_of(db, "HB-2025-300").id)
    assert [m.starts_at.astimezone(bot.settings.tz).strftime("%d.%m.%Y %H:%M") for m in hpg] == [
        "02.06.2025 10:00"
    ]
    audit = all_rows(db, AuditEntry, AuditEntry.action == "import")
    assert [(a.actor, a.entity) for a in audit] == [("cli", "case"), ("cli", "case")]
    assert '"code": "HB-2025-300"' in audit[0].details
    after = _counts(db)
    assert after["hzcase"] == before["hzcase"] + 2
    if before["feed_version"] >= 0:
        assert after["feed_version"] > before["feed_version"]  # feeds see the new cases

    # Every side sees the imported deadlines: the caseworkers, the coordinators, the ASD lead.
    for user in (jb, tb, mk, el):
        assert "HB-2025-300" in user.say("/fristen alle"), user.sender.user_id
    assert "HB-2025-302" in demo["LW"].say("/faelle")
    assert "kinderschutzrelevant" in tb.say("/fall HB-2025-302")


def _counts(db: Database) -> dict[str, int]:
    counts = row_counts(db)
    state = all_rows(db, FeedState)  # (the PostgreSQL fixture empties this table too)
    counts["feed_version"] = state[0].version if state else -1
    return counts


@BOTH_BACKENDS
def test_every_kind_of_bad_row_is_refused_with_a_german_reason_and_nothing_is_written(
    backend: str,
    bot: Bot,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    demo_codes: dict[str, str],
) -> None:
    before = _counts(db)
    rows = {
        2: "HB-2025-400;30;01.02.2025;;;JB;TB;;;;",  # good, but the file is refused as a whole
        3: "Kevin Müller;30;01.02.2025;;;JB;TB;;;;",
        4: "HB-25;30;01.02.2025;;;JB;TB;;;;",
        5: "HB-2025-401;30;31.02.2025;;;JB;TB;;;;",
        6: "HB-2025-402;30;17.4.;;;JB;TB;;;;",
        7: "HB-2025-403;30;01.02.2025;;;XY;TB;;;;",
        8: "HB-2025-404;30;01.02.2025;;;Anna;TB;;;;",
        9: "HB-2025-405;30;01.02.2025;Familie Schmidt;;JB;TB;;;;",
        10: "HB-2025-406;30;01.02.2025;;;LW;TB;fk;ja;;",
        11: "HB-2025-407;30;01.02.2025;;;JB;TB;;ja;;",
        12: "HB-2025-408;30;01.02.2025;;;JB;TB;;;9;",
        13: "HB-2025-409;30;01.02.2025;;;JB;TB;;;;01.03.2025",
        14: "HB-2025-400;30;01.02.2025;;;JB;TB;;;;",
        15: "HB-2025-410;§ 27;01.02.2025;;;JB;TB;;;;",
        16: "HB-2025-411;30;01.02.2025;;;JB;MK;;;;",
        17: "HB-2025-412;30;01.02.2025;;;JB;TB;;;;;Kevin",
    }
    code, out, err = _import(bot, tmp_path, capsys, list(rows.values()))
    assert code == 1, out
    refused = {int(m[1]): m[2] for m in re.finditer(r"^Zeile (\d+) abgelehnt – (.*)$", out, re.M)}
    assert sorted(refused) == list(range(3, 18)), out
    expected = {
        3: "aktenzeichen: Das sieht wie ein Name aus",
        4: "aktenzeichen: „HB-25“ ist kein gültiges Aktenzeichen",
        5: "hilfebeginn: Den 31.02.2025 gibt es nicht",
        6: "hilfebeginn: Bitte ein vollständiges Datum mit Jahr",
        7: "fachkraft_traeger: Unter „XY“ finde ich keine aktive Mitarbeiterin",
        8: "fachkraft_traeger: Unter dem angegebenen Kürzel finde ich keine",
        9: "traeger: Einen Träger dieses Namens gibt es nicht",
        10: "Die Empfehlung (Fachkraft) ist bindend, LW ist semiprofessionell",
        11: "empfehlung: Bei kinderschutzrelevanten Fällen bitte die verbindliche Empfehlung",
        12: "berichtsintervall: Das Berichtsintervall darf zwischen 1 und 6 Monaten liegen",
        13: "naechstes_hpg: Das nächste HPG liegt in der Vergangenheit",
        14: "aktenzeichen: HB-2025-400 steht schon in Zeile 2",
        15: "rechtsgrundlage: § 27 allein reicht nicht",
        16: "fachkraft_asd: Unter „MK“ finde ich keine aktive ASD-Fachkraft",
        17: "Die Zeile hat mehr Werte als die erste Zeile Spalten",
    }
    for line, reason in expected.items():
        assert reason in refused[line], (line, refused[line])
    for name in ("Kevin", "Müller", "Anna", "Schmidt"):
        assert name not in out + err  # P1: a name is never echoed
    assert "Nichts importiert" in out
    assert _counts(db) == before

    # The dry run lists the same refusals and what would be created; it writes nothing either.
    code, out, _ = _import(bot, tmp_path, capsys, list(rows.values()), "--dry-run")
    assert code == 1
    assert "neu: HB-2025-400 – § 30 SGB VIII, Beginn 01.02.2025: " in out
    assert "Probelauf: nichts gespeichert." in out
    assert _counts(db) == before

    # With --skip-invalid the good row is imported and the others are still listed.
    code, out, _ = _import(bot, tmp_path, capsys, list(rows.values()), "--skip-invalid")
    assert code == 0, out
    assert "Zeile 3 abgelehnt" in out
    assert [c.code for c in all_rows(db, Case, col(Case.code).like("HB-2025-4%"))] == [
        "HB-2025-400"
    ]


@BOTH_BACKENDS
def test_a_reimport_updates_cases_in_place_and_never_doubles_them(
    backend: str,
    bot: Bot,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    demo: dict[str, ChatUser],
) -> None:
    lines = [
        "HB-2025-500;30;03.03.2025;;;JB;TB;;;;02.06.2025 10:00",
        "HB-2025-501;31;10.03.2025;;;TS;TB;;;3;",
    ]
    assert _import(bot, tmp_path, capsys, lines)[0] == 0
    first = _counts(db)
    keys = {d.key for d in all_rows(db, Deadline)}

    code, out, _ = _import(bot, tmp_path, capsys, lines)
    assert code == 0
    assert "2 Zeilen: 0 neu, 0 geändert, 2 unverändert, 0 abgelehnt." in out
    assert _counts(db) | {"feed_version": 0} == first | {"feed_version": 0}

    moved = [
        "HB-2025-500;30;10.03.2025;;;LW;TB;semi;;;09.06.2025",  # start, staff, type, HPG
        "HB-2025-501;31;10.03.2025;;;TS;TB;;;3;",
    ]
    code, out, _ = _import(bot, tmp_path, capsys, moved, "--dry-run")
    assert code == 0
    assert (
        "geändert: HB-2025-500 – Hilfebeginn 03.03.2025 → 10.03.2025; Fachkraft Träger JB → LW; "
        "Empfehlung Fachkraft → semiprofessionell; HPG verlegt Mo 02.06.2025, 10:00 → "
        "Mo 09.06.2025, 10:00"
    ) in out
    code, out, _ = _import(bot, tmp_path, capsys, moved)
    assert code == 0, out
    assert "1 geändert" in out
    after = _counts(db)
    assert (after["hzcase"], after["meeting"]) == (first["hzcase"], first["meeting"])
    assert {d.key for d in all_rows(db, Deadline)} == keys  # moved in place, none added
    case = case_of(db, "HB-2025-500")
    assert (case.start_date.isoformat(), case.provider_staff_id) == (
        "2025-03-10",
        next(s.id for s in _staff(db) if s.handle == "LW"),
    )
    action_plan = next(d for d in deadlines_of(db, "HB-2025-500") if d.kind.value == "action_plan")
    assert action_plan.due.isoformat() == "2025-04-22"  # 10.03. + 6 weeks (D1), as /fall_neu
    updates = all_rows(db, AuditEntry, AuditEntry.action == "import_update")
    assert len(updates) == 1 and "provider_staff_id" in updates[0].details
    assert "HB-2025-500" in demo["LW"].say("/fristen alle")
    assert "HB-2025-500" not in demo["JB"].say("/faelle")


def _staff(db: Database) -> list[object]:
    from storage.models.staff import Staff

    return all_rows(db, Staff)  # type: ignore[return-value]


_FAIL_SQLITE = """
CREATE TRIGGER import_fault BEFORE INSERT ON hzcase WHEN NEW.code = 'HB-2025-1200'
BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END
"""
_FAIL_PG = [
    """CREATE FUNCTION import_fault() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.code = 'HB-2025-1200' THEN RAISE EXCEPTION 'disk full (test)'; END IF;
    RETURN NEW; END $$""",
    "CREATE TRIGGER import_fault BEFORE INSERT ON hzcase FOR EACH ROW EXECUTE FUNCTION import_fault()",
]


@BOTH_BACKENDS
def test_a_file_that_fails_half_way_leaves_nothing_behind(
    backend: str,
    bot: Bot,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    demo_codes: dict[str, str],
) -> None:
    """The database refuses row 1,200 (a fault at the edge), after the first 1,000 were written."""
    with db.engine.begin() as conn:
        for statement in [_FAIL_SQLITE] if backend == "sqlite" else _FAIL_PG:
            conn.execute(text(statement))
    before = _counts(db)
    lines = [f"HB-2025-{i};30;03.03.2025;;;JB;TB;;;;" for i in range(1, 1501)]
    code, out, err = _import(bot, tmp_path, capsys, lines)
    assert code == 1
    assert "1500 Zeilen: 1500 neu" in out
    assert err.strip() == (
        "koopbot: Der Import ist abgebrochen; es wurde nichts gespeichert. Einzelheiten "
        "stehen im Protokoll (koopbot.log im Datenordner)."
    )
    assert _counts(db) == before


def test_xlsx_with_date_cells_and_csv_with_bom_and_crlf(
    bot: Bot,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    demo_codes: dict[str, str],
) -> None:
    from datetime import date, datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "Aktenzeichen",
            "Rechtsgrundlage",
            "Hilfebeginn",
            "Fachkraft Träger",
            "ASD",
            "Nächstes HPG",
            "Berichtsintervall",
        ]
    )
    sheet.append(
        ["HB-2025-600", "§ 31", date(2025, 3, 3), "JB", OFFICE, datetime(2025, 6, 2, 10, 0), 3]
    )
    book.save(tmp_path / "faelle.xlsx")
    args = _parser().parse_args(["import", "cases", str(tmp_path / "faelle.xlsx")])
    assert run(args, bot.settings, db, bot.clock.now()) == 0, capsys.readouterr()
    case = case_of(db, "HB-2025-600")
    assert (case.start_date, case.report_interval_months) == (date(2025, 3, 3), 3)
    meeting = all_rows(db, Meeting, Meeting.case_id == case.id)[0]
    assert meeting.starts_at.astimezone(bot.settings.tz).hour == 10

    bom = tmp_path / "bom.csv"
    bom.write_bytes(
        ("\ufeff" + HEADER + "\r\nHB-2025-601;30;03.03.2025;;;JB;TB;;;;\r\n").encode("utf-8")
    )
    args = _parser().parse_args(["import", "cases", str(bom)])
    assert run(args, bot.settings, db, bot.clock.now()) == 0, capsys.readouterr()
    assert case_of(db, "HB-2025-601").legal_basis.value == "30"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"aktenzeichen,rechtsgrundlage,hilfebeginn\nHB-2025-1,30,01.01.2025\n", "Komma"),
        (
            HEADER.encode() + b"\nHB-2025-1;30;01.01.2025;Tr\xe4ger;;;;;;;\n",
            "nicht in UTF-8 gespeichert (zuerst in Zeile 2)",
        ),
        (b"HB-2025-1;30;01.01.2025;;;JB;TB\n", "Die Spalte 1 der ersten Zeile kenne ich nicht"),
        (b"aktenzeichen;hilfebeginn\n", "Es fehlt die Spalte rechtsgrundlage"),
        (b"", "Die Datei ist leer"),
    ],
)
def test_unreadable_files_are_refused_as_a_whole(
    bot: Bot,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "faelle.csv"
    path.write_bytes(content)
    args = _parser().parse_args(["import", "cases", str(path)])
    assert run(args, bot.settings, db, bot.clock.now()) == 2
    _, err = capsys.readouterr()
    assert message in err and "HB-2025-1" not in err, err


def test_done_before_records_the_past_of_the_chain_as_done(
    bot: Bot,
    db: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    demo_codes: dict[str, str],
    clock: FixedClock,
    settings: Settings,
) -> None:
    code, out, _ = _import(
        bot,
        tmp_path,
        capsys,
        ["HB-2024-700;30;01.02.2024;;;JB;TB;;;;"],
        "--done-before",
        "01.04.2025",
    )
    assert code == 0, out
    states = {(d.due.isoformat(), d.status.value) for d in deadlines_of(db, "HB-2024-700")}
    assert all(s == "done" for due, s in states if due < "2025-04-01"), states
    assert all(s == "open" for due, s in states if due >= "2025-04-01"), states
    assert re.search(r"davon \d+ als erledigt übernommen", out)
