"""Issue 6 on a real database with an injected clock: a rotation set up from chat, a swap, an
override for illness, a page at night that escalates twice, handovers, gaps, absence routing.

The demo rotation "Rufbereitschaft Weserufer": weekly from Mon 17.03.2025 09:00, MK, JB, TS;
so Mo 07.04. MK, Mo 14.04. JB, Mo 21.04. TS, Mo 28.04. MK. The clock starts Mon 07.04. 10:00.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from bot.core import Bot
from bot.reminder_render import GermanRenderer
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from scheduler.engine import Sweeper
from scheduler.rota_sweep import RotaSweeper
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.rota import OncallSwap, Page
from tests.conftest import BERLIN, ChatUser
from tests.icalcheck import feed_path, parse_feed
from tests.integration.helpers import BOTH_BACKENDS, all_rows, row_counts
from tests.reminder_fakes import RecordingMessenger

MK, JB, TS, LW, EL, TB = "user-mk", "user-jb", "user-ts", "user-lw", "user-el", "user-tb"


def at(day: int, month: int, hour: int = 10, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


class Engine:
    """The reminder sweep, the on-call sweep and the dispatcher, ticked by the test's clock."""

    def __init__(self, settings: Settings, db: Database, clock: FixedClock, bot: Bot) -> None:
        self.clock = clock
        self.messenger = RecordingMessenger(clock)
        self.sweeper = Sweeper(settings, db, clock, bot.calendar)
        self.rota = RotaSweeper(settings, db, clock, bot.calendar)
        self.dispatcher = Dispatcher(
            settings,
            db,
            clock,
            bot.calendar,
            {"console": self.messenger},
            GermanRenderer(settings, bot.calendar),
        )

    async def tick(self) -> None:
        self.sweeper.sweep()
        self.rota.tick()
        await self.dispatcher.dispatch()

    async def run_until(self, end: datetime, step: timedelta = timedelta(minutes=30)) -> None:
        while self.clock.now() < end:
            self.clock.set(min(self.clock.now() + step, end))
            await self.tick()

    def texts(self, to: str, needle: str = "") -> list[tuple[str, str]]:
        return [
            (s.at, s.reply.text)
            for s in self.messenger.sent
            if s.to == to and needle in s.reply.text
        ]


@pytest.fixture
def engine(settings: Settings, db: Database, clock: FixedClock, bot: Bot) -> Engine:
    return Engine(settings, db, clock, bot)


def oncall_person(reply: str, rotation: str) -> str:
    block = reply.split(f"{rotation} (", 1)[1]
    return block.splitlines()[1].strip()


# ---------------------------------------------------------------------------
# Done-when: a coordinator sets up a rotation from chat


def test_coordinator_sets_up_a_rotation_from_chat(
    demo: dict[str, ChatUser], clock: FixedClock
) -> None:
    reply = demo["MK"].say(
        '/rufbereitschaft_neu "Rufbereitschaft Nacht" mitglieder=LW,TS schicht=tag '
        "uebergabe=18:00 zweite=MK start=07.04.2025"
    )
    assert reply.startswith("Rufbereitschaft „Rufbereitschaft Nacht“ eingerichtet"), reply
    assert "Reihenfolge: Lea Wolf (LW), Tim Sommer (TS)" in reply
    assert "Zweite Linie: Mara Koch (MK)" in reply
    assert "Mo 07.04.2025, 18:00 – Di 08.04.2025, 18:00: Lea Wolf (LW)" in reply
    clock.set(at(7, 4, 20))
    now = demo["TB"].say("/notfall", private=False)  # the ASD side, in a group
    assert oncall_person(now, "Rufbereitschaft Nacht") == "Lea Wolf (LW), Tel. 0421 555-1012"
    assert (
        "  bis Di 08.04.2025, 18:00, danach Tim Sommer\n  Zweite Linie: Mara Koch (MK), Tel. 0421 555-1010"
        in now
    )
    # Weekly, handover weekday and time; a coordinator of the other side may set up their own.
    weekly = demo["EL"].say(
        '/rufbereitschaft_neu "ASD Nord Bereitschaft" mitglieder=EL,TB uebergabe="Mi 08:30" zweite=naechste'
    )
    assert "erste Schicht ab Mi 09.04.2025" in weekly and "Übergabe Mittwochs 08:30" in weekly
    assert "Zweite Linie: die/der Nächste in der Reihe" in weekly


