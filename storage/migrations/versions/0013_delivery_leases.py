"""delivery leases on the database clock, stable send keys, a shared rate limit (issue 11)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reminder_outbox", schema=None) as batch_op:
        # Seconds since the epoch on the database's clock until which a claim holds.
        batch_op.add_column(sa.Column("lease_until", sa.Float(), nullable=True))
        # The claim a row was first sent under: its retry after a crash keeps the same key.
        batch_op.add_column(sa.Column("send_key", AutoString(length=40), nullable=True))
    op.create_table(
        "rate_limit",
        sa.Column("key", AutoString(length=80), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),  # epoch seconds, database clock
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("rate_limit")
    with op.batch_alter_table("reminder_outbox", schema=None) as batch_op:
        batch_op.drop_column("send_key")
        batch_op.drop_column("lease_until")
