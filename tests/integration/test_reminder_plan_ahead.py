"""Planning ahead: reminders written to the outbox hours early, a bounded number per tick,
and everything that can change before they go out checked again at send time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import col

from bot.core import Bot
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.engine import Sweeper
from storage.db import Database
from storage.models.cases import Deadline, Meeting
from storage.models.outbox import OutboxEntry
from storage.models.staff import Staff
from tests.conftest import BERLIN, ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows
from tests.integration.test_reminders import CASE, JB, LABEL, Engine, at, case_number, times

__all__ = ["case_number"]  # the fixture, shared with the reminder tests

TS = "user-ts"
EVENING = at(7, 4, 20)  # Monday evening; the 14-days reminder is Tuesday 08:00


def capped(settings: Settings, rows: int) -> Settings:
    reminders = settings.reminders.model_copy(update={"max_rows_per_tick": rows})
    return settings.model_copy(update={"reminders": reminders})


@pytest.fixture
def engine(settings: Settings, db: Database, clock: FixedClock, bot: Bot) -> Engine:
    return Engine(settings, db, clock, bot)


def d14_rows(db: Database, deadline_id: int) -> list[OutboxEntry]:
    return [
        r
        for r in all_rows(db, OutboxEntry, col(OutboxEntry.item_id) == deadline_id)
        if r.item_type == "deadline" and r.stage.startswith("d14:")
    ]


def open_cases(demo: dict[str, ChatUser], n: int) -> list[int]:
    """n more cases like HB-2025-117: action plans due 22.04., reminded 08.04. 08:00."""
    ids = []
    for i in range(n):
        reply = demo["EL"].say(
            f"/fall_neu HB-2025-{101 + i} §30 beginn=07.03.2025 traeger=JB asd=TB "
            "empfehlung=fk kinderschutz=nein"
        )
        line = next(line for line in reply.splitlines() if "Handlungsplan" in line)
        ids.append(int(line.split("#", 1)[1].split()[0]))
    return ids


@BOTH_BACKENDS
async def test_reminder_is_planned_the_evening_before_and_sent_on_time(
    engine: Engine, settings: Settings, db: Database, case_number: int
) -> None:
    ahead = timedelta(hours=settings.reminders.plan_ahead_hours)
    engine.clock.set(at(8, 4, 8) - ahead - timedelta(minutes=1))  # not yet in the window
    await engine.tick()
    assert d14_rows(db, case_number) == []
    engine.clock.set(EVENING)
    await engine.tick()
    [row] = d14_rows(db, case_number)
    assert row.status == "pending" and row.send_after == at(8, 4, 8, 0)
    assert times(engine, JB) == []  # written, not sent: quiet hours until 08:00
    await engine.run_until(at(8, 4, 9), step=timedelta(minutes=30))
    assert times(engine, JB) == ["08.04.2025 08:00"]
    [row] = d14_rows(db, case_number)
    assert row.status == "sent" and not row.late


async def test_rows_planned_ahead_per_tick_are_capped(
    settings: Settings,
    db: Database,
    clock: FixedClock,
    bot: Bot,
    demo: dict[str, ChatUser],
    case_number: int,
) -> None:
    ids = [case_number, *open_cases(demo, 4)]
    sweeper = Sweeper(capped(settings, 2), db, clock, bot.calendar)
    sweeper.sweep()  # the new rows (uncapped); their 08:00 stage is still 22 h away
    clock.set(EVENING)
    planned: list[int] = []
    for _ in range(40):
        stats = sweeper.sweep()
        assert stats.ahead <= 2 and stats.items == stats.ahead
        planned.append(stats.ahead)
        if stats.ahead == 0:
            break
    assert planned[:3] == [2, 2, 2] and planned[-1] == 0
    assert all(len(d14_rows(db, i)) == 1 for i in ids)


@BOTH_BACKENDS
async def test_stages_already_due_are_planned_at_once_however_many(
    settings: Settings,
    db: Database,
    clock: FixedClock,
    bot: Bot,
    demo: dict[str, ChatUser],
    case_number: int,
) -> None:
    ids = [case_number, *open_cases(demo, 4)]
    sweeper = Sweeper(capped(settings, 1), db, clock, bot.calendar)
    sweeper.sweep()
    clock.set(at(8, 4, 9, 30))  # down all night: the 08:00 stages have passed
    stats = sweeper.sweep()
    assert stats.items - stats.ahead >= len(ids)
    assert all(len(d14_rows(db, i)) == 1 for i in ids)


@BOTH_BACKENDS
async def test_due_date_moved_after_planning(
    engine: Engine, db: Database, case_number: int
) -> None:
    engine.clock.set(EVENING)
    await engine.tick()
    assert len(d14_rows(db, case_number)) == 1
    with db.session() as s:  # e.g. the chain recomputed: due Tue 29.04. instead of 22.04.
        deadline = s.get(Deadline, case_number)
        assert deadline is not None
        deadline.due = datetime(2025, 4, 29, tzinfo=BERLIN).date()
        s.add(deadline)
    await engine.run_until(at(15, 4, 9))
    assert times(engine, JB) == ["15.04.2025 08:00"]  # 14 days before 29.04., not 22.04.
    old = next(r for r in d14_rows(db, case_number) if r.stage == "d14:20250422")
    assert old.status == "cancelled"
    new = [r.stage for r in d14_rows(db, case_number) if r.status == "sent"]
    assert new == ["d14:20250429"]


async def test_snooze_after_planning_postpones_the_queued_reminder(
    engine: Engine, demo: dict[str, ChatUser], db: Database, case_number: int
) -> None:
    engine.clock.set(EVENING)
    await engine.tick()
    assert len(d14_rows(db, case_number)) == 1
    assert "am Mi 09.04.2025 um 08:00" in demo["JB"].say(f"/spaeter {case_number} 2")
    await engine.run_until(at(9, 4, 9))
    assert times(engine, JB) == ["09.04.2025 08:00"]


@BOTH_BACKENDS
async def test_done_after_planning_stops_the_queued_reminder(
    engine: Engine, demo: dict[str, ChatUser], db: Database, case_number: int
) -> None:
    engine.clock.set(EVENING)
    await engine.tick()
    assert demo["JB"].say(f"/erledigt {case_number}").startswith("Erledigt")
    await engine.run_until(at(9, 4, 9))
    assert times(engine, JB) == []
    assert {r.status for r in d14_rows(db, case_number)} == {"cancelled"}


async def test_absence_entered_after_planning_reroutes_at_send_time(
    engine: Engine, demo: dict[str, ChatUser], db: Database, case_number: int
) -> None:
    engine.clock.set(EVENING)
    await engine.tick()
    assert [r.staff_id for r in d14_rows(db, case_number)] != []
    demo["MK"].say("/vertreter JB TS")
    demo["JB"].say("/abwesend krank bis 10.04.")  # called in sick after the sweep planned
    await engine.run_until(at(8, 4, 9))
    assert times(engine, JB) == []
    assert times(engine, TS) == ["08.04.2025 08:00"]
    assert CASE in LABEL


async def test_absence_known_at_planning_routes_for_the_day_it_goes_out(
    engine: Engine, demo: dict[str, ChatUser], db: Database, case_number: int
) -> None:
    demo["MK"].say("/vertreter JB TS")
    reply = demo["JB"].say("/abwesend urlaub 07.04.-07.04.")  # away on the planning day only
    assert "Tim Sommer (TS)" in reply, reply
    engine.clock.set(EVENING)
    await engine.tick()
    await engine.run_until(at(8, 4, 9))
    assert times(engine, JB) == ["08.04.2025 08:00"] and times(engine, TS) == []


async def test_person_deactivated_after_planning_gets_nothing(
    engine: Engine, db: Database, case_number: int
) -> None:
    engine.clock.set(EVENING)
    await engine.tick()
    [row] = d14_rows(db, case_number)
    with db.session() as s:
        staff = s.get(Staff, row.staff_id)
        assert staff is not None
        staff.active = False
        s.add(staff)
    await engine.run_until(at(8, 4, 9))
    assert times(engine, JB) == []
    assert [r.status for r in d14_rows(db, case_number)] == ["cancelled"]


async def test_meeting_cancelled_after_planning_is_not_reminded(
    engine: Engine, demo: dict[str, ChatUser], db: Database, case_number: int
) -> None:
    assert "02.06.2025" in demo["JB"].say(f"/hpg {CASE} 02.06.2025 10:00")
    engine.clock.set(at(25, 5, 20))  # the 7-days reminder (Mon 26.05. 10:00) is planned
    await engine.tick()
    planned = all_rows(db, OutboxEntry, col(OutboxEntry.item_type) == "meeting")
    assert {r.stage for r in planned} == {"m7:202506021000"}  # JB and TB
    with db.session() as s:
        meeting = s.get(Meeting, planned[0].item_id)
        assert meeting is not None
        meeting.cancelled = True
        s.add(meeting)
    await engine.run_until(at(26, 5, 12))
    assert times(engine, JB, "Hilfeplangespräch") == []
    assert {
        r.status for r in all_rows(db, OutboxEntry, col(OutboxEntry.item_type) == "meeting")
    } == {"cancelled"}


@BOTH_BACKENDS
async def test_reminder_planned_ahead_follows_a_new_caseworker(
    engine: Engine, db: Database, demo: dict[str, ChatUser], case_number: int
) -> None:
    engine.clock.set(EVENING)
    await engine.tick()
    [row] = d14_rows(db, case_number)
    assert row.status == "pending"
    reply = demo["EL"].say(f"/zuweisen {CASE} traeger=TS")
    assert reply.startswith(f"{CASE} zugewiesen – Träger: Tim Sommer (TS)")
    await engine.run_until(at(8, 4, 9), step=timedelta(minutes=30))
    assert times(engine, JB) == []  # the one planned for Jonas was withdrawn
    assert times(engine, TS) == ["08.04.2025 08:00"]
    statuses = sorted(r.status for r in d14_rows(db, case_number))
    assert statuses == ["cancelled", "sent"]
