"""Reachability (issue 6): regular presence, absences and deputies."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlmodel import Field, SQLModel

from storage.models.columns import utc_column


class Availability(SQLModel, table=True):
    """Regular presence (weekday and hours) or an absence (a date range)."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    weekday: int | None = None  # 0 = Monday, for regular presence
    start_time: time | None = None
    end_time: time | None = None
    absent_from: date | None = None
    absent_until: date | None = None
    remote: bool = False
    absence_kind: str | None = Field(default=None, max_length=12)  # krank, urlaub, sonstiges
    deputy_staff_id: int | None = None  # this absence's deputy (issue 6; no FK, see Rotation)


class Deputy(SQLModel, table=True):
    """Who stands in for a person (or for everyone in a team) during an absence."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", unique=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", unique=True)
    deputy_staff_id: int = Field(foreign_key="staff.id")
    updated_at: datetime = Field(sa_column=utc_column())
