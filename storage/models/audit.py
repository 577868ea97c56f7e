"""The append-only audit log and the retention job's purge marker."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.columns import utc_column


class AuditEntry(SQLModel, table=True):
    """Append-only: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=utc_column())
    actor_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    actor: str = Field(max_length=40)  # "staff", "cli", "system"
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_id: int | None = None
    details: str = Field(default="{}", max_length=2000)  # JSON of codes and ids, never free text


class AuditPurge(SQLModel, table=True):
    """Empty except inside the retention job's transaction: while a row is here, the audit
    log's triggers let entries older than its cutoff be deleted (and nothing else)."""

    __tablename__ = "audit_purge"
    id: int | None = Field(default=None, primary_key=True)
    cutoff: datetime = Field(sa_column=utc_column())