@pytest.mark.parametrize(
    ("who_", "text", "answer"),
    [
        ("JB", "/rufbereitschaft_neu Test mitglieder=JB", "Das darfst du mit deiner Rolle nicht."),
        ("MK", "/rufbereitschaft_neu Test mitglieder=TB", "gehört nicht zu deiner Organisation"),
        ("MK", "/rufbereitschaft_neu Test mitglieder=JB schicht=40", "Schichtlänge"),
        ("MK", "/rufbereitschaft_neu Test mitglieder=JB,JB", "doppelt"),
        ("MK", "/rufbereitschaft_neu Test mitglieder=XY9", "Kürzel"),
        ("MK", '/rufbereitschaft_neu "Rufbereitschaft Weserufer" mitglieder=JB', "gibt es schon"),
        ("TB", "/anpiepen Familie Müller ruft dauernd an", "Namen von Klient*innen"),
        ("TB", "/anpiepen " + "x" * 200, "zu lang"),
        ("TB", "/anpiepen", "kurze Nachricht"),
        ("JB", "/vertretung MK 14.04.-16.04. durch=TS", "Person selbst oder ihre Koordination"),
        ("MK", "/vertretung JB 16.04.-14.04. durch=TS", "vor dem Beginn"),
        ("MK", "/vertretung JB 14.04.-16.04. durch=JB", "dieselbe"),
        ("MK", "/vertretung JB 14.04.-16.04. durch=TB", "nicht zur selben Organisation"),
        ("LW", "/tausch 14.04. 21.04.", "Tauschen können die beiden Beteiligten"),
        ("JB", "/tausch 31.03.2025 21.04.", "schon vorbei"),
        ("JB", "/quittieren 99", "finde ich nicht"),
        ("JB", "/praesenz Di-Do", "Uhrzeit"),
        ("JB", "/praesenz Mo 16-8", "nicht nach dem Beginn"),
        ("JB", "/abwesend urlaub bis 01.04.2025", "Vergangenheit"),
        ("TB", "/erreichbar Müller", "wie ein Name"),
    ],
)
def test_bad_input_gets_a_german_answer_and_changes_nothing(
    db: Database, demo: dict[str, ChatUser], who_: str, text: str, answer: str
) -> None:
    before = row_counts(db)
    reply = demo[who_].say(text)
    assert answer in reply, reply
    assert "Müller" not in reply  # a client's name is never echoed (P1)
    assert row_counts(db) == before


# ---------------------------------------------------------------------------
# Done-when: a member swaps a week (both confirm); someone falls ill and is replaced


async def test_a_swap_takes_effect_only_when_both_confirm(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine, db: Database
) -> None:
    asked = demo["JB"].say("/tausch 14.04. 21.04.")
    assert (
        "Tim Sommer (TS) übernimmt Mo 14.04.2025, 09:00 – Mo 21.04.2025, 09:00 von Jonas Berg (JB)"
        in asked
    )
    number = int(re.search(r"/tausch_ok (\d+)", asked)[1])  # type: ignore[index]
    await engine.tick()
    (message,) = [s for s in engine.messenger.sent if s.to == TS]
    assert f"Tauschanfrage #{number}" in message.reply.text
    assert [b.command for b in message.reply.buttons] == [
        f"/tausch_ok {number}",
        f"/tausch_nein {number}",
    ]
    # Not yet in force: one side only.
    clock.set(at(14, 4, 10))
    assert "Jonas Berg (JB)" in oncall_person(
        demo["LW"].say("/notfall"), "Rufbereitschaft Weserufer"
    )
    clock.set(at(8, 4, 10))
    assert "schon bestätigt" in demo["JB"].say(f"/tausch_ok {number}")
    assert "gilt ab sofort" in demo["TS"].say(f"/tausch_ok {number}")
    clock.set(at(14, 4, 10))
    assert "Tim Sommer (TS)" in oncall_person(
        demo["LW"].say("/notfall"), "Rufbereitschaft Weserufer"
    )
    clock.set(at(21, 4, 10))
    assert "Jonas Berg (JB)" in oncall_person(
        demo["LW"].say("/notfall"), "Rufbereitschaft Weserufer"
    )
    assert "gilt bereits" in demo["TS"].say(f"/tausch_nein {number}")
    (swap,) = all_rows(db, OncallSwap)
    assert swap.status == "confirmed" and swap.confirmed_a_at and swap.confirmed_b_at


