"""SQLModel tables. Cases carry pseudonymous codes only; no table has a field for client names."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.enums import (
    CaseStatus,
    DeadlineKind,
    DeadlineStatus,
    HoursCategory,
    LegalBasis,
    MeetingKind,
    MissedReason,
    OrgKind,
    Role,
    SessionKind,
    StaffType,
)
from storage.types import UTCDateTime


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    kind: OrgKind


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    name: str = Field(max_length=120)
    handle: str = Field(max_length=12, unique=True)  # Kürzel, how colleagues refer to each other
    role: Role
    staff_type: StaffType | None = None  # provider staff only
    work_phone: str | None = Field(default=None, max_length=40)
    active: bool = True
    created_at: datetime = Field(sa_column=_ts())


class MessengerIdentity(SQLModel, table=True):
    __tablename__ = "messenger_identity"
    __table_args__ = (UniqueConstraint("transport", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    transport: str = Field(max_length=20)  # console, telegram, matrix
    external_id: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=_ts())


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(
        max_length=64, unique=True
    )  # sha256 hex; the code itself is never stored
    organisation_id: int = Field(foreign_key="organisation.id")
    role: Role
    staff_type: StaffType | None = None
    staff_id: int | None = Field(default=None, foreign_key="staff.id")  # pre-created staff record
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    used_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")


class Case(SQLModel, table=True):
    __tablename__ = "hzcase"  # "case" is an SQL keyword
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    legal_basis: LegalBasis
    start_date: date
    provider_org_id: int = Field(foreign_key="organisation.id", index=True)
    jugendamt_org_id: int = Field(foreign_key="organisation.id", index=True)
    provider_staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    asd_staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    child_protection: bool = False
    recommended_staff_type: StaffType
    report_interval_months: int | None = None  # shorter interval agreed in the help plan
    status: CaseStatus = CaseStatus.open
    closed_on: date | None = None
    created_at: datetime = Field(sa_column=_ts())


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", index=True)
    kind: MeetingKind
    starts_at: datetime = Field(sa_column=_ts())
    cancelled: bool = False
    created_at: datetime = Field(sa_column=_ts())


class CoordinationRequest(SQLModel, table=True):
    __tablename__ = "coordination_request"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", index=True)
    raised_on: date
    raised_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_column=_ts())


class Deadline(SQLModel, table=True):
    __table_args__ = (
        Index("ix_deadline_open_due", "status", "due"),
        Index("ix_deadline_case_status", "case_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # Stable derivation key ("case:17:report:periodic:2"): recomputing the chain updates in place.
    key: str = Field(max_length=80, unique=True)
    case_id: int | None = Field(default=None, foreign_key="hzcase.id")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    kind: DeadlineKind
    rule: str = Field(max_length=40)  # e.g. "C1/D1: 6 Wochen nach Hilfebeginn"
    due: date
    status: DeadlineStatus = DeadlineStatus.open
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    done_by: int | None = Field(default=None, foreign_key="staff.id")
    updated_at: datetime = Field(sa_column=_ts())


class HoursEntry(SQLModel, table=True):
    __tablename__ = "hours_entry"
    __table_args__ = (Index("ix_hours_staff_day", "staff_id", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    day: date
    minutes: int
    category: HoursCategory
    case_id: int | None = Field(default=None, foreign_key="hzcase.id", index=True)
    participants: int | None = None
    missed_reason: MissedReason | None = None
    created_at: datetime = Field(sa_column=_ts())
    deleted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Rotation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)
    anchor: date  # the first shift starts on this day at `handover`
    handover: time
    shift_days: int = 7


class RotationMember(SQLModel, table=True):
    __tablename__ = "rotation_member"
    __table_args__ = (UniqueConstraint("rotation_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    position: int


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


class AgSession(SQLModel, table=True):
    """A session of the AG 78 working group."""

    __tablename__ = "ag_session"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=80, unique=True)  # stable calendar UID
    kind: SessionKind = SessionKind.session
    title: str = Field(max_length=200)
    starts_at: datetime = Field(sa_column=_ts())
    ends_at: datetime = Field(sa_column=_ts())
    place: str | None = Field(default=None, max_length=200)
    agenda: str | None = Field(default=None, max_length=1000)
    cancelled: bool = False
    sequence: int = 0
    updated_at: datetime = Field(sa_column=_ts())


class AuditEntry(SQLModel, table=True):
    """Append-only: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_ts())
    actor_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    actor: str = Field(max_length=40)  # "staff", "cli", "system"
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_id: int | None = None
    details: str = Field(default="{}", max_length=2000)  # JSON of codes and ids, never free text
