"""Cases, their meetings, coordination requests, deadlines and notices to the Jugendamt."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from config.enums import (
    CaseStatus,
    DeadlineKind,
    DeadlineStatus,
    LegalBasis,
    MeetingKind,
    StaffType,
)
from storage.models.columns import reminder_at_column, utc_column


class Case(SQLModel, table=True):
    __tablename__ = "hzcase"  # "case" is an SQL keyword
    __table_args__ = (
        # Issue 18: who sees a case (P2), then open before closed, in code order: /faelle
        # reads one page of a person's cases and counts them from the index alone, and
        # /fristen starts from these cases instead of from all open deadlines. The id rides
        # along (SQLite's rowid does by itself), so joins from these cases read the index only.
        Index(
            "ix_hzcase_provider_staff_status_code",
            "provider_staff_id",
            "status",
            "code",
            postgresql_include=["id"],
        ),
        Index(
            "ix_hzcase_asd_staff_status_code",
            "asd_staff_id",
            "status",
            "code",
            postgresql_include=["id"],
        ),
        Index(
            "ix_hzcase_provider_org_status_code",
            "provider_org_id",
            "status",
            "code",
            postgresql_include=["id"],
        ),
        Index(
            "ix_hzcase_jugendamt_org_status_code",
            "jugendamt_org_id",
            "status",
            "code",
            postgresql_include=["id"],
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    legal_basis: LegalBasis
    start_date: date
    provider_org_id: int = Field(foreign_key="organisation.id")
    jugendamt_org_id: int = Field(foreign_key="organisation.id")
    provider_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    asd_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    child_protection: bool = False
    recommended_staff_type: StaffType
    report_interval_months: int | None = None  # shorter interval agreed in the help plan
    status: CaseStatus = CaseStatus.open
    closed_on: date | None = None
    created_at: datetime = Field(sa_column=utc_column())
    # Issue 12 (retention, P4): code replaced, deadlines, meetings and free texts removed;
    # the row stays so that past quarters' hours and key figures do not change.
    anonymised_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", index=True)
    kind: MeetingKind
    starts_at: datetime = Field(sa_column=utc_column())
    cancelled: bool = False
    created_at: datetime = Field(sa_column=utc_column())
    sequence: int = 0  # calendar SEQUENCE, raised by storage.versioning on every change
    updated_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reminder_at: datetime | None = Field(default=None, sa_column=reminder_at_column())


class CoordinationRequest(SQLModel, table=True):
    __tablename__ = "coordination_request"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", index=True)
    raised_on: date
    raised_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_column=utc_column())


class Deadline(SQLModel, table=True):
    __table_args__ = (
        # Issue 18: a person's open deadlines are found from their cases (case, status, due);
        # an index of all open deadlines by date would tempt the planner to walk every open
        # deadline of the database for one person's page, so there is none.
        Index("ix_deadline_case_status_due", "case_id", "status", "due"),
        # A provider coordinator's /fristen reads one organisation's open deadlines by date,
        # an ASD lead's those of the office's cases.
        Index("ix_deadline_org_status_due", "organisation_id", "status", "due"),
        Index("ix_deadline_asd_status_due", "jugendamt_org_id", "status", "due"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # Stable derivation key ("case:17:report:periodic:2"): recomputing the chain updates in place.
    key: str = Field(max_length=80, unique=True)
    case_id: int | None = Field(default=None, foreign_key="hzcase.id")
    organisation_id: int = Field(foreign_key="organisation.id")  # the case's provider
    # The case's ASD office, None for the provider's own deadlines (issue 18; copied from the
    # case, whose office never changes; migration 0010 adds it without an FK constraint:
    # SQLite cannot add one without rebuilding the table).
    jugendamt_org_id: int | None = None
    kind: DeadlineKind
    rule: str = Field(max_length=40)  # e.g. "C1/D1: 6 Wochen nach Hilfebeginn"
    due: date
    status: DeadlineStatus = DeadlineStatus.open
    done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    done_by: int | None = Field(default=None, foreign_key="staff.id")
    updated_at: datetime = Field(sa_column=utc_column())
    reminder_at: datetime | None = Field(default=None, sa_column=reminder_at_column())
    sequence: int = 0  # calendar SEQUENCE, raised by storage.versioning on every change


class CaseNotice(SQLModel, table=True):
    """A notice to the case's ASD contact: a significant change in the family or a group offer
    that started (C7); delivered through the outbox (item "alert", stage "c7:notice")."""

    __tablename__ = "case_notice"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", index=True)
    kind: str = Field(max_length=16)  # change, group_offer (bot/case_notices.py)
    text: str = Field(max_length=300)  # short, checked against client names (P1)
    sent_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_column=utc_column())