def test_a_declined_swap_changes_nothing(demo: dict[str, ChatUser], clock: FixedClock) -> None:
    asked = demo["JB"].say("/tausch 14.04. TS")
    number = int(re.search(r"/tausch_ok (\d+)", asked)[1])  # type: ignore[index]
    assert "abgelehnt" in demo["TS"].say(f"/tausch_nein {number}")
    clock.set(at(15, 4, 10))
    assert "Jonas Berg (JB)" in oncall_person(
        demo["LW"].say("/notfall"), "Rufbereitschaft Weserufer"
    )


async def test_illness_override_replaces_and_notifies_the_substitute(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine
) -> None:
    reply = demo["MK"].say("/vertretung JB 15.04.-16.04. durch=LW grund=krank")
    assert "Lea Wolf (LW) übernimmt für Jonas Berg (JB)" in reply
    assert "Di 15.04.2025, 00:00 – Do 17.04.2025, 00:00: " not in reply
    assert "Rufbereitschaft Weserufer: Di 15.04.2025, 00:00 – Do 17.04.2025, 00:00" in reply
    await engine.tick()
    assert engine.texts(LW, "Du vertrittst Jonas Berg (JB)")
    for moment, expected in [
        (at(14, 4, 23, 59), "Jonas Berg (JB)"),
        (at(15, 4, 3), "Lea Wolf (LW)"),
        (at(16, 4, 23), "Lea Wolf (LW)"),
        (at(17, 4, 0, 1), "Jonas Berg (JB)"),
    ]:
        clock.set(moment)
        answer = demo["TB"].say("/notfall")
        assert expected in oncall_person(answer, "Rufbereitschaft Weserufer"), (moment, answer)
    clock.set(at(15, 4, 3))
    answer = demo["TB"].say("/notfall")
    assert "(Vertretung für Jonas Berg)\n  bis Do 17.04.2025, 00:00, danach Jonas Berg" in answer
    # The person themself may enter one too, and cancel it.
    own = demo["TS"].say("/vertretung 22.04. durch=MK grund=urlaub")
    number = int(re.search(r"Vertretung #(\d+)", own)[1])  # type: ignore[index]
    clock.set(at(22, 4, 12))
    assert "Mara Koch (MK)" in oncall_person(
        demo["TB"].say("/notfall"), "Rufbereitschaft Weserufer"
    )
    assert "zurückgenommen" in demo["TS"].say(f"/vertretung_loeschen {number}")
    assert "Tim Sommer (TS)" in oncall_person(
        demo["TB"].say("/notfall"), "Rufbereitschaft Weserufer"
    )


# ---------------------------------------------------------------------------
# Done-when: a caller pages at night and the escalation chain runs


