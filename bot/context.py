"""What a command handler gets: the request, the actor and the services around it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from bot.messages import Incoming
from config.enums import OrgKind, Role
from config.settings import Settings
from scheduler.workdays import WorkCalendar
from storage.models.staff import Staff


@dataclass
class Ctx:
    settings: Settings
    session: Session
    calendar: WorkCalendar
    now: datetime  # aware, in the organisation's time zone
    message: Incoming
    actor: Staff | None
    side: OrgKind | None

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def staff(self) -> Staff:
        """The registered sender; the core guarantees it for commands that need registration."""
        assert self.actor is not None
        return self.actor

    @property
    def staff_side(self) -> OrgKind:
        assert self.side is not None
        return self.side

    @property
    def staff_id(self) -> int:
        assert self.actor is not None and self.actor.id is not None
        return self.actor.id

    @property
    def is_coordinator(self) -> bool:
        return self.actor is not None and self.actor.role is Role.coordinator
