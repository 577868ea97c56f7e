"""Creating and assigning cases through the chat (DOMAIN.md C1, C6, P1)."""

from __future__ import annotations

from datetime import date

from bot import texts
from config.enums import DeadlineKind, DeadlineStatus, LegalBasis, StaffType
from storage.db import Database
from storage.models.cases import Case
from tests.conftest import ChatUser
from tests.integration.helpers import (
    BOTH_BACKENDS,
    all_rows,
    audit_trail,
    case_of,
    deadlines_of,
    open_dues,
    row_counts,
    staff_id,
)

pytestmark = BOTH_BACKENDS

NEW_CASE = "/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=JB asd=TB"


def test_new_case_derives_the_domain_deadlines(db: Database, demo: dict[str, ChatUser]) -> None:
    reply = demo["TB"].say(NEW_CASE)
    assert reply.splitlines()[:3] == [
        "Fall HB-2025-117 angelegt (§ 30 SGB VIII, Beginn 07.03.2025).",
        "Zuständig: Jonas Berg (JB) · Tobias Brandt (TB)",
        "Fristen:",
    ]
    # D1: Fri 07.03. + 6 weeks is Good Friday, then Easter Monday: Tue 22.04.2025.
    assert "HB-2025-117 Handlungsplan – Di 22.04.2025 (in 15 Tagen)" in reply
    # D5: the first plan holds until Sat 06.09.2025; the follow-up HPG by the Friday before.
    assert "HB-2025-117 Folge-Hilfeplangespräch – Fr 05.09.2025" in reply
    # D2: first report 6 months from the start, Sun 07.09.2025 -> Mon 08.09.2025.
    assert "HB-2025-117 Bericht – Mo 08.09.2025" in reply

    case = case_of(db, "HB-2025-117")
    assert case.legal_basis is LegalBasis.p30
    assert case.start_date == date(2025, 3, 7)
    assert case.provider_staff_id == staff_id(db, "JB")
    assert case.asd_staff_id == staff_id(db, "TB")
    assert not case.child_protection
    assert case.recommended_staff_type is StaffType.fachkraft
    assert case.report_interval_months is None
    assert open_dues(db, "HB-2025-117") == {
        DeadlineKind.action_plan: [date(2025, 4, 22)],
        DeadlineKind.help_plan_review: [date(2025, 9, 5)],
        DeadlineKind.report: [date(2025, 9, 8)],
    }
    assert [d.rule[:5] for d in deadlines_of(db, "HB-2025-117")] == ["C1/D1", "C1/D5", "C1/D2"]
    assert audit_trail(db)[-1] == (staff_id(db, "TB"), "create", "case")

    shown = demo["JB"].say("/fall HB-2025-117")  # the provider side sees it too
    assert "Hilfebeginn: 07.03.2025 · Ersthilfeplan gültig bis 06.09.2025" in shown
    assert "Berichte alle 6 Monate" in shown


def test_shorter_report_interval(db: Database, demo: dict[str, ChatUser]) -> None:
    reply = demo["TB"].say(
        "/fall_neu HB-2025-018 §31 beginn=07.03.2025 traeger=JB asd=TB bericht=3"
    )
    # 07.06.2025 is a Saturday, 09.06. Whit Monday: due Tue 10.06.2025.
    assert "HB-2025-018 Bericht – Di 10.06.2025" in reply
    assert case_of(db, "HB-2025-018").report_interval_months == 3
    assert open_dues(db, "HB-2025-018")[DeadlineKind.report] == [date(2025, 6, 10)]
    assert "Berichte alle 3 Monate" in demo["TB"].say("/fall HB-2025-018")
    before = row_counts(db)
    assert "zwischen 1 und 6 Monaten" in demo["TB"].say(
        "/fall_neu HB-2025-019 §31 beginn=07.03.2025 traeger=JB bericht=9"
    )
    assert row_counts(db) == before


