"""The reminder engine on a real database with an injected clock: stages, quiet hours,
holidays, snooze, done, escalation, unreachable people, digest and catch-up after downtime."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import col

from bot.core import Bot
from bot.reminder_render import GermanRenderer
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher, DispatchStats
from scheduler.engine import Sweeper
from scheduler.ports import FailureKind
from storage import planning
from storage.db import Database
from storage.models.outbox import OutboxEntry
from tests.conftest import BERLIN, ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows
from tests.reminder_fakes import RecordingMessenger

CASE = "HB-2025-117"
LABEL = f"{CASE} Handlungsplan"
JB, TB, MK, EL = "user-jb", "user-tb", "user-mk", "user-el"


def at(day: int, month: int, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=BERLIN)


class Engine:
    """Sweep and dispatch driven by the test's clock, as the periodic jobs would."""

    def __init__(self, settings: Settings, db: Database, clock: FixedClock, bot: Bot) -> None:
        self.clock = clock
        self.messenger = RecordingMessenger(clock)
        self.sweeper = Sweeper(settings, db, clock, bot.calendar)
        self.dispatcher = Dispatcher(
            settings,
            db,
            clock,
            bot.calendar,
            {"console": self.messenger},
            GermanRenderer(settings, bot.calendar),
        )

    async def tick(self) -> DispatchStats:
        self.sweeper.sweep()
        self.sweeper.queue_digest()
        return await self.dispatcher.dispatch()

    async def run_until(self, end: datetime, step: timedelta = timedelta(hours=1)) -> None:
        """Tick every `step` up to `end`, and on each full hour's 08:00 exactly."""
        while self.clock.now() < end:
            self.clock.set(min(self.clock.now() + step, end))
            await self.tick()


@pytest.fixture
def engine(settings: Settings, db: Database, clock: FixedClock, bot: Bot) -> Engine:
    return Engine(settings, db, clock, bot)


@pytest.fixture
def case_number(demo: dict[str, ChatUser]) -> int:
    """The DOMAIN.md D1 example (there HB-2025-017, taken by the demo): the action plan is due Tue 22.04.2025."""
    reply = demo["EL"].say(
        f"/fall_neu {CASE} §30 beginn=07.03.2025 traeger=JB asd=TB empfehlung=fk kinderschutz=nein"
    )
    assert "Handlungsplan" in reply, reply
    line = next(line for line in reply.splitlines() if "Handlungsplan" in line)
    match = re.search(r"#(\d+)", line)
    assert match is not None and "22.04.2025" in line, reply
    return int(match[1])


def times(engine: Engine, to: str, needle: str = LABEL) -> list[str]:
    return [t for t, _ in engine.messenger.lines(to, needle)]


async def test_every_stage_with_holidays_and_escalation(engine: Engine, case_number: int) -> None:
    await engine.run_until(at(29, 4, 12))
    # 14 and 7 days before; 2 working days before is Wed 16.04. (Good Friday and Easter Monday
    # do not count); the due day; each working day overdue, none on the holidays or weekend.
    assert times(engine, JB) == [
        "08.04.2025 08:00",
        "15.04.2025 08:00",
        "16.04.2025 08:00",
        "22.04.2025 08:00",
        "23.04.2025 08:00",
        "24.04.2025 08:00",
        "25.04.2025 08:00",
        "28.04.2025 08:00",
        "29.04.2025 08:00",
    ]
    # Escalation after 3 working days overdue: the provider's coordinator and the ASD contact.
    for person in (MK, TB):
        lines = engine.messenger.lines(person, LABEL)
        assert [t for t, line in lines if "Eskalation" in line] == ["25.04.2025 08:00"], lines
        assert "zuständig: JB" in lines[0][1]
    # The ASD contact gets no ordinary reminders of the provider's action plan.
    assert [line for _, line in engine.messenger.lines(TB, LABEL) if "Eskalation" not in line] == []
    # Nothing outside working hours, ever.
    assert all("08:00" <= s.at[-5:] < "18:00" for s in engine.messenger.sent)


