"""Sessions of the AG 78 working group."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from config.enums import SessionKind
from storage.models.columns import reminder_at_column, utc_column


class AgSession(SQLModel, table=True):
    """A session of the AG 78 working group."""

    __tablename__ = "ag_session"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=80, unique=True)  # stable calendar UID
    kind: SessionKind = SessionKind.session
    title: str = Field(max_length=200)
    starts_at: datetime = Field(sa_column=utc_column())
    ends_at: datetime = Field(sa_column=utc_column())
    place: str | None = Field(default=None, max_length=200)
    agenda: str | None = Field(default=None, max_length=1000)
    cancelled: bool = False
    sequence: int = 0
    updated_at: datetime = Field(sa_column=utc_column())
    reminder_at: datetime | None = Field(default=None, sa_column=reminder_at_column())
