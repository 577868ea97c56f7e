"""On-call rotations, their rule versions and members, and overrides, swaps, handovers, pages."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.columns import utc_column
from storage.types import UTCDateTime


class Rotation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)
    anchor: date  # the first shift starts on this day at `handover`
    handover: time
    shift_days: int = 7
    # Issue 6 (migration 0007 adds these without FK constraints: SQLite cannot add one to a
    # table others reference without rebuilding it).
    team_id: int | None = None
    backup_staff_id: int | None = None  # a fixed second line
    backup_next: bool = False  # or: the member who is next in line
    # Issue 15: the columns above describe the rule as last changed; the shifts come from the
    # versions in `rotation_rule` (a rotation without any is the single version above).
    created_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class RotationRule(SQLModel, table=True):
    """One version of a rotation's rule (issue 15), in force from `effective_from` until the
    next version begins. Versions are never changed: an edit adds one, and marks the planned
    versions it replaces as superseded (they had not begun)."""

    __tablename__ = "rotation_rule"
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id", index=True)
    effective_from: datetime = Field(sa_column=utc_column())
    anchor: date  # shift k begins on anchor + k * shift_days at `handover`
    handover: time
    shift_days: int
    members: str = Field(default="", max_length=400)  # staff ids in order; empty: ended
    member_offset: int = 0  # index into `members` of the first shift
    first_number: int = 0  # running number of the first shift
    backup_staff_id: int | None = None
    backup_next: bool = False
    created_at: datetime = Field(sa_column=utc_column())
    created_by: int | None = None
    superseded_by: int | None = None  # the version that replaced this planned one


class RotationMember(SQLModel, table=True):
    __tablename__ = "rotation_member"
    __table_args__ = (UniqueConstraint("rotation_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    position: int


class OncallOverride(SQLModel, table=True):
    """Illness or leave: `substitute` is on call instead of `absent_staff_id` over a range."""

    __tablename__ = "oncall_override"
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int | None = Field(default=None, foreign_key="rotation.id")  # None: all
    absent_staff_id: int = Field(foreign_key="staff.id", index=True)
    substitute_staff_id: int = Field(foreign_key="staff.id")
    starts_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    reason: str = Field(max_length=12)  # krank, urlaub, sonstiges, übernommen
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_column=utc_column())
    cancelled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class OncallSwap(SQLModel, table=True):
    """A swap of two shifts (or one shift handed over); in force once both have confirmed."""

    __tablename__ = "oncall_swap"
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id", index=True)
    shift_a: int
    holder_a: int = Field(foreign_key="staff.id")
    holder_b: int = Field(foreign_key="staff.id")
    shift_b: int | None = None
    requested_by: int = Field(foreign_key="staff.id")
    confirmed_a_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    confirmed_b_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    status: str = Field(default="pending", max_length=10)  # pending confirmed declined void
    created_at: datetime = Field(sa_column=utc_column())
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Issue 15: the span of the shifts named, so a window loads only the swaps it needs.
    first_start: datetime = Field(sa_column=utc_column())
    last_end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class OncallHandover(SQLModel, table=True):
    """The incoming person confirmed taking over a shift."""

    __tablename__ = "oncall_handover"
    __table_args__ = (UniqueConstraint("rotation_id", "shift_number", "staff_id"),)
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id")
    shift_number: int
    staff_id: int = Field(foreign_key="staff.id")
    confirmed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class OncallChange(SQLModel, table=True):
    """Someone's next on-call duty changed (issue 15): what it was and what it is now, kept
    for the notice that tells them (composed when it is sent)."""

    __tablename__ = "oncall_change"
    __table_args__ = (Index("ix_oncall_change_person", "rotation_id", "staff_id"),)
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id")
    staff_id: int = Field(foreign_key="staff.id")
    cause: str = Field(max_length=12)  # edit, end, swap, override, unoverride, takeover
    ref_id: int | None = None  # the swap, override or rule version behind it
    before_start: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    before_end: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    after_start: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    after_end: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())


class Page(SQLModel, table=True):
    """A page of the on-call person; escalates level by level until acknowledged."""

    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id")
    caller_id: int = Field(foreign_key="staff.id")
    text: str = Field(max_length=200)  # short, checked against client names (P1)
    created_at: datetime = Field(sa_column=utc_column())
    level: int = 0  # 0 on-call person, 1 second line, 2 coordinators
    escalate_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    acked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    acked_by: int | None = Field(default=None, foreign_key="staff.id")