async def test_buttons_and_text_of_a_reminder(engine: Engine, case_number: int) -> None:
    await engine.run_until(at(8, 4, 9))
    message = next(s for s in engine.messenger.sent if s.to == JB and LABEL in s.reply.text)
    assert f"#{case_number} {LABEL} – Di 22.04.2025 (in 14 Tagen)" in message.reply.text
    commands = [b.command for b in message.reply.buttons]
    assert f"/erledigt {case_number}" in commands and f"/spaeter {case_number} 1" in commands


async def test_quiet_hours_hold_a_reminder_until_0800(engine: Engine, case_number: int) -> None:
    engine.clock.set(at(8, 4, 7, 59))
    await engine.tick()
    assert times(engine, JB) == []
    engine.clock.set(at(8, 4, 8, 0))
    await engine.tick()
    assert times(engine, JB) == ["08.04.2025 08:00"]


async def test_meeting_reminders_respect_the_weekend(
    engine: Engine, demo: dict[str, ChatUser], case_number: int
) -> None:
    reply = demo["JB"].say(f"/hpg {CASE} 02.06.2025 10:00")
    assert "02.06.2025" in reply, reply
    engine.clock.set(at(25, 5, 12))
    await engine.tick()
    await engine.run_until(at(2, 6, 9))
    needle = f"{CASE} Hilfeplangespräch"
    # 7 days before: Mon 26.05. 10:00; 1 day before is Sunday: the next allowed minute.
    assert times(engine, JB, needle) == ["26.05.2025 10:00", "02.06.2025 08:00"]
    assert times(engine, TB, needle) == ["26.05.2025 10:00", "02.06.2025 08:00"]


async def test_snooze_postpones_and_combines(
    engine: Engine, demo: dict[str, ChatUser], case_number: int
) -> None:
    await engine.run_until(at(15, 4, 9))
    assert times(engine, JB) == ["08.04.2025 08:00", "15.04.2025 08:00"]
    reply = demo["JB"].say(f"/spaeter {case_number} 3")
    # 3 days on is Good Friday: the next allowed minute is Tuesday after Easter, 08:00.
    assert reply == (
        f"Okay, ich erinnere dich an #{case_number} {LABEL} am Di 22.04.2025 um 08:00 wieder."
    )
    await engine.run_until(at(22, 4, 9))
    # The 2-working-days reminder (17.04.) waited for the snooze; one line on 22.04.
    assert times(engine, JB) == ["08.04.2025 08:00", "15.04.2025 08:00", "22.04.2025 08:00"]


async def test_bad_snooze_input_changes_nothing(
    engine: Engine, demo: dict[str, ChatUser], db: Database, case_number: int
) -> None:
    before = len(all_rows(db, OutboxEntry))
    assert "Zahl von 1 bis 30" in demo["JB"].say(f"/spaeter {case_number} 99")
    assert "Nummer der Frist" in demo["JB"].say("/spaeter morgen")
    assert "finde ich bei deinen Fällen nicht" in demo["LW"].say(f"/spaeter {case_number} 2")
    assert len(all_rows(db, OutboxEntry)) == before


async def test_done_stops_reminders_at_once(
    engine: Engine, demo: dict[str, ChatUser], db: Database, case_number: int
) -> None:
    await engine.run_until(at(22, 4, 9))
    engine.clock.set(at(23, 4, 8, 0))
    engine.sweeper.sweep()  # the 23.04. reminder is written, not yet sent
    assert demo["JB"].say(f"/erledigt {case_number}").startswith("Erledigt")
    await engine.dispatcher.dispatch()
    await engine.run_until(at(30, 4, 12))
    assert times(engine, JB)[-1] == "22.04.2025 08:00"
    assert times(engine, MK) == [] and times(engine, TB) == []
    rows = all_rows(db, OutboxEntry, col(OutboxEntry.item_id) == case_number)
    assert {r.status for r in rows if r.stage.startswith("o1:")} == {"cancelled"}


