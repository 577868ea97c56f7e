"""The Matrix adapter's tables (issue 10): answered events, sent deadlines, the sync position."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.columns import utc_column


class MatrixEvent(SQLModel, table=True):
    """An incoming Matrix event koopbot answers (or waits to decrypt): at most one answer each."""

    __tablename__ = "matrix_event"
    __table_args__ = (UniqueConstraint("event_id", name="uq_matrix_event_event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=255)
    room_id: str = Field(max_length=255)
    sender: str = Field(max_length=255)
    status: str = Field(max_length=10, index=True)  # pending answering answered ignored
    # While pending: the encrypted event as received (ciphertext only), to retry after a restart.
    encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # While answering: the rendered answer, so a resend after a crash posts the same message.
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answer_event_id: str | None = Field(default=None, max_length=255)
    notice_sent: bool = False  # "could not read your message" (undecryptable) went out
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class MatrixSentDeadline(SQLModel, table=True):
    """Which deadline a message koopbot sent carries, for the ✅ and 💤 reactions on it.

    No foreign key to `deadline`: a deleted deadline makes a reaction answer "not found"."""

    __tablename__ = "matrix_sent_deadline"
    __table_args__ = (UniqueConstraint("event_id", "deadline_id", name="uq_matrix_sent_deadline"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=255)
    deadline_id: int
    room_id: str = Field(max_length=255)
    for_user: str = Field(max_length=255)  # the person the message was for
    thread_root: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column())


class MatrixSyncPosition(SQLModel, table=True):
    """Where koopbot's sync stands: advanced only past events it has handled."""

    __tablename__ = "matrix_sync_position"
    user_id: str = Field(primary_key=True, max_length=255)
    next_batch: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())
