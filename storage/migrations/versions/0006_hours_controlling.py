"""hours controlling: budget contracts, planned hours per year, closed quarters, corrections

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import storage.types

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("steering_percent", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["provider_org_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_org_id"),
    )
    op.create_table(
        "contract_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("planned_direct_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contract.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "year"),
    )
    with op.batch_alter_table("contract_year", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_year_contract_id"), ["contract_id"], unique=False
        )
    op.create_table(
        "quarter_closing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["closed_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "year", "quarter"),
    )
    op.create_table(
        "hours_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("corrected_by", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("old_minutes", sa.Integer(), nullable=False),
        sa.Column("new_minutes", sa.Integer(), nullable=True),
        sa.Column("reason", AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(["corrected_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["hours_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hours_correction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hours_correction_entry_id"), ["entry_id"], unique=False
        )
    op.create_table(
        "help_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("follow_up_outside", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["hzcase.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    # An organisation's quarter is read from this index alone (bench/controlling.py).
    with op.batch_alter_table("hours_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hours_org_day",
            ["organisation_id", "day", "category", "staff_id", "minutes", "deleted_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("hours_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_hours_org_day")
    op.drop_table("help_outcome")
    with op.batch_alter_table("hours_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hours_correction_entry_id"))
    op.drop_table("hours_correction")
    op.drop_table("quarter_closing")
    with op.batch_alter_table("contract_year", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_year_contract_id"))
    op.drop_table("contract_year")
    op.drop_table("contract")