@BOTH_BACKENDS
async def test_page_at_night_escalates_twice_and_everything_is_logged(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine, db: Database
) -> None:
    demo["MK"].say(
        '/rufbereitschaft_neu "Rufbereitschaft Nacht" mitglieder=LW,TS schicht=tag '
        "uebergabe=18:00 zweite=naechste start=07.04.2025"
    )
    clock.set(at(12, 4, 23, 10))  # Saturday night: quiet hours for reminders
    paged = demo["TB"].say("/anpiepen Nacht Bitte dringend zurückrufen, HB-2026-011")
    assert "geht sofort an" in paged and "zweite Linie" in paged, paged
    number = int(re.search(r"Piepser #(\d+)", paged)[1])  # type: ignore[index]
    holder = "user-ts" if "Tim Sommer" in paged else "user-lw"
    backup = "user-lw" if holder == "user-ts" else "user-ts"
    await engine.tick()
    (first,) = engine.texts(holder, "Notfall-Piepser")
    assert first[0] == "12.04.2025 23:10"  # at once, at night
    assert "„Bitte dringend zurückrufen, HB-2026-011“" in first[1]
    assert "Tobias Brandt (TB) (ASD Stadtteilbüro Nord), Tel. 0421 361-2001" in first[1]
    # Unanswered: after 10 minutes the second line, after 10 more the coordinators.
    await engine.run_until(at(12, 4, 23, 19), step=timedelta(minutes=1))
    assert engine.texts(backup, "Piepser") == []
    await engine.run_until(at(12, 4, 23, 20), step=timedelta(minutes=1))
    assert [t for t, _ in engine.texts(backup, "zweite Linie")] == ["12.04.2025 23:20"]
    assert engine.texts(MK, "Piepser") == []
    await engine.run_until(at(12, 4, 23, 30), step=timedelta(minutes=1))
    assert [t for t, _ in engine.texts(MK, "Eskalation an die Koordination")] == [
        "12.04.2025 23:30"
    ]
    await engine.run_until(at(13, 4, 1, 0), step=timedelta(minutes=5))
    pages = [s for s in engine.messenger.sent if "🚨" in s.reply.text]
    assert len(pages) == 3  # the chain ends with the coordinators
    acked = demo["MK"].say(f"/quittieren {number}")
    assert "quittiert; keine weitere Eskalation" in acked and "Tobias Brandt (TB)" in acked
    await engine.tick()
    assert [t for t, _ in engine.texts(TB, "wurde quittiert: Mara Koch (MK)")] == [
        "13.04.2025 01:00"
    ]
    assert "schon quittiert" in demo["MK"].say(f"/quittieren {number}")
    (row,) = all_rows(db, Page)
    assert row.level == 2 and row.acked_by is not None and row.escalate_at is None
    actions = [(a.action, a.entity) for a in all_rows(db, AuditEntry) if a.entity == "page"]
    assert actions == [
        ("page", "page"),
        ("page_escalate", "page"),
        ("page_escalate", "page"),
        ("acknowledge", "page"),
    ]


async def test_an_acknowledged_page_does_not_escalate(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine, db: Database
) -> None:
    clock.set(at(8, 4, 2, 0))  # Tuesday 02:00; MK is on call, no second line in the demo
    paged = demo["TB"].say("/anpiepen Krise in HB-2026-011, bitte Rückruf")
    assert "Mara Koch (MK)" in paged
    await engine.tick()
    (page,) = engine.messenger.sent
    assert page.to == MK and page.reply.buttons[0].command.startswith("/quittieren ")
    clock.set(at(8, 4, 2, 4))
    assert "quittiert" in demo["MK"].say(page.reply.buttons[0].command)
    await engine.run_until(at(8, 4, 3, 0), step=timedelta(minutes=2))
    assert [s.to for s in engine.messenger.sent] == [MK, TB]
    assert all(s.to != EL for s in engine.messenger.sent)


# ---------------------------------------------------------------------------
# Handover: reminded the day before and at handover, confirmed in chat; unconfirmed reported


async def test_handover_reminders_confirmation_and_report(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine
) -> None:
    clock.set(at(13, 4, 8, 0))  # Sunday
    await engine.run_until(at(14, 4, 12, 0), step=timedelta(minutes=15))
    # JB: the day before (Sunday 09:00) and at the handover (Monday 09:00), never confirmed.
    assert [t for t, _ in engine.texts(JB, "beginnt deine Rufbereitschaft")] == [
        "13.04.2025 09:00",
        "14.04.2025 09:00",
    ]
    pre = next(s for s in engine.messenger.sent if s.to == JB)
    assert pre.reply.buttons[0].command.startswith("/uebergabe_ok ")
    # Unconfirmed an hour after the handover: the coordinator hears of it.
    assert [t for t, _ in engine.texts(MK, "Übergabe nicht bestätigt: Jonas Berg (JB)")] == [
        "14.04.2025 10:00"
    ]
    # Next week TS confirms the day before: no reminder at handover, no report.
    await engine.run_until(at(20, 4, 9, 30), step=timedelta(minutes=30))
    assert "Übernahme bestätigt" in demo["TS"].say("/uebergabe_ok")
    await engine.run_until(at(21, 4, 12, 0), step=timedelta(minutes=30))
    assert [t for t, _ in engine.texts(TS, "beginnt deine Rufbereitschaft")] == ["20.04.2025 09:00"]
    assert engine.texts(MK, "Tim Sommer (TS)") == []
    assert "keine Rufbereitschaft" in demo["LW"].say("/uebergabe_ok")


