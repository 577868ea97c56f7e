"""Closing a case (DOMAIN.md C4, issue 14): future deadlines and meetings are cancelled, what
is already due stays visible until done; no reminder of a cancelled meeting goes out."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core import Bot
from bot.reminder_render import GermanRenderer
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from scheduler.engine import Sweeper
from storage.db import Database
from storage.models.cases import Meeting
from tests.conftest import BERLIN, ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, audit_trail, staff_id
from tests.reminder_fakes import RecordingMessenger

CASE = "HB-2025-117"
JB, TB = "user-jb", "user-tb"


def at(day: int, month: int, hour: int = 10) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=BERLIN)


@BOTH_BACKENDS
async def test_closing_cancels_the_meetings_still_to_come(
    settings: Settings, db: Database, clock: FixedClock, bot: Bot, demo: dict[str, ChatUser]
) -> None:
    messenger = RecordingMessenger(clock)
    sweeper = Sweeper(settings, db, clock, bot.calendar)
    dispatcher = Dispatcher(
        settings,
        db,
        clock,
        bot.calendar,
        {"console": messenger},
        GermanRenderer(settings, bot.calendar),
    )
    tb = demo["TB"]
    assert "angelegt" in tb.say(f"/fall_neu {CASE} §30 beginn=07.03.2025 traeger=JB")
    assert "eingetragen" in tb.say(f"/hpg {CASE} 02.06.2025 10:00")
    sweeper.sweep()  # the HPG's reminders are planned ahead
    clock.set(at(20, 5))

    reply = tb.say(f"/fall_schliessen {CASE} 16.05.2025")

    assert "Fall HB-2025-117 zum 16.05.2025 beendet." in reply
    assert "abgesagt: Hilfeplangespräch am Mo 02.06.2025, 10:00" in reply
    # The report due before the HPG (Thu 17.04.) follows the meeting; the action plan, due
    # Tue 22.04. before the end, stays open (C4).
    assert "entfällt: " in reply and "Bericht – Do 17.04.2025" in reply
    assert "Noch offen (bitte erledigen):" in reply and "Handlungsplan – Di 22.04.2025" in reply
    shown = tb.say(f"/fall {CASE}")
    assert "Hilfeplangespräch" not in shown and "Termine:" not in shown
    (meeting,) = all_rows(db, Meeting)
    assert meeting.cancelled and meeting.updated_at == at(20, 5)
    assert audit_trail(db)[-1] == (staff_id(db, "TB"), "close", "case")

    while clock.now() < at(3, 6):
        clock.set(clock.now() + timedelta(hours=1))
        sweeper.sweep()
        await dispatcher.dispatch()
    for person in (JB, TB):
        assert messenger.lines(person, f"{CASE} Hilfeplangespräch") == []
