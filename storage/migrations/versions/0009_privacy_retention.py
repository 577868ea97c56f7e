"""privacy (issue 12): failed /start attempts, retention marks, the audit log's purge gate

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "start_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", AutoString(length=64), nullable=False),
        sa.Column("transport", AutoString(length=20), nullable=False),
        _ts("at"),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_start_attempt_account_at", "start_attempt", ["account", "at"])
    op.create_index(op.f("ix_start_attempt_at"), "start_attempt", ["at"])
    op.create_table(
        "audit_purge",
        sa.Column("id", sa.Integer(), nullable=False),
        _ts("cutoff"),
        sa.PrimaryKeyConstraint("id"),
    )
    # Nullable columns without constraints: SQLite adds them without rebuilding the tables.
    op.add_column("staff", _ts("deactivated_at", nullable=True))
    op.add_column("staff", _ts("anonymised_at", nullable=True))
    op.add_column("hzcase", _ts("anonymised_at", nullable=True))
    _gate_audit_deletes()


def downgrade() -> None:
    _ungate_audit_deletes()
    with op.batch_alter_table("hzcase") as batch:
        batch.drop_column("anonymised_at")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("anonymised_at")
        batch.drop_column("deactivated_at")
    op.drop_table("audit_purge")
    op.drop_index(op.f("ix_start_attempt_at"), table_name="start_attempt")
    op.drop_index("ix_start_attempt_account_at", table_name="start_attempt")
    op.drop_table("start_attempt")


# The audit log stays append-only (migration 0001): UPDATE is always refused, DELETE only of
# entries older than the cutoff of a row in audit_purge, which the retention job writes and
# removes again within its own transaction (storage/retention.py).
_REFUSE = "audit_log is append-only"


def _gate_audit_deletes() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "WHEN NOT EXISTS (SELECT 1 FROM audit_purge WHERE OLD.at < audit_purge.cutoff) "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
        )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN "
            "IF TG_OP = 'DELETE' AND EXISTS "
            "(SELECT 1 FROM audit_purge WHERE OLD.at < audit_purge.cutoff) THEN RETURN OLD; "
            f"END IF; RAISE EXCEPTION '{_REFUSE}'; END $$"
        )


def _ungate_audit_deletes() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
        )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$"
        )
