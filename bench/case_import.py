"""`koopbot import cases` of a city's case list: cases per second (issue 18, goal >= 500/s).

A fresh database with the demo organisation among many providers and ASD offices
(bench/agency.py), the case list written as a CSV file, then the real command function
(bot.import_cli.run: read, check, write in one transaction) timed; then the same file again
(nothing changes) and the old way for comparison: one case at a time through the ORM and
scheduler.casework.recompute_chain, as /fall_neu does, for a sample.

    .venv/bin/python bench/case_import.py [--cases 100000] [--postgres URL] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from agency import Shape, build, csv_text
from fristen import fresh_postgres

from bot.cli import _parser
from bot.core import build_calendar
from bot.demo import load_demo
from bot.import_cli import run
from config.enums import CaseStatus, LegalBasis, StaffType
from config.settings import Settings
from scheduler.casework import recompute_chain
from storage.case_import import load_directory
from storage.db import Database
from storage.models.cases import Case


def _import(settings: Settings, db: Database, path: Path, *extra: str) -> tuple[float, str]:
    args = _parser().parse_args(["import", "cases", str(path), *extra])
    out = io.StringIO()
    began = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = run(args, settings, db, datetime.now(settings.tz))
    seconds = time.perf_counter() - began
    assert code == 0, out.getvalue()[-2000:]
    return seconds, out.getvalue().strip().splitlines()[-1]


def _one_by_one(db: Database, settings: Settings, sample: int) -> float:
    """Milliseconds per case the old way (ORM insert and recompute_chain per case)."""
    now = datetime.now(settings.tz)
    calendar = build_calendar(settings)
    with db.session() as session:
        people = load_directory(session).staff
        jb, tb = people["JB"], people["TB"]
        began = time.perf_counter()
        for i in range(sample):
            case = Case(
                code=f"OL-2025-{i:05d}",
                legal_basis=LegalBasis.p30,
                start_date=now.date().replace(day=1),
                provider_org_id=jb.organisation_id,
                jugendamt_org_id=tb.organisation_id,
                provider_staff_id=jb.id,
                asd_staff_id=tb.id,
                recommended_staff_type=StaffType.fachkraft,
                status=CaseStatus.open,
                created_at=now,
            )
            session.add(case)
            session.flush()
            recompute_chain(session, case, calendar=calendar, periods=settings.periods, now=now)
        per_case = (time.perf_counter() - began) * 1000 / sample
        session.rollback()
    return per_case


def run_backend(label: str, url: str, tmp: Path, args: argparse.Namespace) -> None:
    settings = Settings(data_dir=tmp, database_url=url)
    db = Database(url)
    try:
        db.upgrade()
        now = datetime.now(settings.tz)
        with db.session() as session:
            load_demo(session, settings, build_calendar(settings), now)
            agency = build(session, Shape(cases=args.cases), now)
        path = tmp / "faelle.csv"
        path.write_text(csv_text(agency.rows), encoding="utf-8")
        size = path.stat().st_size / 1e6
        print(
            f"\n{label}: {args.cases} cases in {size:.1f} MB of CSV, {agency.organisations} "
            f"organisations, {agency.staff} staff"
        )
        seconds, summary = _import(settings, db, path)
        print(
            f"  import            {seconds:7.1f} s  {args.cases / seconds:7.0f} cases/s  | {summary}"
        )
        seconds, summary = _import(settings, db, path)
        print(
            f"  same file again   {seconds:7.1f} s  {args.cases / seconds:7.0f} rows/s   | {summary}"
        )
        per_case = _one_by_one(db, settings, args.sample)
        print(
            f"  one by one (/fall_neu's way, {args.sample} cases): {per_case:.1f} ms per case, "
            f"{1000 / per_case:.0f} cases/s, {args.cases * per_case / 60000:.1f} min for all"
        )
    finally:
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=300, help="cases for the one-by-one figure")
    parser.add_argument("--postgres", metavar="URL", help="also run on a fresh PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    for key in [k for k in os.environ if k.startswith("KOOPBOT_")]:
        del os.environ[key]
    print(f"koopbot import bench, Python {sys.version.split()[0]}")
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="koopbot-bench-") as tmp:
            run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), args)
    if args.postgres:
        with (
            tempfile.TemporaryDirectory(prefix="koopbot-bench-") as tmp,
            fresh_postgres(args.postgres) as url,
        ):
            run_backend("PostgreSQL", url, Path(tmp), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
