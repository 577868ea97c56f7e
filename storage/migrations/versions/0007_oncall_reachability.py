"""emergency contact and reachability: overrides, swaps, handovers, pages, deputies

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "deputy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("deputy_staff_id", sa.Integer(), nullable=False),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(["deputy_staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id"),
        sa.UniqueConstraint("team_id"),
    )
    op.create_table(
        "oncall_handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation_id", sa.Integer(), nullable=False),
        sa.Column("shift_number", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        _ts("confirmed_at"),
        sa.ForeignKeyConstraint(["rotation_id"], ["rotation.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rotation_id", "shift_number", "staff_id"),
    )
    op.create_table(
        "oncall_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation_id", sa.Integer(), nullable=True),
        sa.Column("absent_staff_id", sa.Integer(), nullable=False),
        sa.Column("substitute_staff_id", sa.Integer(), nullable=False),
        _ts("starts_at"),
        _ts("ends_at"),
        sa.Column("reason", AutoString(length=12), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("cancelled_at", nullable=True),
        sa.ForeignKeyConstraint(["absent_staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["rotation_id"], ["rotation.id"]),
        sa.ForeignKeyConstraint(["substitute_staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("oncall_override", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oncall_override_absent_staff_id"), ["absent_staff_id"], unique=False
        )
    op.create_table(
        "oncall_swap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation_id", sa.Integer(), nullable=False),
        sa.Column("shift_a", sa.Integer(), nullable=False),
        sa.Column("holder_a", sa.Integer(), nullable=False),
        sa.Column("holder_b", sa.Integer(), nullable=False),
        sa.Column("shift_b", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        _ts("confirmed_a_at", nullable=True),
        _ts("confirmed_b_at", nullable=True),
        sa.Column("status", AutoString(length=10), nullable=False),
        _ts("created_at"),
        _ts("decided_at", nullable=True),
        sa.ForeignKeyConstraint(["holder_a"], ["staff.id"]),
        sa.ForeignKeyConstraint(["holder_b"], ["staff.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["rotation_id"], ["rotation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("oncall_swap", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oncall_swap_rotation_id"), ["rotation_id"], unique=False
        )
    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation_id", sa.Integer(), nullable=False),
        sa.Column("caller_id", sa.Integer(), nullable=False),
        sa.Column("text", AutoString(length=200), nullable=False),
        _ts("created_at"),
        sa.Column("level", sa.Integer(), nullable=False),
        _ts("escalate_at", nullable=True),
        _ts("acked_at", nullable=True),
        sa.Column("acked_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["acked_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["caller_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["rotation_id"], ["rotation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_escalate_at"), ["escalate_at"], unique=False)
    # Plain columns, no foreign keys: adding one in SQLite means rebuilding a table that
    # other tables reference (rotation_member, feed_token).
    with op.batch_alter_table("availability", schema=None) as batch_op:
        batch_op.add_column(sa.Column("absence_kind", AutoString(length=12), nullable=True))
        batch_op.add_column(sa.Column("deputy_staff_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("rotation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("backup_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("backup_next", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("rotation", schema=None) as batch_op:
        batch_op.drop_column("backup_next")
        batch_op.drop_column("backup_staff_id")
        batch_op.drop_column("team_id")
    with op.batch_alter_table("availability", schema=None) as batch_op:
        batch_op.drop_column("deputy_staff_id")
        batch_op.drop_column("absence_kind")
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_escalate_at"))
    op.drop_table("page")
    with op.batch_alter_table("oncall_swap", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_swap_rotation_id"))
    op.drop_table("oncall_swap")
    with op.batch_alter_table("oncall_override", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_override_absent_staff_id"))
    op.drop_table("oncall_override")
    op.drop_table("oncall_handover")
    op.drop_table("deputy")
