"""Issue 14: what a caseworker expects of entries that are probably wrong. Dates before the
help began or before the contract are refused with a German reason (nothing is stored); a
probable duplicate (the same hours entry, a coordination need already open) is stored with a
hint and its one-step undo; /meinestunden shows why a session was missed (H6).

The clock stands at Mon 07.04.2025 10:00; HB-2026-011 (JB, TB) began on Wed 26.03.2025.
"""

from __future__ import annotations

import re

from config.enums import DeadlineKind, DeadlineStatus
from storage.db import Database
from storage.models.cases import Deadline
from storage.models.hours import HoursEntry
from tests.conftest import ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, row_counts

pytestmark = BOTH_BACKENDS

CASE = "HB-2026-011"


def test_no_coordination_need_before_the_help_began(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    before = row_counts(db)
    assert demo["TB"].say(f"/abstimmung {CASE} 01.03.2025") == (
        "Der 01.03.2025 liegt vor dem Hilfebeginn von HB-2026-011 (26.03.2025). "
        "Abstimmungsbedarf gibt es erst ab Hilfebeginn – bitte das Datum prüfen."
    )
    assert row_counts(db) == before
    assert "vermerkt" in demo["TB"].say(f"/abstimmung {CASE} 26.03.2025")


def test_no_meeting_before_the_help_begins(db: Database, demo: dict[str, ChatUser]) -> None:
    tb = demo["TB"]
    assert "angelegt" in tb.say("/fall_neu HB-2025-200 §30 beginn=02.06.2025 traeger=JB")
    before = row_counts(db)
    for command in ("/hpg", "/abschluss"):
        assert tb.say(f"{command} HB-2025-200 20.05.2025 10:00") == (
            "Der 20.05.2025 liegt vor dem Hilfebeginn von HB-2025-200 (02.06.2025). "
            "Bitte das Datum prüfen."
        )
    assert row_counts(db) == before


def test_no_hours_before_the_contract(db: Database, demo: dict[str, ChatUser]) -> None:
    jb, mk = demo["JB"], demo["MK"]
    before = row_counts(db)
    # Without a contract the default term counts (from 01.01.2025).
    assert jb.say("/stunden 1 netzwerk Mo 20.03.2023") == (
        "Der Mo 20.03.2023 liegt vor der Laufzeit der Trägerbudgetvereinbarung (ab 01.01.2025); "
        "Stunden davor zählen in keinem Quartal. Bitte das Datum prüfen, vor allem das Jahr."
    )
    assert row_counts(db) == before
    assert "Gespeichert" in mk.say("/vertrag laufzeit=01.02.2025-31.12.2029 stunden=1200")
    assert "(ab 01.02.2025)" in jb.say("/stunden 1 netzwerk 31.01.2025")
    assert "Erfasst" in jb.say("/stunden 1 netzwerk 03.02.2025")


def test_the_same_entry_twice_is_kept_with_a_hint(db: Database, demo: dict[str, ChatUser]) -> None:
    jb = demo["JB"]
    first = jb.say(f"/stunden 1,5 {CASE}")
    assert "⚠️" not in first
    second = jb.say(f"/stunden 1,5 {CASE}").splitlines()
    one, two = (e.id for e in all_rows(db, HoursEntry))
    assert second == [
        f"Erfasst #{two}: 1,5 Std. direkt am Klienten {CASE} am Mo 07.04.2025. "
        "Heute insgesamt: 3 Std.",
        f"⚠️ Genau so ist am Mo 07.04.2025 schon #{one} erfasst. Falls doppelt eingegeben, "
        "bitte zurücknehmen.",
        f"Rückgängig: /stunden_zurueck {two}",
    ]
    # Another duration, day or case is no duplicate.
    assert "⚠️" not in jb.say(f"/stunden 1 {CASE}")
    assert "⚠️" not in jb.say(f"/stunden 1,5 {CASE} gestern")
    assert "⚠️" not in jb.say("/stunden 1,5 HB-2026-003")
    assert "Zurückgenommen" in jb.say(f"/stunden_zurueck {two}")
    assert "⚠️" not in jb.say(f"/stunden 1 {CASE} ausfall grund=krank")


def test_a_second_coordination_need_in_the_open_window_gets_a_hint(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    tb, jb = demo["TB"], demo["JB"]
    assert "⚠️" not in tb.say(f"/abstimmung {CASE}")
    reply = jb.say(f"/abstimmung {CASE}")
    first, second = (d for d in all_rows(db, Deadline) if d.kind is DeadlineKind.coordination)
    assert reply.splitlines()[-1] == (
        f"⚠️ Für {CASE} ist schon ein Abstimmungsgespräch offen (#{first.id}, bis "
        f"Mi 16.04.2025). Doppelt gemeldet? Dann die neue Frist mit /erledigt {second.id} "
        "abhaken."
    )
    assert "Erledigt" in jb.say(f"/erledigt {second.id}")
    assert "Erledigt" in jb.say(f"/erledigt {first.id}")
    assert "⚠️" not in tb.say(f"/abstimmung {CASE}")  # the earlier ones are done
    assert [d.status for d in all_rows(db, Deadline) if d.kind is DeadlineKind.coordination] == [
        DeadlineStatus.done,
        DeadlineStatus.done,
        DeadlineStatus.open,
    ]


def test_my_hours_show_why_a_session_was_missed(db: Database, demo: dict[str, ChatUser]) -> None:
    jb = demo["JB"]
    jb.say(f"/stunden 1 {CASE} ausfall grund=abgesagt")
    jb.say(f"/stunden 0,5 {CASE} ausfall grund=nicht-angetroffen")
    lines = jb.say("/meinestunden").splitlines()
    assert [re.sub(r"^#\d+ ", "", line) for line in lines[1:3]] == [
        f"Mo 07.04.2025 1 Std. ausgefallene Leistung (von der Familie abgesagt) {CASE}",
        f"Mo 07.04.2025 0,5 Std. ausgefallene Leistung (nicht angetroffen) {CASE}",
    ]
