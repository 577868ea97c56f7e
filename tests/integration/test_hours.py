"""Logging, listing and undoing hours (DOMAIN.md H1, H6)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from config.enums import HoursCategory, MissedReason
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.hours import HoursEntry
from tests.conftest import ChatUser
from tests.integration.helpers import (
    BOTH_BACKENDS,
    all_rows,
    audit_trail,
    case_of,
    one_row,
    row_counts,
    staff_id,
)

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2025, 4, 7)  # the clock's today
CASE = "HB-2026-011"  # JB's demo case, started 26.03.2025


def _entries(db: Database, handle: str) -> list[HoursEntry]:
    return all_rows(db, HoursEntry, HoursEntry.staff_id == staff_id(db, handle))


@pytest.mark.parametrize("duration", ["1,5", "1.5", "1:30", "90 min", "90min", "1,5h"])
def test_duration_formats(db: Database, demo: dict[str, ChatUser], duration: str) -> None:
    reply = demo["JB"].say(f"/stunden {duration} {CASE}")
    [entry] = _entries(db, "JB")
    assert reply == (
        f"Erfasst #{entry.id}: 1,5 Std. direkt am Klienten {CASE} am Mo 07.04.2025. "
        f"Heute insgesamt: 1,5 Std.\nRückgängig: /stunden_zurueck {entry.id}"
    )
    assert (entry.minutes, entry.day, entry.category) == (90, MONDAY, HoursCategory.direct)
    assert entry.case_id == case_of(db, CASE).id
    assert entry.deleted_at is None
    assert audit_trail(db)[-1] == (staff_id(db, "JB"), "log", "hours_entry")


@BOTH_BACKENDS
def test_dates_yesterday_and_day_without_year(
    db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    assert "am So 06.04.2025. An diesem Tag insgesamt: 2 Std." in demo["JB"].say(
        f"/stunden 2 {CASE} gestern"
    )
    clock.set(datetime(2025, 4, 22, 17, 0, tzinfo=BERLIN))
    assert "am Do 17.04.2025." in demo["JB"].say(f"/stunden 1 {CASE} 17.04.")
    assert "am Mi 16.04.2025." in demo["JB"].say("/stunden 1 netzwerk 16.4.")
    # A weekday with a date is fine when they agree (a disagreement is asked back: A2).
    assert "am Fr 11.04.2025." in demo["JB"].say(f"/stunden 0,5 Fr 11.04. {CASE}")
    assert "am Mo 21.04.2025." in demo["JB"].say("/stunden 0,5 beratung Mo")
    assert [(e.day, e.minutes) for e in _entries(db, "JB")] == [
        (date(2025, 4, 6), 120),
        (date(2025, 4, 17), 60),
        (date(2025, 4, 16), 60),
        (date(2025, 4, 11), 30),
        (date(2025, 4, 21), 30),
    ]


@BOTH_BACKENDS
def test_categories(db: Database, demo: dict[str, ChatUser]) -> None:
    jb = demo["JB"]
    assert "2 Std. Gruppenangebot / fallübergreifend, 6 Teilnehmende am Mo" in jb.say(
        "/stunden 2 gruppe teilnehmer=6"
    )
    assert "Netzwerkarbeit am Mo" in jb.say("/stunden 0,5 netzwerk")
    assert "fallunspezifische Arbeit" in jb.say("/stunden 1 fallunspezifisch")
    assert "Beratung ohne HzE" in jb.say("/stunden 0:45 beratung")
    assert f"1 Std. ausgefallene Leistung (von der Familie abgesagt) {CASE}" in jb.say(
        f"/stunden 1 {CASE} ausfall grund=abgesagt"
    )
    rows = [
        (e.category, e.minutes, e.case_id is not None, e.participants, e.missed_reason)
        for e in _entries(db, "JB")
    ]
    assert rows == [
        (HoursCategory.group, 120, False, 6, None),
        (HoursCategory.network, 30, False, None, None),
        (HoursCategory.non_case, 60, False, None, None),
        (HoursCategory.informal_advice, 45, False, None, None),
        (HoursCategory.missed, 60, True, None, MissedReason.cancelled_by_family),
    ]


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (f"/stunden 1 {CASE} ausfall", "Bitte den Grund des Ausfalls angeben"),
        ("/stunden 13 netzwerk", "13 Std. in einem Eintrag sind zu viel (höchstens 12 Std.)"),
        ("/stunden 12:01 netzwerk", "in einem Eintrag sind zu viel"),
        ("/stunden 1 netzwerk morgen", "Der Di 08.04.2025 liegt in der Zukunft."),
        ("/stunden 1 netzwerk 08.04.2025", "Der Di 08.04.2025 liegt in der Zukunft."),
        (f"/stunden 1 netzwerk {CASE}", "Für „Netzwerkarbeit“ wird kein Aktenzeichen erfasst."),
        (f"/stunden 1 {CASE} gruppe teilnehmer=6", "wird kein Aktenzeichen erfasst"),
        ("/stunden 1 netzwerk teilnehmer=6", "nur bei Gruppenangeboten"),
        ("/stunden 1 gruppe teilnehmer=0", "zwischen 1 und 200"),
        ("/stunden 1 ausfall grund=abgesagt", "brauche ich das Aktenzeichen"),
        (f"/stunden 1 {CASE} grund=krank", "nur bei ausgefallenen Terminen"),
        (f"/stunden 1 {CASE} 20.03.2025", "liegt vor dem Hilfebeginn von HB-2026-011"),
        ("/stunden 1 HB-2026-007", texts.unknown_case("HB-2026-007")),  # LW's case
        ("/stunden HB-2026-011", "Bitte die Dauer angeben."),
        ("/stunden 0 netzwerk", "größer als 0"),
        ("/stunden 1", "Bitte ein Aktenzeichen oder eine Kategorie angeben"),
    ],
)
def test_bad_hours_are_refused_and_nothing_written(
    db: Database, demo: dict[str, ChatUser], text: str, answer: str
) -> None:
    before = row_counts(db)
    assert answer in demo["JB"].say(text)
    assert row_counts(db) == before


def test_name_instead_of_case_code_is_not_echoed(db: Database, demo: dict[str, ChatUser]) -> None:
    before = row_counts(db)
    reply = demo["JB"].say("/stunden 1,5 Yilmaz")
    assert reply.startswith("Das sieht wie ein Name aus") and "Yilmaz" not in reply
    assert row_counts(db) == before


@BOTH_BACKENDS
def test_at_most_24_hours_a_day(db: Database, demo: dict[str, ChatUser]) -> None:
    lw = demo["LW"]
    assert "An diesem Tag insgesamt: 12 Std." in lw.say("/stunden 12 netzwerk 01.04.")
    assert "An diesem Tag insgesamt: 24 Std." in lw.say("/stunden 12 fallunspezifisch 01.04.")
    before = row_counts(db)
    assert lw.say("/stunden 1 beratung 01.04.") == (
        "Am Di 01.04.2025 hast du schon 24 Std. erfasst; mit 1 Std. wären es mehr als "
        "24 Std. an einem Tag."
    )
    assert row_counts(db) == before
    assert sum(e.minutes for e in _entries(db, "LW")) == 24 * 60
    # The limit is per person: a colleague may still log that day.
    assert "An diesem Tag insgesamt: 1 Std." in demo["JB"].say("/stunden 1 netzwerk 01.04.")


def test_asd_staff_cannot_log_hours(db: Database, demo: dict[str, ChatUser]) -> None:
    before = row_counts(db)
    for text in ("/stunden 1 netzwerk", "/meinestunden", "/stunden_zurueck"):
        assert demo["TB"].say(text) == texts.NOT_ALLOWED
    assert row_counts(db) == before


@BOTH_BACKENDS
def test_my_hours_lists_and_sums(db: Database, demo: dict[str, ChatUser]) -> None:
    jb = demo["JB"]
    assert jb.say("/meinestunden") == "Für diese Woche hast du noch keine Stunden erfasst."
    jb.say(f"/stunden 1,5 {CASE}")
    jb.say(f"/stunden 1:30 {CASE}")
    jb.say("/stunden 2 gruppe teilnehmer=6")
    jb.say(f"/stunden 1 {CASE} gestern")  # Sunday: last week
    demo["TS"].say("/stunden 3 netzwerk")  # a colleague's hours are not mine
    first, second, group, _ = _entries(db, "JB")
    assert jb.say("/meinestunden").splitlines() == [
        "Deine Stunden diese Woche:",
        f"#{first.id} Mo 07.04.2025 1,5 Std. direkt am Klienten {CASE}",
        f"#{second.id} Mo 07.04.2025 1,5 Std. direkt am Klienten {CASE}",
        f"#{group.id} Mo 07.04.2025 2 Std. Gruppenangebot / fallübergreifend",
        "Summe: direkt am Klienten 3 Std. · Gruppenangebot / fallübergreifend 2 Std.",
    ]
    month = jb.say("/meinestunden monat")
    assert month.startswith("Deine Stunden diesen Monat:")
    assert "Summe: direkt am Klienten 4 Std." in month


@BOTH_BACKENDS
def test_undo_last_own_entry(db: Database, clock: FixedClock, demo: dict[str, ChatUser]) -> None:
    lw = demo["LW"]
    lw.say("/stunden 12 netzwerk")
    lw.say("/stunden 12 fallunspezifisch")
    first, last = _entries(db, "LW")
    reply = lw.say("/stunden_zurueck")
    assert reply == f"Zurückgenommen: #{last.id} 12 Std. fallunspezifische Arbeit am Mo 07.04.2025."
    undone = one_row(db, HoursEntry, HoursEntry.id == last.id)
    assert undone.deleted_at == clock.now()  # a soft delete: the row stays for the record
    assert audit_trail(db)[-1] == (staff_id(db, "LW"), "undo", "hours_entry")
    assert f"#{last.id}" not in lw.say("/meinestunden")
    # Not counted in the day total any more: 12 more hours fit again.
    assert "Heute insgesamt: 24 Std." in lw.say("/stunden 12 beratung")
    # The next undo takes the newest remaining entry; an undone one cannot be undone twice.
    assert (
        lw.say(f"/stunden_zurueck {last.id}")
        == f"Einen Eintrag #{last.id} von dir finde ich nicht."
    )
    assert lw.say(f"/stunden_zurueck #{first.id}").startswith(
        f"Zurückgenommen: #{first.id} 12 Std."
    )


@BOTH_BACKENDS
def test_undo_someone_elses_entry_is_refused(db: Database, demo: dict[str, ChatUser]) -> None:
    demo["JB"].say("/stunden 2 netzwerk")
    [entry] = _entries(db, "JB")
    before = row_counts(db)
    assert demo["TS"].say(f"/stunden_zurueck {entry.id}") == (
        f"Einen Eintrag #{entry.id} von dir finde ich nicht."
    )
    assert (
        demo["TS"].say("/stunden_zurueck") == "Du hast keinen Eintrag, der sich zurücknehmen ließe."
    )
    assert demo["MK"].say(f"/stunden_zurueck {entry.id}").startswith("Einen Eintrag")
    assert row_counts(db) == before
    assert one_row(db, HoursEntry, HoursEntry.id == entry.id).deleted_at is None
