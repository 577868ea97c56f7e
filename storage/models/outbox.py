"""The reminder outbox (issue 4) and the send slots shared by every scheduler (issue 11)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.columns import utc_column


class OutboxEntry(SQLModel, table=True):
    """One reminder to one person (issue 4): written by the sweep, sent by the dispatcher."""

    __tablename__ = "reminder_outbox"
    __table_args__ = (
        UniqueConstraint("item_type", "item_id", "stage", "staff_id", name="uq_outbox_key"),
        Index("ix_outbox_status_send_after", "status", "send_after"),
    )
    id: int | None = Field(default=None, primary_key=True)
    item_type: str = Field(max_length=12)  # deadline, meeting, session, digest, undeliverable
    item_id: int
    stage: str = Field(max_length=24)  # e.g. "d14:20250422", "o3:20250422", "m1:202506021000"
    staff_id: int = Field(foreign_key="staff.id", index=True)
    fire_at: datetime = Field(sa_column=utc_column())  # when it should have gone out
    send_after: datetime = Field(
        sa_column=utc_column()
    )  # next attempt (or lease end while sending)
    status: str = Field(default="pending", max_length=10)  # pending sending sent failed cancelled
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=40)
    lease_until: float | None = None  # epoch seconds on the database clock (issue 11)
    send_key: str | None = Field(default=None, max_length=40)  # first claim, kept on a retry
    transport: str | None = Field(default=None, max_length=20)
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    late: bool = False
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=utc_column())


class RateLimit(SQLModel, table=True):
    """A send slot reservation shared by every scheduler on one database (issue 11)."""

    __tablename__ = "rate_limit"
    key: str = Field(primary_key=True, max_length=80)
    next_at: float  # epoch seconds on the database clock