@BOTH_BACKENDS
async def test_two_day_outage_catch_up(engine: Engine, db: Database, case_number: int) -> None:
    await engine.run_until(at(22, 4, 7))
    sent_before = len(engine.messenger.sent)
    engine.clock.set(at(24, 4, 11, 30))  # down from Tue 07:00 to Thu 11:30
    await engine.tick()
    late = [
        s
        for s in engine.messenger.sent[sent_before:]
        if s.to == JB and not s.reply.text.startswith("Deine Fristen")  # the late digest
    ]
    assert len(late) == 1, [s.reply.text for s in late]  # one combined message, no flood
    text = late[0].reply.text.split("\n\n")[0]  # the late digest follows in it (issue 11)
    assert text.startswith("Nachgeholte Erinnerungen (verspätet"), text
    assert text.count(LABEL) == 1
    rows = all_rows(db, OutboxEntry, col(OutboxEntry.item_id) == case_number)
    missed = {r.stage.partition(":")[0] for r in rows if r.staff_id and r.late}
    assert {"due", "o1", "o2"} <= missed
    assert all(r.status == "sent" for r in rows if r.stage.partition(":")[0] in missed)
    await engine.run_until(at(24, 4, 17))
    assert times(engine, JB).count("24.04.2025 11:30") == 1
    assert len([t for t in times(engine, JB) if t.startswith("24.04.")]) == 1


async def test_unreachable_person_is_retried_then_reported(
    engine: Engine, settings: Settings, db: Database, case_number: int
) -> None:
    engine.messenger.fail(JB, FailureKind.blocked)
    await engine.run_until(at(8, 4, 14), step=timedelta(minutes=5))
    rows = all_rows(db, OutboxEntry, col(OutboxEntry.item_id) == case_number)
    first = next(r for r in rows if r.stage.startswith("d14:"))
    assert first.status == "failed" and first.attempts == settings.reminders.max_attempts - 1
    refused = [r for r in engine.messenger.refused if r[0] == JB]
    assert len(refused) >= settings.reminders.max_attempts
    # One report per unreachable person and day (the first one, on 07.04., is the digest's).
    reports = [
        r for r in engine.messenger.lines(MK, "Jonas Berg (JB)") if r[0].startswith("08.04.")
    ]
    assert len(reports) == 1 and "blockiert" in reports[0][1], reports


async def test_rate_limit_answer_delays_but_loses_nothing(
    engine: Engine, db: Database, case_number: int
) -> None:
    # One message for JB (issue 11): 4 tries in the first tick, 2 more refused in the second.
    engine.messenger.fail(JB, FailureKind.rate_limited, times=6, retry_after=0.05)
    engine.clock.set(at(8, 4, 8, 0))
    stats = await engine.tick()
    assert stats.rate_limited >= 1 and times(engine, JB) == []
    engine.clock.set(at(8, 4, 8, 1))
    await engine.tick()
    assert times(engine, JB) == ["08.04.2025 08:01"]


async def test_monday_digest(engine: Engine, case_number: int) -> None:
    engine.clock.set(at(21, 4, 12))  # Easter Monday: the digest waits for Tuesday 08:00
    await engine.tick()
    assert [s for s in engine.messenger.sent if "KW 17" in s.reply.text] == []
    engine.clock.set(at(22, 4, 8, 0))
    await engine.tick()
    digests = [s for s in engine.messenger.sent if s.to == JB and "KW 17" in s.reply.text]
    assert len(digests) == 1 and LABEL in digests[0].reply.text
    await engine.tick()
    assert len([s for s in engine.messenger.sent if s.to == JB and "KW 17" in s.reply.text]) == 1


@BOTH_BACKENDS
async def test_two_sweepers_write_each_reminder_once(
    settings: Settings, db: Database, clock: FixedClock, bot: Bot, case_number: int
) -> None:
    first, second = Engine(settings, db, clock, bot), Engine(settings, db, clock, bot)
    clock.set(at(8, 4, 8, 0))
    first.sweeper.sweep()
    with db.session() as s:
        assert planning.due_items(s, "deadline", clock.now(), 10) == []
    second.sweeper.sweep()
    await first.dispatcher.dispatch()
    await second.dispatcher.dispatch()
    assert times(first, JB) + times(second, JB) == ["08.04.2025 08:00"]
