"""Quarterly hours-controlling report for a provider with 200 staff and 500,000 hour entries.

Builds a fresh SQLite database (migrations, a provider with a contract, an ASD office, 200
staff, 400 cases, the hour entries bulk-inserted over 2025 and 2026), then times what a
coordinator's `/quartal 2026-Q2` does: the report (figures, the 90 % rule), the PNG chart and
the XLSX, and the whole command through bot.core.Bot.handle.

    .venv/bin/python bench/controlling.py [--staff 200] [--entries 500000] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import charts, exports
from bot.controlling_alerts import org_report
from bot.controlling_report import chart_results
from bot.core import Bot, build_calendar
from bot.messages import Incoming, Sender
from config.enums import (
    HoursCategory,
    LegalBasis,
    MissedReason,
    OrgKind,
    Role,
    StaffType,
)
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.controlling import Quarter
from storage.db import Database
from storage.models.cases import Case
from storage.models.hours import Contract, ContractYear, HoursEntry
from storage.models.staff import MessengerIdentity, Organisation, Staff

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 7, 1, 9, 0, tzinfo=BERLIN)
FIRST, LAST = date(2025, 1, 1), date(2026, 6, 30)


def populate(db: Database, staff_count: int, entry_count: int) -> None:
    rng = random.Random(7)
    created = NOW.astimezone(UTC)
    with db.session() as s:
        provider = Organisation(name="Träger Bench", kind=OrgKind.provider)
        office = Organisation(name="ASD Bench", kind=OrgKind.jugendamt)
        s.add_all([provider, office])
        s.flush()
        assert provider.id is not None and office.id is not None
        people = [
            Staff(
                organisation_id=provider.id,
                name=f"Person {i}",
                handle=f"P{i}",
                role=Role.coordinator if i == 0 else Role.caseworker,
                staff_type=StaffType.fachkraft if i % 3 else StaffType.semiprofessional,
                created_at=created,
            )
            for i in range(staff_count)
        ]
        asd = Staff(
            organisation_id=office.id,
            name="ASD",
            handle="ASD",
            role=Role.caseworker,
            created_at=created,
        )
        s.add_all([*people, asd])
        s.flush()
        s.add(
            MessengerIdentity(
                staff_id=people[0].id or 0,
                transport="console",
                external_id="coord",
                created_at=created,
            )
        )
        cases = [
            Case(
                code=f"HB-2025-{i:04d}",
                legal_basis=LegalBasis.p31,
                start_date=date(2024, 12, 1),
                provider_org_id=provider.id,
                jugendamt_org_id=office.id,
                provider_staff_id=people[i % staff_count].id,
                asd_staff_id=asd.id,
                recommended_staff_type=StaffType.fachkraft,
                created_at=created,
            )
            for i in range(2 * staff_count)
        ]
        s.add_all(cases)
        contract = Contract(
            provider_org_id=provider.id,
            starts_on=date(2025, 1, 1),
            ends_on=date(2029, 12, 31),
            updated_at=created,
        )
        s.add(contract)
        s.flush()
        for year in range(2025, 2030):
            s.add(
                ContractYear(
                    contract_id=contract.id or 0,
                    year=year,
                    planned_direct_hours=180_000,
                    updated_at=created,
                )
            )
        s.flush()
        staff_ids = [p.id or 0 for p in people]
        case_ids = [c.id or 0 for c in cases]
        span = (LAST - FIRST).days + 1
        categories = [HoursCategory.direct] * 6 + [
            HoursCategory.group,
            HoursCategory.non_case,
            HoursCategory.network,
            HoursCategory.informal_advice,
            HoursCategory.missed,
        ]
        rows = []
        for _ in range(entry_count):
            category = rng.choice(categories)
            bound = category in (HoursCategory.direct, HoursCategory.missed)
            rows.append(
                {
                    "staff_id": rng.choice(staff_ids),
                    "organisation_id": provider.id,
                    "day": FIRST + timedelta(days=rng.randrange(span)),
                    "minutes": rng.choice((30, 45, 60, 90, 120)),
                    "category": category.name,
                    "case_id": rng.choice(case_ids) if bound else None,
                    "participants": rng.randint(2, 12) if category is HoursCategory.group else None,
                    "missed_reason": rng.choice(list(MissedReason)).name
                    if category is HoursCategory.missed
                    else None,
                    "created_at": created,
                    "deleted_at": None,
                }
            )
        for start in range(0, len(rows), 50_000):
            s.execute(insert(HoursEntry), rows[start : start + 50_000])


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=200)
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        db = Database(settings.effective_database_url)
        db.upgrade()
        started = time.perf_counter()
        populate(db, args.staff, args.entries)
        db.upgrade()  # ANALYZE with the data in place, as every start does
        print(
            f"setup: {args.entries:,} entries, {args.staff} staff in {time.perf_counter() - started:.1f} s"
        )
        calendar = build_calendar(settings)
        quarter = Quarter(2026, 2)
        today = NOW.date()

        def report() -> object:
            with db.session() as s:
                return org_report(s, settings, calendar, 1, "Träger Bench", quarter, today)

        with db.session() as s:
            r = org_report(s, settings, calendar, 1, "Träger Bench", quarter, today)
        print(f"entries in {quarter.label}: {sum(r.figures.entries.values()):,}")
        median, worst = timed(report, args.runs)
        print(
            f"quarterly report (figures + 90 % rule), SQLite: median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms"
        )
        median, worst = timed(
            lambda: charts.quarter_chart("Bench", chart_results(r), r.by_type, 90), args.runs
        )
        print(f"PNG chart: median {median * 1000:.0f} ms")
        median, worst = timed(lambda: exports.xlsx(r), args.runs)
        print(f"XLSX export: median {median * 1000:.0f} ms")
        bot = Bot(settings, db, FixedClock(NOW))
        incoming = Incoming(Sender("console", "coord"), "coord", f"/quartal {quarter.key}")
        median, worst = timed(lambda: bot.handle(incoming), args.runs)
        print(
            f"/quartal {quarter.key} through the core (text, PNG, XLSX): median {median * 1000:.0f} ms"
        )
        year = Incoming(Sender("console", "coord"), "coord", "/jahr 2025")
        median, worst = timed(lambda: bot.handle(year), args.runs)
        print(f"/jahr 2025 through the core: median {median * 1000:.0f} ms")
        db.dispose()


if __name__ == "__main__":
    main()
