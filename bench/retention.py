"""The daily retention job (issue 12) on a database with years of history.

Builds a fresh SQLite database (or uses --url for PostgreSQL): a provider and an ASD office,
40 staff (5 of them deactivated long ago), CASES cases of which half were closed more than
`closed_case_days` ago, each with its deadlines, a meeting and hours, and AUDIT old audit
entries. Times the dry run (`koopbot retention --dry-run`) and the job itself, and checks that
the hours figures did not change.

    .venv/bin/python bench/retention.py [--cases 2000] [--audit 50000]
        [--pg postgresql+psycopg://root@127.0.0.1:5432/postgres]

With --pg (an admin URL) it runs in a fresh PostgreSQL database of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.enums import (
    CaseStatus,
    DeadlineKind,
    DeadlineStatus,
    HoursCategory,
    LegalBasis,
    MeetingKind,
    OrgKind,
    Role,
    StaffType,
)
from config.settings import Settings
from storage import retention
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.cases import Case, Deadline, Meeting
from storage.models.hours import HoursEntry
from storage.models.staff import Organisation, Staff

NOW = datetime(2028, 6, 1, 3, 15, tzinfo=UTC)


def populate(db: Database, cases: int, audit_entries: int) -> None:
    old = NOW - timedelta(days=4 * 365)
    with db.session() as s:
        provider = Organisation(name="Träger", kind=OrgKind.provider)
        office = Organisation(name="ASD", kind=OrgKind.jugendamt)
        s.add_all([provider, office])
        s.flush()
        assert provider.id is not None and office.id is not None
        staff = []
        for n in range(40):
            person = Staff(
                organisation_id=provider.id if n < 30 else office.id,
                name=f"Person {n}",
                handle=f"P{n}",
                role=Role.caseworker,
                staff_type=StaffType.fachkraft if n < 30 else None,
                work_phone="0421 555",
                active=n >= 5,
                deactivated_at=old if n < 5 else None,
                created_at=old,
            )
            s.add(person)
            staff.append(person)
        s.flush()
        case_rows = [
            {
                "code": f"HB-2024-{n:05d}",
                "legal_basis": LegalBasis.p31,
                "start_date": date(2024, 1, 1),
                "provider_org_id": provider.id,
                "jugendamt_org_id": office.id,
                "provider_staff_id": staff[n % 30].id,
                "asd_staff_id": staff[30 + n % 10].id,
                "recommended_staff_type": StaffType.fachkraft,
                "status": CaseStatus.closed if n % 2 == 0 else CaseStatus.open,
                "closed_on": date(2024, 12, 31) if n % 2 == 0 else None,
                "created_at": old,
            }
            for n in range(cases)
        ]
        s.execute(insert(Case), case_rows)
        ids = list(s.execute(select(Case.id).order_by(Case.id)).scalars())  # type: ignore[arg-type]
        s.execute(
            insert(Deadline),
            [
                {
                    "key": f"case:{cid}:{k}",
                    "case_id": cid,
                    "organisation_id": provider.id,
                    "kind": DeadlineKind.report,
                    "rule": "C1/D2",
                    "due": date(2024, 1, 1) + timedelta(days=30 * k),
                    "status": DeadlineStatus.done,
                    "updated_at": old,
                }
                for cid in ids
                for k in range(4)
            ],
        )
        s.execute(
            insert(Meeting),
            [
                {"case_id": cid, "kind": MeetingKind.hpg, "starts_at": old, "created_at": old}
                for cid in ids
            ],
        )
        s.execute(
            insert(HoursEntry),
            [
                {
                    "staff_id": staff[(cid + k) % 30].id,
                    "organisation_id": provider.id,
                    "day": date(2024, 1, 1) + timedelta(days=(cid * 7 + k) % 360),
                    "minutes": 60 + k,
                    "category": HoursCategory.direct,
                    "case_id": cid,
                    "created_at": old,
                }
                for cid in ids
                for k in range(10)
            ],
        )
        s.execute(
            insert(AuditEntry),
            [
                {
                    "at": old + timedelta(minutes=n),
                    "actor": "staff",
                    "action": "create",
                    "entity": "case",
                    "details": "{}",
                }
                for n in range(audit_entries)
            ],
        )


def figures(db: Database) -> tuple[int, int, int]:
    with db.session() as s:
        minutes = s.execute(select(func.sum(HoursEntry.minutes))).scalar_one()
        per_staff = s.execute(select(func.count(func.distinct(HoursEntry.staff_id)))).scalar_one()
        helped = s.execute(select(func.count(func.distinct(HoursEntry.case_id)))).scalar_one()
    return int(minutes), int(per_staff), int(helped)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--audit", type=int, default=50_000)
    parser.add_argument("--pg", default=None, help="PostgreSQL admin URL")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="koopbot-retention-"))
    url, name = None, f"koopbot_bench_{secrets.token_hex(4)}"
    if args.pg:
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        run(Settings(data_dir=root, database_url=url), args.cases, args.audit)
    finally:
        if args.pg:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def run(settings: Settings, cases: int, audit_entries: int) -> None:
    db = Database(settings.effective_database_url)
    db.upgrade()
    started = time.perf_counter()
    populate(db, cases, audit_entries)
    print(
        f"populated {cases} cases, {audit_entries} audit entries in {time.perf_counter() - started:.1f} s ({db.engine.dialect.name})"
    )
    before = figures(db)
    today = NOW.date()
    started = time.perf_counter()
    with db.session() as s:
        plan = retention.plan(s, settings.retention, NOW, today)
    dry = time.perf_counter() - started
    started = time.perf_counter()
    with db.session() as s:
        done = retention.apply(s, settings.retention, NOW, today)
    run = time.perf_counter() - started
    after = figures(db)
    print(
        f"dry run: {dry * 1000:.0f} ms; {len(plan.cases)} cases, {len(plan.staff)} staff, {plan.audit_entries} audit entries due"
    )
    print(
        f"job:     {run * 1000:.0f} ms; {len(done.cases)} cases anonymised, {len(done.staff)} staff anonymised, {done.audit_entries} audit entries removed"
    )
    print(
        f"figures (minutes, staff with hours, cases with hours): before {before}, after {after}, equal: {before == after}"
    )
    with db.session() as s:
        left = s.execute(select(func.count()).select_from(Deadline)).scalar_one()
    print(f"deadlines left: {left} (open cases' only: {cases // 2 * 4})")
    db.dispose()


if __name__ == "__main__":
    main()