def test_reports_are_counted_from_the_start_not_chained(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    demo["TB"].say("/fall_neu HB-2024-090 §31 beginn=31.08.2024 traeger=JB")
    # D2: 31.08. + 6 months = 28.02.2025; + 12 months = 31.08.2025 (a Sunday) -> 01.09.2025.
    assert open_dues(db, "HB-2024-090")[DeadlineKind.report] == [
        date(2025, 2, 28),
        date(2025, 9, 1),
    ]


def test_duplicate_case_code_is_refused(db: Database, demo: dict[str, ChatUser]) -> None:
    demo["TB"].say(NEW_CASE)
    before = row_counts(db)
    reply = demo["TB"].say(NEW_CASE.replace("HB-2025-117", "hb-2025-117"))
    assert reply == "Den Fall HB-2025-117 gibt es schon. /fall HB-2025-117 zeigt ihn."
    # The demo's README case too (issue 14), in whatever case it is typed.
    readme = demo["TB"].say(NEW_CASE.replace("HB-2025-117", "hb-2025-017"))
    assert readme == "Den Fall HB-2025-017 gibt es schon. /fall HB-2025-017 zeigt ihn."
    assert row_counts(db) == before


def test_unknown_or_wrong_side_staff_handle(db: Database, demo: dict[str, ChatUser]) -> None:
    before = row_counts(db)
    reply = demo["TB"].say("/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=XY asd=TB")
    assert reply.startswith("Unter dem Kürzel ")
    assert "finde ich keine Mitarbeiterin eines freien Trägers." in reply
    reply = demo["TB"].say("/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=JB asd=MK")
    assert "finde ich keine ASD-Fachkraft." in reply
    assert row_counts(db) == before


def test_name_instead_of_code_is_refused_without_echo(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    before = row_counts(db)
    for text in (
        "/fall_neu Müller §30 beginn=07.03.2025 traeger=JB asd=TB",
        "/fall_neu Kevin-2025-1 §30 beginn=07.03.2025 traeger=JB asd=TB",
        "/fall Müller",
    ):
        reply = demo["TB"].say(text)
        assert reply.startswith("Das sieht wie ein Name aus, nicht wie ein Aktenzeichen.")
        assert "Müller" not in reply and "Kevin" not in reply
    assert row_counts(db) == before


def test_provider_caseworker_may_not_create_cases(db: Database, demo: dict[str, ChatUser]) -> None:
    before = row_counts(db)
    reply = demo["JB"].say(NEW_CASE)
    assert "dürfen ASD-Fachkräfte und die Koordination des Trägers" in reply
    assert row_counts(db) == before


def test_provider_coordinator_creates_for_own_staff(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    reply = demo["MK"].say("/fall_neu HB-2025-020 §31 beginn=01.04.2025 traeger=LW asd=TB")
    assert reply.startswith("Fall HB-2025-020 angelegt (§ 31 SGB VIII, Beginn 01.04.2025).")
    case = case_of(db, "HB-2025-020")
    # Without a recommendation the staff type of the assigned person is taken.
    assert case.recommended_staff_type is StaffType.semiprofessional
    assert audit_trail(db)[-1] == (staff_id(db, "MK"), "create", "case")
    # The provider coordinator has no Jugendamt handle to default to.
    assert "traeger=MK asd=TB" in demo["MK"].say(
        "/fall_neu HB-2025-021 §31 beginn=01.04.2025 traeger=LW"
    )


def test_child_protection_binds_the_staff_type(db: Database, demo: dict[str, ChatUser]) -> None:
    before = row_counts(db)
    refused = demo["TB"].say(
        "/fall_neu HB-2025-019 §30 beginn=07.03.2025 traeger=LW kinderschutz=ja empfehlung=fk"
    )
    assert refused.startswith(
        "Der Fall HB-2025-019 ist als kinderschutzrelevant gekennzeichnet: "
        "Die Empfehlung des Jugendamts (Fachkraft) ist bindend."
    )
    assert "Lea Wolf (LW) ist semiprofessionell" in refused
    assert "verbindliche Empfehlung" in demo["TB"].say(
        "/fall_neu HB-2025-019 §30 beginn=07.03.2025 traeger=JB kinderschutz=ja"
    )
    assert row_counts(db) == before

    created = demo["TB"].say(
        "/fall_neu HB-2025-019 §30 beginn=07.03.2025 traeger=JB kinderschutz=ja empfehlung=fk"
    )
    assert created.startswith("Fall HB-2025-019 angelegt")
    case = case_of(db, "HB-2025-019")
    assert case.child_protection and case.recommended_staff_type is StaffType.fachkraft
    assert "Empfehlung: Fachkraft (bindend, kinderschutzrelevant)" in demo["TB"].say(
        "/fall HB-2025-019"
    )

    # Assigning the semi-professional later is refused the same way (C6) ...
    before = row_counts(db)
    assert "ist als kinderschutzrelevant gekennzeichnet" in demo["TB"].say(
        "/zuweisen HB-2025-019 traeger=LW"
    )
    assert (
        demo["MK"]
        .say("/zuweisen HB-2025-019 traeger=LW")
        .startswith("Der Fall HB-2025-019 ist als kinderschutzrelevant gekennzeichnet")
    )
    assert row_counts(db) == before
    assert case_of(db, "HB-2025-019").provider_staff_id == staff_id(db, "JB")
    # ... while another Fachkraft is fine.
    assert demo["MK"].say("/zuweisen HB-2025-019 traeger=TS") == (
        "HB-2025-019 zugewiesen – Träger: Tim Sommer (TS)"
    )
    assert case_of(db, "HB-2025-019").provider_staff_id == staff_id(db, "TS")
    assert audit_trail(db)[-1] == (staff_id(db, "MK"), "assign", "case")


def test_only_the_jugendamt_flags_child_protection(db: Database, demo: dict[str, ChatUser]) -> None:
    before = row_counts(db)
    reply = demo["MK"].say(
        "/fall_neu HB-2025-022 §30 beginn=07.03.2025 traeger=JB asd=TB kinderschutz=ja empfehlung=fk"
    )
    assert reply == "Die Kennzeichnung „kinderschutzrelevant“ setzt das Jugendamt (ASD)."
    assert row_counts(db) == before
    assert all_rows(db, Case, Case.code == "HB-2025-022") == []


def test_case_commands_follow_roles_and_visibility(db: Database, demo: dict[str, ChatUser]) -> None:
    demo["TB"].say(NEW_CASE)
    before = row_counts(db)
    # The semi-professional colleague is not responsible for the case: it does not exist for her.
    assert demo["LW"].say("/fall HB-2025-117") == texts.unknown_case("HB-2025-117")
    assert demo["LW"].say("/hpg HB-2025-117 02.06.2025") == texts.unknown_case("HB-2025-117")
    assert "dürfen ASD-Fachkräfte" in demo["JB"].say("/zuweisen HB-2025-117 traeger=TS")
    assert "dürfen ASD-Fachkräfte" in demo["JB"].say("/fall_schliessen HB-2025-117")
    assert row_counts(db) == before
    assert all(d.status is DeadlineStatus.open for d in deadlines_of(db, "HB-2025-117"))
