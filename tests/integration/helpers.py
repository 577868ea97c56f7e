"""Small read-only helpers for integration tests: they look at the database, never change it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel, col
from sqlmodel import select as sm_select

from config.enums import DeadlineKind, DeadlineStatus
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.cases import Case, Deadline
from storage.models.staff import Staff

BOTH_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])

M = TypeVar("M", bound=SQLModel)


def row_counts(db: Database) -> dict[str, int]:
    """Rows per table, for every table of the schema."""
    with db.session() as s:
        return {
            table.name: int(s.execute(select(func.count()).select_from(table)).scalar_one())
            for table in SQLModel.metadata.sorted_tables
        }


def after_failed_starts(before: dict[str, int], attempts: int) -> dict[str, int]:
    """`before`, plus the security records a failed /start writes (issue 12): one attempt and
    one audit entry each; nothing else changes."""
    return {
        **before,
        "start_attempt": before["start_attempt"] + attempts,
        "audit_log": before["audit_log"] + attempts,
    }


def all_rows(db: Database, model: type[M], *where: Any) -> list[M]:
    with db.session() as s:
        query = sm_select(model).where(*where) if where else sm_select(model)
        return list(s.exec(query.order_by(col(model.id))))  # type: ignore[attr-defined]


def one_row(db: Database, model: type[M], *where: Any) -> M:
    rows = all_rows(db, model, *where)
    assert len(rows) == 1, rows
    return rows[0]


def staff_id(db: Database, handle: str) -> int:
    staff = one_row(db, Staff, Staff.handle == handle)
    assert staff.id is not None
    return staff.id


def case_of(db: Database, code: str) -> Case:
    return one_row(db, Case, Case.code == code)


def deadlines_of(db: Database, code: str) -> list[Deadline]:
    return all_rows(db, Deadline, Deadline.case_id == case_of(db, code).id)


def open_dues(db: Database, code: str) -> dict[DeadlineKind, list[date]]:
    """Due dates of the case's open deadlines by kind, each list sorted."""
    out: dict[DeadlineKind, list[date]] = {}
    for d in deadlines_of(db, code):
        if d.status is DeadlineStatus.open:
            out.setdefault(d.kind, []).append(d.due)
    return {kind: sorted(days) for kind, days in out.items()}


def audit_trail(db: Database, after_id: int = 0) -> list[tuple[int | None, str, str]]:
    """(actor staff id, action, entity) of the audit entries after `after_id`, in order."""
    return [
        (a.actor_staff_id, a.action, a.entity)
        for a in all_rows(db, AuditEntry, col(AuditEntry.id) > after_id)
    ]


def last_audit_id(db: Database) -> int:
    rows = all_rows(db, AuditEntry)
    if not rows:
        return 0
    return rows[-1].id or 0


def deadline_number(reply: str, label: str) -> int:
    """The #number of the first reply line that mentions `label` (e.g. "Handlungsplan")."""
    for line in reply.splitlines():
        if label in line and (m := re.search(r"#(\d+)", line)):
            return int(m[1])
    raise AssertionError(f"no deadline {label!r} in reply:\n{reply}")
