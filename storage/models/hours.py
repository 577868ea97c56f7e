"""Hours entries and hours controlling (issue 7): contracts, closed quarters, corrections."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.enums import HoursCategory, MissedReason
from storage.models.columns import utc_column


class HoursEntry(SQLModel, table=True):
    __tablename__ = "hours_entry"
    __table_args__ = (
        Index("ix_hours_staff_day", "staff_id", "day"),
        # Hours controlling (issue 7): an organisation's quarter, read from the index alone.
        Index(
            "ix_hours_org_day",
            "organisation_id",
            "day",
            "category",
            "staff_id",
            "minutes",
            "deleted_at",
        ),
        # The ASD's view (issue 18): the hours of its cases in a quarter, from the index alone.
        Index(
            "ix_hours_case_day", "case_id", "day", "category", "staff_id", "minutes", "deleted_at"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    day: date
    minutes: int
    category: HoursCategory
    case_id: int | None = Field(default=None, foreign_key="hzcase.id")
    participants: int | None = None
    missed_reason: MissedReason | None = None
    created_at: datetime = Field(sa_column=utc_column())
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Contract(SQLModel, table=True):
    """A provider's budget contract with the Jugendamt (Trägerbudgetvereinbarung, seed 001 II.5)."""

    id: int | None = Field(default=None, primary_key=True)
    provider_org_id: int = Field(foreign_key="organisation.id", unique=True)
    starts_on: date
    ends_on: date
    steering_percent: int = 15  # expected steering effect: up to +15 % services, same budget
    updated_at: datetime = Field(sa_column=utc_column())


class ContractYear(SQLModel, table=True):
    """The planned direct hours ("Stunden am Klient") of one contract year (H2)."""

    __tablename__ = "contract_year"
    __table_args__ = (UniqueConstraint("contract_id", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    year: int
    planned_direct_hours: int
    updated_at: datetime = Field(sa_column=utc_column())


class QuarterClosing(SQLModel, table=True):
    """A closed quarter: its hours entries are locked; coordinators correct with a reason."""

    __tablename__ = "quarter_closing"
    __table_args__ = (UniqueConstraint("organisation_id", "year", "quarter"),)
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    year: int
    quarter: int
    first_day: date
    last_day: date
    closed_at: datetime = Field(sa_column=utc_column())
    closed_by: int = Field(foreign_key="staff.id")


class HoursCorrection(SQLModel, table=True):
    """A coordinator's correction of an hours entry (after closing), with the reason given."""

    __tablename__ = "hours_correction"
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="hours_entry.id", index=True)
    corrected_by: int = Field(foreign_key="staff.id")
    at: datetime = Field(sa_column=utc_column())
    old_minutes: int
    new_minutes: int | None = None  # None: the entry was withdrawn
    reason: str = Field(max_length=200)


class HelpOutcome(SQLModel, table=True):
    """How an ended help went on (H5): with or without follow-up help outside the family."""

    __tablename__ = "help_outcome"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", unique=True)
    follow_up_outside: bool
    recorded_by: int = Field(foreign_key="staff.id")
    recorded_at: datetime = Field(sa_column=utc_column())
