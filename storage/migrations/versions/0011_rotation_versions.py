"""on-call rotations as versioned rules, next-duty change notices, windowed swap lookups

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

A rotation without rows in `rotation_rule` keeps working as the single version its own
columns describe, so existing rotations need no data migration. Stored swaps get the span of
their shifts (`first_start`/`last_end`), so a time window loads only the swaps it needs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "rotation_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation_id", sa.Integer(), nullable=False),
        _ts("effective_from"),
        sa.Column("anchor", sa.Date(), nullable=False),
        sa.Column("handover", sa.Time(), nullable=False),
        sa.Column("shift_days", sa.Integer(), nullable=False),
        sa.Column("members", AutoString(length=400), nullable=False),
        sa.Column("member_offset", sa.Integer(), nullable=False),
        sa.Column("first_number", sa.Integer(), nullable=False),
        sa.Column("backup_staff_id", sa.Integer(), nullable=True),
        sa.Column("backup_next", sa.Boolean(), nullable=False),
        _ts("created_at"),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["rotation_id"], ["rotation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rotation_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rotation_rule_rotation_id"), ["rotation_id"], unique=False
        )
    op.create_table(
        "oncall_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rotation_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("cause", AutoString(length=12), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        _ts("before_start", nullable=True),
        _ts("before_end", nullable=True),
        _ts("after_start", nullable=True),
        _ts("after_end", nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["rotation_id"], ["rotation.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("oncall_change", schema=None) as batch_op:
        batch_op.create_index("ix_oncall_change_person", ["rotation_id", "staff_id"], unique=False)
    # Plain nullable columns: no table rebuild is needed for them in SQLite.
    with op.batch_alter_table("rotation", schema=None) as batch_op:
        batch_op.add_column(_ts("created_at", nullable=True))
    with op.batch_alter_table("oncall_swap", schema=None) as batch_op:
        batch_op.add_column(_ts("first_start", nullable=True))
        batch_op.add_column(_ts("last_end", nullable=True))
    _swap_spans()
    with op.batch_alter_table("oncall_swap", schema=None) as batch_op:
        batch_op.alter_column("first_start", nullable=False)
        batch_op.alter_column("last_end", nullable=False)
        batch_op.create_index(batch_op.f("ix_oncall_swap_last_end"), ["last_end"], unique=False)
    with op.batch_alter_table("oncall_override", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oncall_override_ends_at"), ["ends_at"], unique=False)
    with op.batch_alter_table("oncall_handover", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oncall_handover_confirmed_at"), ["confirmed_at"], unique=False
        )


def _swap_spans() -> None:
    """The span of the shifts each stored swap names. Every rotation still has its single
    rule here (anchor, shift length); a day's margin on both sides covers any time zone."""
    conn = op.get_bind()
    swap = sa.table(
        "oncall_swap",
        sa.column("id", sa.Integer()),
        sa.column("first_start", storage.types.UTCDateTime(timezone=True)),
        sa.column("last_end", storage.types.UTCDateTime(timezone=True)),
    )
    rows = conn.execute(
        sa.text(
            "SELECT s.id, s.shift_a, s.shift_b, r.anchor, r.shift_days "
            "FROM oncall_swap s JOIN rotation r ON r.id = s.rotation_id"
        )
    ).all()
    spans = []
    for swap_id, shift_a, shift_b, anchor, shift_days in rows:
        day = date.fromisoformat(anchor) if isinstance(anchor, str) else anchor
        numbers = [n for n in (shift_a, shift_b) if n is not None]
        first = day + timedelta(days=min(numbers) * shift_days - 1)
        last = day + timedelta(days=(max(numbers) + 1) * shift_days + 2)
        spans.append(
            {
                "b_id": swap_id,
                "b_first": datetime.combine(first, time(0), tzinfo=UTC),
                "b_last": datetime.combine(last, time(0), tzinfo=UTC),
            }
        )
    if spans:
        conn.execute(
            sa.update(swap)
            .where(swap.c.id == sa.bindparam("b_id"))
            .values(first_start=sa.bindparam("b_first"), last_end=sa.bindparam("b_last")),
            spans,
        )


def downgrade() -> None:
    with op.batch_alter_table("oncall_handover", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_handover_confirmed_at"))
    with op.batch_alter_table("oncall_override", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_override_ends_at"))
    with op.batch_alter_table("oncall_swap", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_swap_last_end"))
        batch_op.drop_column("last_end")
        batch_op.drop_column("first_start")
    with op.batch_alter_table("rotation", schema=None) as batch_op:
        batch_op.drop_column("created_at")
    with op.batch_alter_table("oncall_change", schema=None) as batch_op:
        batch_op.drop_index("ix_oncall_change_person")
    op.drop_table("oncall_change")
    with op.batch_alter_table("rotation_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rotation_rule_rotation_id"))
    op.drop_table("rotation_rule")
