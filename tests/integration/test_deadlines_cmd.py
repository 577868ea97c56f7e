"""/fristen, /faelle and /fall: soonest first, overdue flagged, each role sees its own (P2)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col

from bot import texts
from config.enums import DeadlineStatus
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.cases import Case, Deadline
from tests.conftest import ChatUser
from tests.integration.helpers import all_rows, staff_id

BERLIN = ZoneInfo("Europe/Berlin")
_LINE = re.compile(r"^(⚠️ )?#(\d+) (\S+) .* – \w\w (\d\d)\.(\d\d)\.(\d{4}) \((.+)\)$")

# Demo cases (start dates relative to Mon 07.04.2025): JB has HB-2026-011 and HB-2026-003,
# LW has HB-2026-007, TS has HB-2025-041 and HB-2025-029; TB is the ASD side of all five.


def _rows(reply: str) -> list[tuple[bool, int, str, date, str]]:
    """(overdue mark, number, code, due, relative words) of every deadline line."""
    out = []
    for line in reply.splitlines():
        if m := _LINE.match(line):
            due = date(int(m[6]), int(m[5]), int(m[4]))
            out.append((bool(m[1]), int(m[2]), m[3], due, m[7]))
    return out


def _open_numbers(db: Database, *case_codes: str, until: date | None = None) -> set[int]:
    cases = all_rows(db, Case, col(Case.code).in_(case_codes))
    rows = all_rows(
        db,
        Deadline,
        col(Deadline.case_id).in_([c.id for c in cases]),
        Deadline.status == DeadlineStatus.open,
    )
    return {d.id or 0 for d in rows if until is None or d.due <= until}


def test_caseworker_sees_own_deadlines_soonest_first(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    reply = demo["JB"].say("/fristen")
    assert reply.splitlines()[0] == "Deine offenen Fristen bis 06.06.2025: 2, davon 1 überfällig"
    rows = _rows(reply)
    assert [r[3] for r in rows] == sorted(r[3] for r in rows)
    assert {r[2] for r in rows} == {"HB-2026-011", "HB-2026-003"}
    assert {r[1] for r in rows} == _open_numbers(
        db, "HB-2026-011", "HB-2026-003", until=date(2025, 6, 6)
    )
    overdue = [r for r in rows if r[0]]
    assert [(r[2], r[3], r[4]) for r in overdue] == [
        ("HB-2026-003", date(2025, 3, 28), "seit 10 Tagen überfällig")
    ]
    assert all(not r[0] and r[3] >= date(2025, 4, 7) for r in rows if r not in overdue)
    assert reply.splitlines()[-1] == f"Erledigt? /erledigt NUMMER, z. B. /erledigt {rows[0][1]}"


def test_fristen_alle_has_no_horizon(db: Database, demo: dict[str, ChatUser]) -> None:
    reply = demo["LW"].say("/fristen alle")
    assert reply.splitlines()[0].startswith("Alle deine offenen Fristen: 3, davon 1 überfällig")
    rows = _rows(reply)
    assert {r[2] for r in rows} == {"HB-2026-007"}
    assert {r[1] for r in rows} == _open_numbers(db, "HB-2026-007")
    assert max(r[3] for r in rows) > date(2025, 6, 6)
    assert [r[3] for r in rows] == sorted(r[3] for r in rows)
    # Within 60 days LW has only the overdue action plan.
    assert [r[3] for r in _rows(demo["LW"].say("/fristen"))] == [date(2025, 4, 4)]


def test_coordinators_see_their_whole_organisation(db: Database, demo: dict[str, ChatUser]) -> None:
    all_codes = {"HB-2026-011", "HB-2026-007", "HB-2026-003", "HB-2025-041", "HB-2025-029"}
    readme_case = {"HB-2025-017"}  # MK's and EL's own (issue 14: the README's example)
    provider_lead = _rows(demo["MK"].say("/fristen alle"))
    assert {r[2] for r in provider_lead} == all_codes | readme_case | {"Organisation"}
    asd_lead = _rows(demo["EL"].say("/fristen alle"))
    assert {r[2] for r in asd_lead} == all_codes | readme_case
    # The ASD caseworker is responsible for five demo cases, but not for the C5 report.
    assert {r[2] for r in _rows(demo["TB"].say("/fristen alle"))} == all_codes


def test_annual_report_goes_to_provider_coordinators(
    clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    assert "Organisation Jahresbericht – Di 31.03.2026 (in 358 Tagen)" in demo["MK"].say(
        "/fristen alle"
    )
    for handle in ("JB", "TB", "EL"):
        assert "Jahresbericht" not in demo[handle].say("/fristen alle")
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN))
    reply = demo["MK"].say("/fristen")
    assert "Organisation Jahresbericht – Di 31.03.2026 (in 29 Tagen)" in reply
    number = next(r[1] for r in _rows(reply) if r[2] == "Organisation")
    assert demo["MK"].say(f"/erledigt {number}") == (
        "Erledigt: Organisation Jahresbericht (fällig 31.03.2026). Danke!"
    )
    refused = demo["JB"].say(f"/erledigt {number}")
    assert refused.startswith(f"Eine Frist #{number} finde ich bei deinen Fällen nicht.")


def test_another_caseworkers_case_is_not_shown(db: Database, demo: dict[str, ChatUser]) -> None:
    demo["TB"].say("/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=TS")
    assert "HB-2025-117" in demo["TS"].say("/fristen")
    for handle in ("JB", "LW"):
        assert "HB-2025-117" not in demo[handle].say("/fristen alle")
        assert "HB-2025-117" not in demo[handle].say("/faelle")


def test_no_deadlines_answers(demo: dict[str, ChatUser]) -> None:
    for _, number, _, _, _ in _rows(demo["LW"].say("/fristen alle")):
        assert demo["LW"].say(f"/erledigt {number}").startswith("Erledigt: HB-2026-007")
    assert demo["LW"].say("/fristen alle") == texts.NO_DEADLINES
    assert demo["LW"].say("/fristen").startswith("In den nächsten 60 Tagen keine offenen Fristen.")


def test_case_list_and_case_overview(db: Database, demo: dict[str, ChatUser]) -> None:
    head, first, second = demo["JB"].say("/faelle").splitlines()
    assert head == "2 Fälle:"
    assert first.startswith("HB-2026-003 – § 27 Abs. 2 SGB VIII · kinderschutzrelevant · ")
    assert re.search(r"nächste Frist: ⚠️ #\d+ Bericht – Fr 28.03.2025 \(seit 10 Tagen", first)
    assert re.fullmatch(
        r"HB-2026-011 – § 31 SGB VIII · nächste Frist: #\d+ Handlungsplan – Mi 07.05.2025 "
        r"\(in 30 Tagen\)",
        second,
    )
    assert demo["MK"].say("/faelle").startswith("6 Fälle:")
    assert demo["EL"].say("/faelle").startswith("6 Fälle:")
    lea = demo["LW"].say("/faelle").splitlines()
    assert len(lea) == 2 and lea[1].startswith("HB-2026-007 – § 30 SGB VIII")

    overview = demo["JB"].say("/fall hb-2026-011")
    assert overview.splitlines()[:5] == [
        "Fall HB-2026-011 – § 31 SGB VIII",
        "Hilfebeginn: 26.03.2025 · Ersthilfeplan gültig bis 25.09.2025",
        "Träger: Jonas Berg (JB) · ASD: Tobias Brandt (TB)",
        "Empfehlung: Fachkraft",
        "Berichte alle 6 Monate",
    ]
    assert "Handlungsplan – Mi 07.05.2025 (in 30 Tagen)" in overview


def test_unknown_and_invisible_case_get_the_same_answer(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    invisible = demo["LW"].say("/fall HB-2026-011")
    missing = demo["LW"].say("/fall HB-2099-001")
    assert invisible == texts.unknown_case("HB-2026-011")
    assert missing == invisible.replace("HB-2026-011", "HB-2099-001")
    assert demo["TB"].say("/fall HB-2026-011").startswith("Fall HB-2026-011")
    [case] = all_rows(db, Case, Case.code == "HB-2026-011")
    assert staff_id(db, "LW") != case.provider_staff_id
