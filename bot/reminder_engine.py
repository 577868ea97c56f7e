"""The reminder engine as koopbot runs it: wired with the German texts and the 90 % rule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from bot.controlling_alerts import queue_alerts
from bot.messages import Reply
from bot.reminder_render import GermanRenderer
from config.settings import Settings
from scheduler.clock import Clock
from scheduler.ports import Messenger
from scheduler.service import ReminderService
from scheduler.workdays import WorkCalendar
from storage.db import Database


def reminder_engine(
    settings: Settings,
    db: Database,
    clock: Clock,
    calendar: WorkCalendar,
    messengers: Mapping[str, Messenger[Reply]],
) -> ReminderService[Reply]:
    """The periodic jobs, sending on `messengers` (by transport)."""

    def quarter_check(session: Session, now: datetime) -> int:
        return len(queue_alerts(session, settings, calendar, now))

    return ReminderService(
        settings, db, clock, calendar, messengers, GermanRenderer(settings, calendar), quarter_check
    )
