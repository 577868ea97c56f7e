"""Issue 15 on a real database with an injected clock: changing and ending a rotation, void
swaps and overrides, next-shift change notices, /uebernehmen, heads-up notices, the weekly
summary.

The demo rotation "Rufbereitschaft Weserufer": weekly from Mon 17.03.2025 09:00, MK, JB, TS;
#3 MK 07.04., #4 JB 14.04., #5 TS 21.04., #6 MK 28.04., #7 JB 05.05. The clock starts Mon
07.04.2025 10:00 (MK's shift is running).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.core import Bot
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.rota import OncallOverride, OncallSwap, RotationRule
from tests.conftest import ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, row_counts
from tests.integration.test_rota_chat import JB, LW, MK, TS, Engine, at, oncall_person

WESER = "Rufbereitschaft Weserufer"


@pytest.fixture
def engine(settings: Settings, db: Database, clock: FixedClock, bot: Bot) -> Engine:
    return Engine(settings, db, clock, bot)


def number(pattern: str, reply: str) -> int:
    found = re.search(pattern, reply)
    assert found, reply
    return int(found[1])


# ---------------------------------------------------------------------------
# /rufbereitschaft_aendern


@BOTH_BACKENDS
async def test_a_coordinator_adds_a_member_from_a_date_and_a_void_swap_is_reported(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine, db: Database
) -> None:
    # MK's 28.04. for JB's 05.05.: after the change those shifts are LW's and MK's.
    asked = demo["MK"].say("/tausch 28.04. 05.05.")
    swap = number(r"/tausch_ok (\d+)", asked)
    assert "gilt ab sofort" in demo["JB"].say(f"/tausch_ok {swap}")
    kept = number(r"/tausch_ok (\d+)", demo["JB"].say("/tausch 14.04. TS"))
    demo["TS"].say(f"/tausch_ok {kept}")  # TS takes 14.04.: before the change, it holds
    await engine.tick()
    sent_before = len(engine.messenger.sent)
    reply = demo["MK"].say("/rufbereitschaft_aendern Weserufer mitglieder=MK,JB,TS,LW ab=21.04.")
    assert reply.startswith(
        f"Rufbereitschaft „{WESER}“ geändert, gültig ab Mo 21.04.2025, 09:00:\n"
        "Reihenfolge: Mara Koch (MK), Jonas Berg (JB), Tim Sommer (TS), Lea Wolf (LW); "
        "Schicht wöchentlich, Übergabe montags 09:00; zweite Linie: keine"
    ), reply
    assert "Mo 21.04.2025, 09:00 – Mo 28.04.2025, 09:00: Tim Sommer (TS)" in reply
    assert "Mo 28.04.2025, 09:00 – Mo 05.05.2025, 09:00: Lea Wolf (LW)" in reply
    assert f"Hinfällig (die Beteiligten bekommen Bescheid):\n  Tausch #{swap}" in reply
    # JB had MK's 28.04. by the swap, and 14.04. went to TS: his next shift is now 12.05.
    assert "informiere ich: Jonas Berg (JB), Lea Wolf (LW)." in reply
    swaps = {s.id: s.status for s in all_rows(db, OncallSwap)}
    assert swaps == {swap: "void", kept: "confirmed"}
    # Shifts already planned before the date, and the one running, are as they were.
    for moment, expected in [
        (at(7, 4, 12), "Mara Koch (MK)"),
        (at(15, 4, 12), "Tim Sommer (TS)"),  # the swap before the change still holds
        (at(22, 4, 12), "Tim Sommer (TS)"),
        (at(29, 4, 12), "Lea Wolf (LW)"),
        (at(6, 5, 12), "Mara Koch (MK)"),
        (at(13, 5, 12), "Jonas Berg (JB)"),
    ]:
        clock.set(moment)
        assert expected in oncall_person(demo["TB"].say("/notfall"), WESER), moment
    clock.set(at(7, 4, 10, 5))
    await engine.tick()
    new = engine.messenger.sent[sent_before:]
    assert {s.to for s in new} == {LW, JB}
    void, moved = sorted(s.reply.text for s in new if s.to == JB)
    assert void.startswith(f"⚠️ Tausch #{swap} („{WESER}“) gilt nicht mehr")
    assert "bisher: Mo 28.04.2025, 09:00 – Mo 05.05.2025, 09:00\njetzt: Mo 12.05.2025" in moved
    (told,) = [s.reply.text for s in new if s.to == LW]
    assert told == (
        f"🔄 Rufbereitschaft „{WESER}“: deine nächste Schicht hat sich geändert "
        "(die Rufbereitschaft wurde geändert, gültig ab Mo 21.04.2025, 09:00).\n"
        "bisher: keine Schicht geplant\n"
        "jetzt: Mo 28.04.2025, 09:00 – Mo 05.05.2025, 09:00\n"
        "/rufbereitschaft zeigt alle Schichten."
    )
    shown = demo["LW"].say("/rufbereitschaft Weserufer")
    assert "Ab Mo 21.04.2025, 09:00: Reihenfolge: Mara Koch (MK), Jonas Berg (JB)" in shown
    audits = [(a.action, a.entity) for a in all_rows(db, AuditEntry) if a.entity == "rotation"]
    assert audits == [("edit", "rotation")]
    rules = all_rows(db, RotationRule)
    assert len(rules) == 2 and rules[0].superseded_by is None  # the old version stays as it was


@BOTH_BACKENDS
async def test_a_change_mid_shift_waits_for_the_running_shift(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine
) -> None:
    clock.set(at(9, 4, 10))
    reply = demo["MK"].say("/rufbereitschaft_aendern Weserufer schicht=tag")
    assert "gültig ab Mo 14.04.2025, 09:00" in reply
    assert (
        "Die laufende Schicht bleibt, wie sie ist (Mo 07.04.2025, 09:00 – Mo 14.04.2025, 09:00)"
        in reply
    )
    for moment, expected, until in [
        (at(13, 4, 23), "Mara Koch (MK)", "Mo 14.04.2025, 09:00"),
        (at(14, 4, 10), "Jonas Berg (JB)", "Di 15.04.2025, 09:00"),
        (at(15, 4, 10), "Tim Sommer (TS)", "Mi 16.04.2025, 09:00"),
    ]:
        clock.set(moment)
        answer = demo["TB"].say("/notfall")
        assert expected in oncall_person(answer, WESER) and f"bis {until}" in answer, answer
    # TS's next shift moved from 21.04. to 15.04.: told in the sending window.
    clock.set(at(9, 4, 10, 1))
    await engine.tick()
    (text,) = [t for _, t in engine.texts(TS, "🔄")]
    assert (
        "bisher: Mo 21.04.2025, 09:00 – Mo 28.04.2025, 09:00\njetzt: Di 15.04.2025, 09:00 – Mi 16.04.2025, 09:00"
        in text
    )


@pytest.mark.parametrize(
    ("who_", "text", "answer"),
    [
        ("JB", "/rufbereitschaft_aendern Weserufer mitglieder=JB", "mit deiner Rolle nicht"),
        (
            "EL",
            "/rufbereitschaft_aendern Weserufer mitglieder=EL",
            "Koordination ihrer Organisation",
        ),
        ("MK", "/rufbereitschaft_aendern Weserufer", "Was soll sich ändern?"),
        ("MK", "/rufbereitschaft_aendern mitglieder=JB", "Welche Rufbereitschaft?"),
        ("MK", "/rufbereitschaft_aendern Nirgendwo mitglieder=JB", "finde ich nicht"),
        ("MK", "/rufbereitschaft_aendern Weserufer mitglieder=JB ab=01.01.2025", "Vergangenheit"),
        ("MK", "/rufbereitschaft_aendern Weserufer mitglieder=TB", "nicht zu deiner Organisation"),
        ("MK", "/rufbereitschaft_aendern Weserufer zweite=keine", "So gilt es schon"),
        ("MK", "/rufbereitschaft_aendern Weserufer erste=LW", "nicht zu den Mitgliedern"),
        ("MK", "/rufbereitschaft_aendern Weserufer schicht=99", "Schichtlänge"),
        ("MK", "/rufbereitschaft_aendern Weserufer farbe=blau", "Unbekannte Angabe"),
        ("MK", "/rufbereitschaft_beenden Weserufer", "ab wann"),
        ("TS", "/rufbereitschaft_beenden Weserufer ab=01.05.", "mit deiner Rolle nicht"),
        ("MK", "/uebernehmen LW", "gehört nicht zu „Rufbereitschaft Weserufer“"),
        ("JB", "/uebernehmen TS", "Person selbst oder ihre Koordination"),
        ("JB", "/tausch TS 21.04. 28.04.", "Person selbst oder ihre Koordination"),
        ("MK", "/tausch JB 21.04. LW", "hat nicht Jonas Berg (JB)"),
    ],
)
def test_bad_edits_get_a_german_answer_and_change_nothing(
    db: Database, demo: dict[str, ChatUser], who_: str, text: str, answer: str
) -> None:
    before = row_counts(db)
    reply = demo[who_].say(text)
    assert answer in reply, reply
    assert row_counts(db) == before


# ---------------------------------------------------------------------------
# /rufbereitschaft_beenden


@BOTH_BACKENDS
async def test_ending_a_rotation_keeps_begun_shifts_and_voids_later_overrides(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine, db: Database
) -> None:
    cover = number(
        r"Vertretung #(\d+)", demo["MK"].say("/vertretung JB 16.04. durch=LW rb=Weserufer")
    )
    await engine.tick()
    sent_before = len(engine.messenger.sent)
    reply = demo["MK"].say("/rufbereitschaft_beenden Weserufer ab=15.04.")
    assert reply.startswith(f"Rufbereitschaft „{WESER}“ endet am Di 15.04.2025, 09:00."), reply
    assert "Letzte Schicht: Mo 14.04.2025, 09:00 – Di 15.04.2025, 09:00: Jonas Berg (JB)" in reply
    assert f"Vertretung #{cover}" in reply
    (override,) = all_rows(db, OncallOverride)
    assert override.cancelled_at is not None
    clock.set(at(15, 4, 10))
    assert WESER not in demo["TB"].say("/notfall")
    assert "bereits beendet" in demo["MK"].say("/rufbereitschaft_beenden Weserufer ab=20.04.")
    assert "Endet" not in demo["MK"].say("/rufbereitschaft Weserufer")
    assert "Beendet seit Di 15.04.2025, 09:00." in demo["MK"].say("/rufbereitschaft Weserufer")
    clock.set(at(7, 4, 10, 5))
    await engine.run_until(at(22, 4, 12), step=timedelta(hours=3))
    new = engine.messenger.sent[sent_before:]
    ts = [s.reply.text for s in new if s.to == TS]
    assert ts and ts[0].endswith(
        "bisher: Mo 21.04.2025, 09:00 – Mo 28.04.2025, 09:00\n"
        "jetzt: keine weitere Schicht geplant\n/rufbereitschaft zeigt alle Schichten."
    )
    assert not [t for t in ts if "beginnt" in t]  # no heads-up, no handover reminder
    jb = [s.reply.text for s in new if s.to == JB]
    assert any("jetzt: Mo 14.04.2025, 09:00 – Di 15.04.2025, 09:00" in t for t in jb)
    lw = [s.reply.text for s in new if s.to == LW]
    assert any(t.startswith(f"⚠️ Vertretung #{cover} entfällt") for t in lw)


# ---------------------------------------------------------------------------
# /uebernehmen


@BOTH_BACKENDS
async def test_taking_over_at_night_tells_the_relieved_person_at_once(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine, db: Database
) -> None:
    clock.set(at(8, 4, 2, 0))  # Tuesday 02:00, MK is on call
    reply = demo["JB"].say("/uebernehmen")
    assert reply.startswith(
        f"Du hast jetzt die Rufbereitschaft „{WESER}“: Di 08.04.2025, 02:00 – Mo 14.04.2025, "
        "09:00 (statt Mara Koch (MK))."
    ), reply
    answer = demo["TB"].say("/notfall")
    assert "Jonas Berg (JB)" in oncall_person(answer, WESER)
    assert "(Vertretung für Mara Koch)" in answer
    (override,) = all_rows(db, OncallOverride)
    assert override.reason == "übernommen"
    await engine.tick()  # at night: only what cannot wait
    ((when, text),) = engine.texts(MK)
    assert when == "08.04.2025 02:00"
    assert "(Jonas Berg (JB) hat übernommen)" in text
    assert (
        "bisher: Mo 07.04.2025, 09:00 – Mo 14.04.2025, 09:00\njetzt: Mo 28.04.2025, 09:00" in text
    )
    # On call now, JB takes the next shift of someone else: TS's 21.04., told in the morning.
    nxt = demo["JB"].say("/uebernehmen Weserufer")
    assert "Mo 21.04.2025, 09:00 – Mo 28.04.2025, 09:00 (statt Tim Sommer (TS))" in nxt
    await engine.tick()
    assert engine.texts(TS) == []
    await engine.run_until(at(8, 4, 8, 0), step=timedelta(hours=1))
    assert [w for w, _ in engine.texts(TS, "hat übernommen")] == ["08.04.2025 08:00"]
    # The coordinator was relieved herself; the second takeover is her news.
    assert [w for w, _ in engine.texts(MK, "ℹ️ Jonas Berg (JB) hat die Rufbereitschaft")] == [
        "08.04.2025 08:00"
    ]
    # A coordinator on a member's behalf.
    clock.set(at(8, 4, 9, 0))
    for_ts = demo["MK"].say("/uebernehmen TS")
    assert for_ts.startswith("Tim Sommer (TS) hat jetzt die Rufbereitschaft"), for_ts
    assert "Tim Sommer (TS)" in oncall_person(demo["TB"].say("/notfall"), WESER)
    actions = [a.action for a in all_rows(db, AuditEntry) if a.entity == "oncall_override"]
    assert actions == ["takeover", "takeover", "takeover"]


# ---------------------------------------------------------------------------
# Heads-up notices and the weekly summary


@BOTH_BACKENDS
async def test_heads_up_three_days_before_and_the_day_before(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine
) -> None:
    await engine.run_until(at(14, 4, 10), step=timedelta(hours=1))
    assert [(w, t) for w, t in engine.texts(JB, "⏰")] == [
        (
            "11.04.2025 09:00",
            f"⏰ Deine Rufbereitschaft „{WESER}“ beginnt in 3 Tagen: Mo 14.04.2025, 09:00 – "
            "Mo 21.04.2025, 09:00.\nVerhindert? /tausch oder /vertretung, die Schichten zeigt "
            "/rufbereitschaft.",
        )
    ]
    assert [w for w, _ in engine.texts(JB, "Morgen beginnt")] == ["13.04.2025 09:00"]
    # TS's 21.04.: three days before is Good Friday, so the heads-up comes the day before it.
    await engine.run_until(at(21, 4, 10), step=timedelta(hours=1))
    assert [w for w, _ in engine.texts(TS, "⏰")] == ["17.04.2025 17:00"]


@BOTH_BACKENDS
async def test_weekly_summary_of_the_coming_week(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine
) -> None:
    demo["MK"].say("/vertretung JB 16.04. durch=LW grund=krank")
    demo["MK"].say("/abwesend JB urlaub 18.04.-19.04.")
    clock.set(at(11, 4, 11))  # Friday
    await engine.run_until(at(12, 4, 13), step=timedelta(hours=1))
    ((when, text),) = engine.texts(MK, "📅")
    assert when == "11.04.2025 12:00"
    assert text.startswith(
        "📅 Rufbereitschaft in der Woche Mo 14.04.2025 – So 20.04.2025 "
        f"(Familienhilfe Weserufer e. V.):\n\n{WESER}:\n"
        "  Mo 07.04.2025, 09:00 – Mo 14.04.2025, 09:00: Mara Koch (MK)\n"
        "  Mo 14.04.2025, 09:00 – Mi 16.04.2025, 00:00: Jonas Berg (JB)\n"
        "  Mi 16.04.2025, 00:00 – Do 17.04.2025, 00:00: Lea Wolf (LW) (vertritt Jonas Berg (JB))\n"
        "  Do 17.04.2025, 00:00 – Mo 21.04.2025, 09:00: Jonas Berg (JB)\n"
    ), text
    assert (
        "⚠️ Lücke: Mo 14.04.2025, 09:00 – Mo 21.04.2025, 09:00 – Jonas Berg (JB) ist abwesend (ab 18.04.2025)"
        in text
    )
    assert text.endswith("Lücken bitte mit /vertretung schließen.")
    assert engine.texts("user-el", "📅") == []  # the other side has no rotation


# ---------------------------------------------------------------------------
# Issue 14 items 6, 7, 8


@BOTH_BACKENDS
def test_absence_warns_about_the_shifts_within_it_for_the_right_person(
    demo: dict[str, ChatUser],
) -> None:
    own = demo["JB"].say("/abwesend urlaub 28.04.-02.05.")
    assert "Rufbereitschaft" not in own  # JB's 14.04. lies before the absence
    other = demo["MK"].say("/abwesend JB urlaub 15.04.-16.04.")
    assert (
        "⚠️ In dieser Zeit hat Jonas Berg (JB) Rufbereitschaft (Rufbereitschaft Weserufer: "
        "Mo 14.04.2025, 09:00 – Mo 21.04.2025, 09:00). Bitte eine Vertretung eintragen: "
        "/vertretung JB 15.04.-16.04. durch=KÜRZEL"
    ) in other
    mine = demo["TS"].say("/abwesend krank 22.04.")
    assert "In dieser Zeit hast du Rufbereitschaft" in mine and "/vertretung 22.04.-22.04." in mine


@BOTH_BACKENDS
def test_absent_on_call_person_without_a_second_line_points_to_the_coordinators(
    demo: dict[str, ChatUser], clock: FixedClock
) -> None:
    demo["MK"].say(
        '/rufbereitschaft_neu "Rufbereitschaft Nacht" mitglieder=LW,TS schicht=tag '
        "uebergabe=18:00 start=07.04.2025"
    )
    demo["LW"].say("/abwesend krank 07.04.-09.04.")
    clock.set(at(7, 4, 20))
    answer = demo["TB"].say("/notfall")
    block = answer.split("Rufbereitschaft Nacht (")[1]
    assert "zweite Linie anrufen" not in block
    assert (
        "⚠️ laut Eintrag heute abwesend, und eine zweite Linie gibt es nicht – bitte die "
        "Koordination anrufen: Mara Koch (MK), Tel. 0421 555-1010"
    ) in block
    # A second line from the next handover on (LW's running shift stays as it began).
    edited = demo["MK"].say("/rufbereitschaft_aendern Nacht zweite=MK")
    assert "gültig ab Di 08.04.2025, 18:00" in edited
    clock.set(at(9, 4, 20))  # LW again, still absent
    assert "bitte die zweite Linie anrufen" in demo["TB"].say("/notfall").split("Nacht (")[1]
    # The coordinator herself on call and absent: nobody to call, so page.
    demo["MK"].say("/abwesend krank heute")
    weser = demo["TB"].say("/notfall").split(f"{WESER} (")[1].split("Rufbereitschaft Nacht")[0]
    assert "die Koordination ist heute auch nicht erreichbar – bitte /anpiepen" in weser


@BOTH_BACKENDS
async def test_the_on_call_person_paging_does_not_page_themself(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine, db: Database
) -> None:
    demo["MK"].say(
        '/rufbereitschaft_neu "Rufbereitschaft Nacht" mitglieder=LW,TS schicht=tag '
        "uebergabe=18:00 zweite=naechste start=07.04.2025"
    )
    clock.set(at(7, 4, 20))  # LW is on call, TS next in line
    paged = demo["LW"].say("/anpiepen Nacht Bitte Rückruf, HB-2026-011")
    assert paged == (
        "Du hast gerade selbst Rufbereitschaft in „Rufbereitschaft Nacht“, deshalb geht "
        "Piepser #1 nicht an dich, sondern sofort an Tim Sommer (TS) (zweite Linie) und ohne "
        "Quittung in 10 Minuten an die Koordination. Du bekommst Bescheid, sobald quittiert ist."
    )
    await engine.tick()
    await engine.run_until(at(7, 4, 20, 30), step=timedelta(minutes=5))
    assert [(s.to, s.at) for s in engine.messenger.sent if "🚨" in s.reply.text] == [
        (TS, "07.04.2025 20:00"),
        (MK, "07.04.2025 20:10"),
    ]
    assert "Eskalation (zweite Linie)" not in engine.texts(TS, "🚨")[0][1]
    # MK on call in the demo rotation: no second line and no other coordinator.
    clock.set(at(8, 4, 2))
    before = row_counts(db)
    alone = demo["MK"].say("/anpiepen Weserufer Bitte Rückruf")
    assert "Du hast gerade selbst Rufbereitschaft in „Rufbereitschaft Weserufer“" in alone
    assert row_counts(db) == before
