"""Organisations, their teams and staff, messenger accounts, invites and the /start guard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.enums import OrgKind, Role, StaffType
from storage.models.columns import utc_column
from storage.types import UTCDateTime


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
    created_at: datetime = Field(sa_column=utc_column())
    # Issue 12 (retention, P4): when the person left; their data is anonymised
    # `retention.staff_days` later (anonymised_at), their hours stay in the figures.
    deactivated_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    anonymised_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class MessengerIdentity(SQLModel, table=True):
    __tablename__ = "messenger_identity"
    __table_args__ = (UniqueConstraint("transport", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    transport: str = Field(max_length=20)  # console, telegram, matrix
    external_id: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=utc_column())


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(
        max_length=64, unique=True
    )  # sha256 hex; the code itself is never stored
    organisation_id: int = Field(foreign_key="organisation.id")
    role: Role
    staff_type: StaffType | None = None
    staff_id: int | None = Field(default=None, foreign_key="staff.id")  # pre-created staff record
    created_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    used_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")


class StartAttempt(SQLModel, table=True):
    """A failed `/start` (wrong or used code, or refused by the limit): the brute-force guard."""

    __tablename__ = "start_attempt"
    __table_args__ = (Index("ix_start_attempt_account_at", "account", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    # SHA-256 of transport and messenger id: a stranger's account id is not kept in clear.
    account: str = Field(max_length=64)
    transport: str = Field(max_length=20)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    blocked: bool = False  # refused by the limit, the code was not even looked at
