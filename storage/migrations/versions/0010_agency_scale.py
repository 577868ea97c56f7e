"""agency scale: indexes that start from the asking person's cases (issue 18)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

/fristen counted a person's open deadlines by walking the index of ALL open deadlines by date
(`ix_deadline_open_due`) and joining each to its case: the reply grew with the database.
Now a caseworker's cases come first (who may see them, open before closed, by code), and their
open deadlines from (case, status, due); coordinators read their organisation's open deadlines
by date: the provider's through `deadline.organisation_id`, the ASD office's through the new
`deadline.jugendamt_org_id` (copied from the case). The single-column indexes replaced here
are prefixes of the new ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_CASE_INDEXES = {
    # old single-column index: (new index, its columns)
    "ix_hzcase_provider_staff_id": (
        "ix_hzcase_provider_staff_status_code",
        ["provider_staff_id", "status", "code"],
    ),
    "ix_hzcase_asd_staff_id": (
        "ix_hzcase_asd_staff_status_code",
        ["asd_staff_id", "status", "code"],
    ),
    "ix_hzcase_provider_org_id": (
        "ix_hzcase_provider_org_status_code",
        ["provider_org_id", "status", "code"],
    ),
    "ix_hzcase_jugendamt_org_id": (
        "ix_hzcase_jugendamt_org_status_code",
        ["jugendamt_org_id", "status", "code"],
    ),
}


def upgrade() -> None:
    # An ASD lead's deadlines: the case's office on the deadline, like its provider already is.
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jugendamt_org_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE deadline SET jugendamt_org_id = "
        "(SELECT hzcase.jugendamt_org_id FROM hzcase WHERE hzcase.id = deadline.case_id) "
        "WHERE case_id IS NOT NULL"
    )
    op.create_index("ix_deadline_asd_status_due", "deadline", ["jugendamt_org_id", "status", "due"])
    op.drop_index("ix_deadline_open_due", table_name="deadline")
    op.drop_index("ix_deadline_case_status", table_name="deadline")
    op.create_index("ix_deadline_case_status_due", "deadline", ["case_id", "status", "due"])
    for old, (new, columns) in _CASE_INDEXES.items():
        op.drop_index(old, table_name="hzcase")
        # PostgreSQL: with the id in the index, a join from these cases reads the index only.
        op.create_index(new, "hzcase", columns, postgresql_include=["id"])
    op.drop_index("ix_hours_entry_case_id", table_name="hours_entry")
    # The ASD's view of hours (the cases of an office or a caseworker, one quarter) from the
    # index alone, like ix_hours_org_day for a provider.
    op.create_index(
        "ix_hours_case_day",
        "hours_entry",
        ["case_id", "day", "category", "staff_id", "minutes", "deleted_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_hours_case_day", table_name="hours_entry")
    op.create_index("ix_hours_entry_case_id", "hours_entry", ["case_id"])
    for old, (new, columns) in _CASE_INDEXES.items():
        op.drop_index(new, table_name="hzcase")
        op.create_index(old, "hzcase", columns[:1])
    op.drop_index("ix_deadline_case_status_due", table_name="deadline")
    op.create_index("ix_deadline_case_status", "deadline", ["case_id", "status"])
    op.create_index("ix_deadline_open_due", "deadline", ["status", "due"])
    op.drop_index("ix_deadline_asd_status_due", table_name="deadline")
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_column("jugendamt_org_id")