async def test_handover_stays_at_nine_across_the_autumn_change(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine
) -> None:
    # Fall back in the night to Sun 26.10.2025; the shift from Mon 20.10. is JB's, then TS.
    clock.set(at(25, 10, 20, 0))
    await engine.run_until(at(27, 10, 9, 30), step=timedelta(minutes=30))
    assert [t for t, _ in engine.texts(TS, "beginnt deine Rufbereitschaft")] == [
        "26.10.2025 09:00",
        "27.10.2025 09:00",
    ]


# ---------------------------------------------------------------------------
# Gaps: reported to the coordinators days ahead


async def test_gap_reported_days_ahead_and_closed_by_an_override(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine, db: Database
) -> None:
    reply = demo["JB"].say("/abwesend urlaub 14.04.-25.04.")
    assert "Eingetragen: Jonas Berg (JB) ist im Urlaub von Mo 14.04.2025 bis Fr 25.04.2025" in reply
    assert "In dieser Zeit hast du Rufbereitschaft" in reply
    clock.set(at(7, 4, 19, 0))  # evening: the report waits for working hours
    await engine.tick()
    assert engine.texts(MK, "Lücke") == []
    clock.set(at(8, 4, 8, 0))
    await engine.tick()
    ((when, text),) = engine.texts(MK, "Lücke")
    assert when == "08.04.2025 08:00"
    assert (
        "Mo 14.04.2025, 09:00 – Mo 21.04.2025, 09:00 – Jonas Berg (JB) ist ab 14.04.2025 abwesend"
        in text
    )
    assert "/vertretung JB 14.04.-21.04. durch=KÜRZEL" in text
    demo["MK"].say("/vertretung JB 14.04.-25.04. durch=LW grund=urlaub")
    await engine.run_until(at(10, 4, 12, 0), step=timedelta(hours=4))
    assert len(engine.texts(MK, "Lücke")) == 1  # closed: no further report


# ---------------------------------------------------------------------------
# Reachability and absence routing


def test_presence_and_reachability_both_ways(demo: dict[str, ChatUser], clock: FixedClock) -> None:
    saved = demo["JB"].say("/praesenz Di-Do 08-16 Fr homeoffice 08-14")
    assert "Di–Do 08:00–16:00, Fr 08:00–14:00 (Homeoffice)" in saved
    clock.set(at(8, 4, 10))
    answer = demo["TB"].say("/erreichbar JB")
    assert answer.splitlines()[0] == "Jonas Berg (JB), Tel. 0421 555-1011"
    assert "Jetzt: laut Präsenzzeiten erreichbar" in answer
    case = demo["TB"].say("/erreichbar HB-2026-011")
    assert case.startswith("Zuständig für HB-2026-011:\nTräger: Jonas Berg (JB)")
    assert "ASD: Tobias Brandt (TB)" in case
    demo["JB"].say("/vertreter LW")
    demo["JB"].say("/abwesend krank bis 10.04.")
    ill = demo["TB"].say("/erreichbar HB-2026-011")
    assert "Zurzeit krank bis Do 10.04.2025; Vertretung: Lea Wolf (LW), Tel. 0421 555-1012" in ill
    assert "Willkommen zurück" in demo["JB"].say("/abwesend ende")
    assert "Zurzeit" not in demo["TB"].say("/erreichbar JB")
    # A case the asker may not see stays invisible.
    assert "finde ich nicht" in demo["LW"].say("/erreichbar HB-2026-011")


