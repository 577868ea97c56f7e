"""reminder engine: the outbox, and reminder_at with replan triggers on deadlines and meetings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, columns whose change means the reminders must be planned again)
_REPLANNED = (
    ("deadline", ("due", "status")),
    ("meeting", ("starts_at", "cancelled")),
    ("ag_session", ("starts_at", "cancelled")),
)
_EPOCH_SQLITE = "1970-01-01 00:00:00.000000"
_EPOCH_PG = "1970-01-01 00:00:00+00"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    epoch = _EPOCH_PG if postgres else _EPOCH_SQLITE
    for table, _ in _REPLANNED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "reminder_at",
                    storage.types.UTCDateTime(timezone=True),
                    nullable=True,
                    server_default=sa.text(f"'{epoch}'"),
                )
            )
            batch_op.create_index(f"ix_{table}_reminder_at", ["reminder_at"], unique=False)

    op.create_table(
        "reminder_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_type", AutoString(length=12), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("stage", AutoString(length=24), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("fire_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("send_after", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", AutoString(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", AutoString(length=40), nullable=True),
        sa.Column("transport", AutoString(length=20), nullable=True),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("last_error", AutoString(length=200), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_type", "item_id", "stage", "staff_id", name="uq_outbox_key"),
    )
    with op.batch_alter_table("reminder_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_send_after", ["status", "send_after"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_outbox_staff_id"), ["staff_id"], unique=False)

    # The database, not each code path, notices a moved date or a changed status: whoever
    # writes the row (a command, the chain recomputation, a script), the sweep plans it again.
    if postgres:
        op.execute(
            "CREATE FUNCTION koopbot_reminder_replan() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN NEW.reminder_at := TIMESTAMPTZ '{_EPOCH_PG}'; RETURN NEW; END $$"
        )
    for table, columns in _REPLANNED:
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        if postgres:
            op.execute(
                f"CREATE TRIGGER {table}_reminder_replan BEFORE UPDATE OF {', '.join(columns)} "
                f"ON {table} FOR EACH ROW WHEN ({changed}) "
                "EXECUTE FUNCTION koopbot_reminder_replan()"
            )
        else:
            changed = changed.replace("IS DISTINCT FROM", "IS NOT")
            op.execute(
                f"CREATE TRIGGER {table}_reminder_replan AFTER UPDATE OF {', '.join(columns)} "
                f"ON {table} WHEN {changed} BEGIN "
                f"UPDATE {table} SET reminder_at = '{_EPOCH_SQLITE}' WHERE id = NEW.id; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, _ in _REPLANNED:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_reminder_replan ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_reminder_replan")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS koopbot_reminder_replan()")
    with op.batch_alter_table("reminder_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_outbox_staff_id"))
        batch_op.drop_index("ix_outbox_status_send_after")
    op.drop_table("reminder_outbox")
    for table, _ in reversed(_REPLANNED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_reminder_at")
            batch_op.drop_column("reminder_at")
