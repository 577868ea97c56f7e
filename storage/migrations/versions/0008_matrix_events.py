"""matrix adapter: handled events (exactly-once answers), deadlines on sent messages, sync position

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "matrix_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", AutoString(length=255), nullable=False),
        sa.Column("room_id", AutoString(length=255), nullable=False),
        sa.Column("sender", AutoString(length=255), nullable=False),
        sa.Column("status", AutoString(length=10), nullable=False),
        sa.Column("encrypted", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answer_event_id", AutoString(length=255), nullable=True),
        sa.Column("notice_sent", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", name="uq_matrix_event_event_id"),
    )
    with op.batch_alter_table("matrix_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matrix_event_status"), ["status"], unique=False)
    op.create_table(
        "matrix_sent_deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", AutoString(length=255), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("room_id", AutoString(length=255), nullable=False),
        sa.Column("for_user", AutoString(length=255), nullable=False),
        sa.Column("thread_root", AutoString(length=255), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "deadline_id", name="uq_matrix_sent_deadline"),
    )
    op.create_table(
        "matrix_sync_position",
        sa.Column("user_id", AutoString(length=255), nullable=False),
        sa.Column("next_batch", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("matrix_sync_position")
    op.drop_table("matrix_sent_deadline")
    with op.batch_alter_table("matrix_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matrix_event_status"))
    op.drop_table("matrix_event")
