"""Storage side of `koopbot import cases`: lookups in bulk and multi-row inserts.

An import of 100,000 cases cannot afford the ORM's unit of work per case (about 7 ms each,
issue 18): new cases, their meetings, deadlines and audit entries are written in bulk, in the
caller's transaction: on SQLite one multi-row INSERT per batch (SQLAlchemy's insertmanyvalues,
RETURNING the new ids in order), on PostgreSQL with COPY (ids drawn from the sequence first).
Changed cases go through the ORM and the usual chain code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Engine, Table, insert, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from config.enums import CaseStatus, LegalBasis, MeetingKind, OrgKind, StaffType
from storage.models.audit import AuditEntry
from storage.models.cases import Case, Deadline, Meeting
from storage.models.feeds import FeedState
from storage.models.staff import Organisation, Staff

CHUNK = 1000  # rows per IN list or multi-row INSERT: well below SQLite's variable limit

_CASES: Table = Case.__table__  # type: ignore[attr-defined]
_MEETINGS: Table = Meeting.__table__  # type: ignore[attr-defined]
_DEADLINES: Table = Deadline.__table__  # type: ignore[attr-defined]
_AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OrgInfo:
    id: int
    name: str
    kind: OrgKind


@dataclass(frozen=True)
class StaffInfo:
    id: int
    handle: str
    organisation_id: int
    org_kind: OrgKind
    active: bool
    staff_type: StaffType | None


@dataclass(frozen=True)
class Directory:
    """Everyone a row may name: staff by upper-case Kürzel, organisations by lower-case name."""

    staff: dict[str, StaffInfo]
    orgs: dict[str, OrgInfo]


def load_directory(session: Session) -> Directory:
    # Plain rows, not ORM objects: thousands of them in the session would make every later
    # flush of the import walk them.
    orgs = [
        OrgInfo(int(i), name, kind)
        for i, name, kind in session.execute(
            sa_select(col(Organisation.id), col(Organisation.name), col(Organisation.kind))
        )
    ]
    kinds = {o.id: o.kind for o in orgs}
    staff = {
        handle.upper(): StaffInfo(int(i), handle, org_id, kinds[org_id], active, staff_type)
        for i, handle, org_id, active, staff_type in session.execute(
            sa_select(
                col(Staff.id),
                col(Staff.handle),
                col(Staff.organisation_id),
                col(Staff.active),
                col(Staff.staff_type),
            )
        )
    }
    return Directory(staff, {" ".join(o.name.split()).lower(): o for o in orgs})


@dataclass(frozen=True)
class ExistingCase:
    id: int
    code: str
    legal_basis: LegalBasis
    start_date: date
    provider_org_id: int
    jugendamt_org_id: int
    provider_staff_id: int | None
    asd_staff_id: int | None
    child_protection: bool
    recommended: StaffType
    report_interval_months: int | None
    status: CaseStatus
    next_hpg: datetime | None  # the first planned HPG from `now` on
    next_hpg_id: int | None


_CASE_COLUMNS = (
    "id",
    "code",
    "legal_basis",
    "start_date",
    "provider_org_id",
    "jugendamt_org_id",
    "provider_staff_id",
    "asd_staff_id",
    "child_protection",
    "recommended_staff_type",
    "report_interval_months",
    "status",
)


def existing_cases(
    session: Session, codes: Sequence[str], now: datetime
) -> dict[str, ExistingCase]:
    """The stored cases among these codes, each with its next planned HPG (plain rows)."""
    out: dict[str, ExistingCase] = {}
    for start in range(0, len(codes), CHUNK):
        chunk = list(codes[start : start + CHUNK])
        cases = session.execute(
            sa_select(*(_CASES.c[name] for name in _CASE_COLUMNS)).where(_CASES.c.code.in_(chunk))
        ).all()
        if not cases:
            continue
        hpgs: dict[int, tuple[int, datetime]] = {}
        for meeting_id, case_id, starts_at in session.execute(
            sa_select(_MEETINGS.c.id, _MEETINGS.c.case_id, _MEETINGS.c.starts_at)
            .where(
                _MEETINGS.c.case_id.in_([c.id for c in cases]),
                _MEETINGS.c.kind == MeetingKind.hpg,
                _MEETINGS.c.cancelled.is_(False),
                _MEETINGS.c.starts_at >= now,
            )
            .order_by(_MEETINGS.c.starts_at.desc())
        ):
            hpgs[case_id] = (meeting_id, starts_at)  # the soonest wins
        for c in cases:
            hpg = hpgs.get(c.id)
            out[c.code] = ExistingCase(
                id=c.id,
                code=c.code,
                legal_basis=c.legal_basis,
                start_date=c.start_date,
                provider_org_id=c.provider_org_id,
                jugendamt_org_id=c.jugendamt_org_id,
                provider_staff_id=c.provider_staff_id,
                asd_staff_id=c.asd_staff_id,
                child_protection=c.child_protection,
                recommended=c.recommended_staff_type,
                report_interval_months=c.report_interval_months,
                status=c.status,
                next_hpg=None if hpg is None else hpg[1],
                next_hpg_id=None if hpg is None else hpg[0],
            )
    return out


def _insert_returning_ids(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # Ids from the table's sequence first, then COPY: a multi-row INSERT ... RETURNING
        # of 1,000 rows is a statement psycopg parses anew each time, slower than the write.
        sequence = session.execute(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        ).scalar_one()
        ids = [
            int(i)
            for i in session.execute(
                text("SELECT nextval(:sequence) FROM generate_series(1, :n)"),
                {"sequence": sequence, "n": len(rows)},
            ).scalars()
        ]
        _copy(session, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids
    ids = []
    for start in range(0, len(rows), CHUNK):
        result = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            list(rows[start : start + CHUNK]),
        )
        ids += [int(row[0]) for row in result]
    return ids


def _insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, rows)
        return
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), list(rows[start : start + CHUNK]))


def _copy(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """PostgreSQL's COPY, in the session's transaction: several times faster than INSERTs.

    COPY passes by SQLAlchemy's column types, so values are given as the database stores
    them: enums by name (as SQLAlchemy's Enum stores them), aware datetimes as they are.
    """
    columns = list(rows[0])
    driver = session.connection().connection.driver_connection
    assert driver is not None
    names = ", ".join(f'"{c}"' for c in columns)
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row([_stored(row[c]) for c in columns])


def _stored(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime given where an aware one is required")
    return value


def insert_cases(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """New hzcase rows (every column but id given); their ids in the same order."""
    return _insert_returning_ids(session, _CASES, rows)


def insert_meetings(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    return _insert_returning_ids(session, _MEETINGS, rows)


def insert_deadlines(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """New deadlines; `reminder_at` is left to its server default, so the sweep plans them."""
    _insert(session, _DEADLINES, rows)


def insert_audit(
    session: Session,
    *,
    at: datetime,
    action: str,
    entity: str,
    entries: Iterable[tuple[int, Mapping[str, str | int | bool | None]]],
) -> None:
    """Audit entries by the command line, one per (entity id, details)."""
    _insert(
        session,
        _AUDIT,
        [
            {
                "at": at,
                "actor_staff_id": None,
                "actor": "cli",
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "details": json.dumps(dict(details), sort_keys=True, default=str),
            }
            for entity_id, details in entries
        ],
    )


def feeds_changed(session: Session) -> None:
    """Raise the feed change counter once (multi-row inserts pass by the ORM's listener)."""
    session.execute(
        update(FeedState).where(col(FeedState.id) == 1).values(version=col(FeedState.version) + 1)
    )


def refresh_statistics(engine: Engine) -> None:
    """After a bulk load, planner statistics of the tables it filled: without them PostgreSQL
    may join a person's cases to all open deadlines (until autovacuum analyses, minutes
    later), and SQLite never gathers them by itself."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=400")
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE hzcase, deadline, meeting, audit_log")
