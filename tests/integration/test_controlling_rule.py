"""Issue 14: one place decides which quarters the 90 % rule looks at, so /pruefen, /quartal
letztes, /quartal, /jahr and the alert agree: the last quarter that has ended counts. And one
step past the rule: mid-quarter, when the forecast says the running quarter would be the
second or third short quarter in a row, the provider's coordinators are told once, with the
hours still needed per remaining working day (the scheduler's job, with an injected clock).

The contract (/vertrag stunden=40) makes every quarter's target 10 h; 90 % is 9 h (540 min).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import col

from bot.core import Bot
from bot.messages import Reply
from bot.reminder_engine import reminder_engine
from config.enums import HoursCategory
from scheduler.clock import FixedClock
from scheduler.service import ReminderService
from storage.db import Database
from storage.models.hours import HoursEntry
from storage.models.outbox import OutboxEntry
from storage.models.staff import Staff
from tests.conftest import BERLIN, ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, case_of, one_row
from tests.reminder_fakes import RecordingMessenger

CASE = "HB-2026-011"  # JB's case in the demo


def at(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, tzinfo=BERLIN)


def add(db: Database, day: date, minutes: int) -> None:
    """Direct hours of JB on `day`, as /stunden stores them."""
    jb = one_row(db, Staff, Staff.handle == "JB")
    case_id = case_of(db, CASE).id
    with db.session() as s:
        s.add(
            HoursEntry(
                staff_id=jb.id or 0,
                organisation_id=jb.organisation_id,
                day=day,
                minutes=minutes,
                category=HoursCategory.direct,
                case_id=case_id,
                created_at=at(day.year, day.month, day.day, 18),
            )
        )


@pytest.fixture
def service(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> ReminderService[Reply]:
    assert "Gespeichert" in demo["MK"].say("/vertrag stunden=40")
    return reminder_engine(
        bot.settings, db, clock, bot.calendar, {"console": RecordingMessenger(clock)}
    )


def rule_block(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("90-%-Regel"))
    return [line for line in lines[start:] if not line.startswith("Jahresbericht")]


@BOTH_BACKENDS
def test_the_last_finished_quarter_counts_everywhere(
    db: Database,
    bot: Bot,
    clock: FixedClock,
    demo: dict[str, ChatUser],
    service: ReminderService[Reply],
) -> None:
    # Q4/2025, Q1/2026 and Q2/2026 short (80 %), Q3/2026 at 90,3 % (542 min of 600).
    for day in (date(2025, 11, 3), date(2026, 2, 2), date(2026, 5, 4)):
        add(db, day, 480)
    add(db, date(2026, 8, 3), 542)
    clock.set(at(2026, 11, 16))
    mk = demo["MK"]

    checked = mk.say("/pruefen")

    assert rule_block(checked) == [
        "90-%-Regel (3 Quartale in Folge unter 90 %):",
        "• Q1/2026: 8 Std. von 10 Std. = 80 % ⚠️ unter 90 %",
        "• Q2/2026: 8 Std. von 10 Std. = 80 % ⚠️ unter 90 %",
        "• Q3/2026: 9 Std. von 10 Std. = 90,3 % ✅",
        "• Q4/2026: 0 Std. von 10 Std. = 0 % – läuft noch, Prognose 0 Std. = 0 % ⚠️ "
        "(zählt noch nicht)",
        "Keine 3 abgeschlossenen Quartale in Folge unter 90 %.",
        "Bis 31.12.2026 fehlen noch 9 Std. zu 90 %: 17 Min. je verbleibendem Werktag "
        "(32 Werktage).",
    ]
    assert "nachzuverhandeln" not in checked and "Seed" not in checked
    # The same block wherever the rule is shown, and the scheduler finds nothing to alert.
    for command in ("/quartal letztes", "/quartal", "/quartal 2026-Q3", "/jahr 2026"):
        assert rule_block(mk.say(command)) == rule_block(checked), command
    assert service.evaluate_controlling() == 0
    assert all_rows(db, OutboxEntry) == []

    # Two years back, the run that ended then is what that quarter's view shows.
    old = mk.say("/quartal 2026-Q2")
    assert "⚠️ Q4/2025, Q1/2026, Q2/2026 liegen in Folge unter 90 %" in old
    assert "Seed" not in old


async def forecast_of(
    db: Database, clock: FixedClock, service: ReminderService[Reply], day: datetime
) -> list[OutboxEntry]:
    clock.set(day)
    service.evaluate_controlling()
    return all_rows(db, OutboxEntry, col(OutboxEntry.stage).like("fc:%"))


@BOTH_BACKENDS
async def test_forecast_alert_mid_quarter_once_with_hours_per_working_day(
    db: Database, clock: FixedClock, demo: dict[str, ChatUser], service: ReminderService[Reply]
) -> None:
    add(db, date(2025, 11, 3), 600)  # Q4/2025 met
    add(db, date(2026, 2, 2), 480)  # Q1/2026: 80 %
    add(db, date(2026, 5, 4), 510)  # Q2/2026: 85 %
    add(db, date(2026, 7, 6), 240)  # Q3/2026 so far: 4 h

    # Early in Q3 the forecast has not settled: nothing yet.
    assert await forecast_of(db, clock, service, at(2026, 7, 20, 7)) == []
    # Mon 17.08.2026: 34 of Q3's 66 working days have passed (July 23, August 11): the
    # forecast is 240 * 66 / 34 min = 7,8 h = 77,6 %; Q3 would be the third short quarter.
    (alert,) = await forecast_of(db, clock, service, at(2026, 8, 17, 7))
    mk = one_row(db, Staff, Staff.handle == "MK")
    assert (alert.item_type, alert.stage, alert.staff_id) == ("alert", "fc:2026Q3", mk.id)
    assert alert.send_after == at(2026, 8, 17, 8)  # the reminders' sending hours
    clock.set(at(2026, 8, 17, 8))
    await service.dispatcher.dispatch()
    messenger = service.dispatcher.messengers["console"]
    assert isinstance(messenger, RecordingMessenger)
    (sent,) = messenger.sent
    assert sent.to == "user-mk"  # the provider's coordinators only: their early warning
    assert sent.reply.text.splitlines() == [
        "⚠️ Prognose zur 90-%-Regel: Familienhilfe Weserufer e. V. erreicht in Q3/2026 "
        "voraussichtlich 77,6 % der vereinbarten Stunden am Klienten (bisher 4 Std. von 10 Std.).",
        "Schon unter 90 %: Q1/2026 80 %, Q2/2026 85 %.",
        "⚠️ Nach der Prognose wäre Q3/2026 das 3. Quartal in Folge unter 90 %; danach wäre die "
        "Trägerbudgetvereinbarung nachzuverhandeln.",
        # 540 - 240 = 300 min over the 32 working days after today: 9,4 min a day.
        "Bis 30.09.2026 fehlen noch 5 Std. zu 90 %: 9 Min. je verbleibendem Werktag (32 Werktage).",
        "Details: /pruefen",
    ]
    # Once per quarter, however often the job runs.
    assert len(await forecast_of(db, clock, service, at(2026, 8, 18, 7))) == 1
    assert len(await forecast_of(db, clock, service, at(2026, 9, 28, 7))) == 1
    # /pruefen shows the same warning and the same figures.
    checked = demo["MK"].say("/pruefen")
    assert "⚠️ Nach der Prognose wäre Q3/2026 das 3. Quartal in Folge unter 90 %" in checked
    assert checked.endswith(
        "Die Koordination des Trägers bekommt die Prognose einmalig für dieses Quartal als "
        "Nachricht."
    )
    assert len(all_rows(db, OutboxEntry, col(OutboxEntry.stage).like("fc:%"))) == 1


async def test_forecast_alert_for_the_second_short_quarter_too(
    db: Database, clock: FixedClock, service: ReminderService[Reply]
) -> None:
    add(db, date(2026, 2, 2), 600)  # Q1/2026 met
    add(db, date(2026, 5, 4), 510)  # Q2/2026: 85 %
    add(db, date(2026, 7, 6), 240)
    assert len(await forecast_of(db, clock, service, at(2026, 8, 17, 7))) == 1
    clock.set(at(2026, 8, 17, 8))
    await service.dispatcher.dispatch()
    messenger = service.dispatcher.messengers["console"]
    assert isinstance(messenger, RecordingMessenger)
    (sent,) = messenger.sent
    assert (
        "⚠️ Nach der Prognose wäre Q3/2026 das 2. Quartal in Folge unter 90 %; bei 3 in Folge "
        "ist nachzuverhandeln."
    ) in sent.reply.text.splitlines()


@pytest.mark.parametrize(
    ("q1", "q2", "q3"),
    [
        (600, 600, 240),  # Q3 would be the first short one only
        (480, 510, 300),  # on course: 300 * 66 / 34 = 582 min (97 %)
    ],
)
async def test_no_forecast_alert_without_a_looming_run(
    db: Database, clock: FixedClock, service: ReminderService[Reply], q1: int, q2: int, q3: int
) -> None:
    add(db, date(2026, 2, 2), q1)
    add(db, date(2026, 5, 4), q2)
    add(db, date(2026, 7, 6), q3)
    assert await forecast_of(db, clock, service, at(2026, 8, 17, 7)) == []


async def test_a_forecast_alert_that_no_longer_holds_is_dropped(
    db: Database, clock: FixedClock, service: ReminderService[Reply]
) -> None:
    add(db, date(2025, 11, 3), 600)
    add(db, date(2026, 2, 2), 480)
    add(db, date(2026, 5, 4), 510)
    add(db, date(2026, 7, 6), 240)
    clock.set(at(2026, 8, 16, 22))  # Sunday night: held until Monday 08:00
    service.evaluate_controlling()
    assert [a.status for a in all_rows(db, OutboxEntry)] == ["pending"]
    add(db, date(2026, 8, 14), 480)  # the week's hours came in late: back on course
    clock.set(at(2026, 8, 17, 8))
    await service.dispatcher.dispatch()
    messenger = service.dispatcher.messengers["console"]
    assert isinstance(messenger, RecordingMessenger)
    assert messenger.sent == []
    assert [a.status for a in all_rows(db, OutboxEntry)] == ["cancelled"]