@BOTH_BACKENDS
async def test_absent_persons_reminders_go_to_the_deputy_until_they_return(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine, db: Database
) -> None:
    reply = demo["EL"].say(
        "/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=JB asd=TB empfehlung=fk kinderschutz=nein"
    )
    assert "Handlungsplan – Di 22.04.2025" in reply
    demo["MK"].say("/vertreter JB TS")  # a coordinator sets JB's deputy
    assert "Erinnerungen und Eskalationen gehen so lange an Tim Sommer (TS)" in demo["JB"].say(
        "/abwesend urlaub 14.04.-23.04."
    )
    await engine.run_until(at(25, 4, 12), step=timedelta(hours=2))
    label = "HB-2025-117 Handlungsplan"
    jb = [t for t, _ in engine.messenger.lines(JB, label)]
    ts = [t for t, _ in engine.messenger.lines(TS, label)]
    # Before the absence JB himself (14 days before: Tue 08.04.); during it TS (7 days before,
    # 2 working days before across Easter, due day, first day overdue); after it JB again.
    assert jb == ["08.04.2025 08:00", "24.04.2025 08:00", "25.04.2025 08:00"]
    assert ts == ["15.04.2025 08:00", "16.04.2025 08:00", "22.04.2025 08:00", "23.04.2025 08:00"]
    # No digest for JB while away (Monday 14.04. and 21.04.); TS gets his own.
    assert not [
        s for s in engine.messenger.sent if s.to == JB and s.at.startswith(("14.04", "21.04"))
    ]


async def test_absent_escalation_recipient_is_replaced_by_the_team_deputy(
    demo: dict[str, ChatUser], clock: FixedClock, engine: Engine
) -> None:
    demo["EL"].say(
        "/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=JB asd=TB empfehlung=fk kinderschutz=nein"
    )
    assert "Lea Wolf" in demo["MK"].say('/vertreter team="Ambulante Hilfen" LW')
    demo["MK"].say("/abwesend krank 24.04.-30.04.")  # the coordinator, no own deputy
    clock.set(at(24, 4, 7))
    await engine.run_until(at(25, 4, 9), step=timedelta(hours=1))
    assert engine.texts(LW, "Eskalation") and not engine.texts(MK, "Eskalation")
    assert engine.texts(TB, "Eskalation")  # the ASD contact, present, as before


# ---------------------------------------------------------------------------
# The on-call feed shows overrides and swaps as soon as they take effect


async def test_feed_shows_swaps_and_overrides_as_soon_as_they_take_effect(
    http: TestClient, demo: dict[str, ChatUser]
) -> None:
    links = demo["MK"].say("/kalender")
    rotation_path = feed_path(links, "Rufbereitschaft Weserufer")
    mine_links = demo["TS"].say("/kalender")

    async def events(path: str) -> dict[tuple[datetime, datetime], tuple[str, int]]:
        async with http.get(path) as resp:
            assert resp.status == 200
            _, found = parse_feed(await resp.read())
        return {(e.start, e.end): (e.summary, e.sequence) for e in found.values()}  # type: ignore[misc]

    week = (at(14, 4, 9), at(21, 4, 9))
    before = await events(rotation_path)
    assert before[week] == ("Rufbereitschaft: Jonas Berg (JB)", 0)
    number = int(re.search(r"/tausch_ok (\d+)", demo["JB"].say("/tausch 14.04. 21.04."))[1])  # type: ignore[index]
    assert (await events(rotation_path))[week][0] == "Rufbereitschaft: Jonas Berg (JB)"  # pending
    demo["TS"].say(f"/tausch_ok {number}")
    swapped = await events(rotation_path)
    assert swapped[week][0] == "Rufbereitschaft: Tim Sommer (TS)"
    assert swapped[(at(21, 4, 9), at(28, 4, 9))][0] == "Rufbereitschaft: Jonas Berg (JB)"
    demo["MK"].say("/vertretung TS 15.04.-16.04. durch=LW grund=krank")
    split = await events(rotation_path)
    assert split[(at(14, 4, 9), at(15, 4, 0))] == ("Rufbereitschaft: Tim Sommer (TS)", 2)
    assert split[(at(15, 4, 0), at(17, 4, 0))][0] == "Rufbereitschaft: Lea Wolf (LW)"
    assert split[(at(17, 4, 0), at(21, 4, 9))][0] == "Rufbereitschaft: Tim Sommer (TS)"
    # TS's own feed: the week taken over, without the two days LW covers.
    mine = await events(feed_path(mine_links, "Meine Rufbereitschaft"))
    assert (at(14, 4, 9), at(15, 4, 0)) in mine and (at(17, 4, 0), at(21, 4, 9)) in mine
    assert (at(15, 4, 0), at(17, 4, 0)) not in mine
    assert (at(21, 4, 9), at(28, 4, 9)) not in mine  # now JB's
