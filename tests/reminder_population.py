"""Synthetic data for the multi-process tests and the benchmarks: organisations with one
coordinator each (on Telegram, or Matrix) and their own deadlines, bulk-inserted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert
from sqlmodel import SQLModel

from storage.db import Database

_T = SQLModel.metadata.tables


def add_people_with_deadlines(
    db: Database,
    chat_ids: list[int] | list[str],
    due: date,
    now: datetime,
    *,
    prefix: str = "p",
    per_person: int = 1,
    transport: str = "telegram",
) -> None:
    """One provider organisation per chat id, its coordinator, and `per_person` open annual
    reports."""
    n = len(chat_ids)
    with db.session() as s:
        conn = s.connection()
        base = int(conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM staff").scalar_one())
        org_base = int(
            conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM organisation").scalar_one()
        )
        conn.execute(
            insert(_T["organisation"]),
            [
                {"id": org_base + i + 1, "name": f"{prefix}-org-{i}", "kind": "provider"}
                for i in range(n)
            ],
        )
        conn.execute(
            insert(_T["staff"]),
            [
                {
                    "id": base + i + 1,
                    "organisation_id": org_base + i + 1,
                    "name": f"Koordination {i}",
                    "handle": f"{prefix}{i}"[:12],
                    "role": "coordinator",
                    "staff_type": "fachkraft",
                    "active": True,
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(_T["messenger_identity"]),
            [
                {
                    "staff_id": base + i + 1,
                    "transport": transport,
                    "external_id": str(chat),
                    "created_at": now,
                }
                for i, chat in enumerate(chat_ids)
            ],
        )
        conn.execute(
            insert(_T["deadline"]),
            [
                {
                    "key": f"{prefix}:annual:{i}:{j}",
                    "organisation_id": org_base + i + 1,
                    "kind": "annual_report",
                    "rule": "C5",
                    "due": due,
                    "status": "open",
                    "updated_at": now,
                    "sequence": 0,
                }
                for i in range(n)
                for j in range(per_person)
            ],
        )
    if db.engine.dialect.name == "postgresql":
        with db.session() as s:
            for table in ("organisation", "staff"):
                s.connection().exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
