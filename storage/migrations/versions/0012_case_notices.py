"""notices to the Jugendamt (issue 14, DOMAIN.md C7): significant changes and group offers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", AutoString(length=16), nullable=False),
        sa.Column("text", AutoString(length=300), nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["hzcase.id"]),
        sa.ForeignKeyConstraint(["sent_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notice_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notice_case_id"))
    op.drop_table("case_notice")
