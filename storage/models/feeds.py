"""Calendar-feed tokens and the counter that versions what feeds show."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.columns import utc_column


class FeedToken(SQLModel, table=True):
    """A secret calendar-feed link (DOMAIN.md P3); only the SHA-256 of the token is stored."""

    __tablename__ = "feed_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    kind: str = Field(max_length=20)  # storage.feeds.FeedKind
    rotation_id: int | None = Field(default=None, foreign_key="rotation.id")
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class FeedState(SQLModel, table=True):
    """One row: a counter raised in every transaction that changes what a feed shows."""

    __tablename__ = "feed_state"
    id: int | None = Field(default=None, primary_key=True)
    version: int = 0
