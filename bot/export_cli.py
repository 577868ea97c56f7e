"""`koopbot export`: a provider's quarter or year as XLSX or CSV files, from the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path

from bot.controlling_report import build, file_stamp
from bot.core import build_calendar
from config.enums import OrgKind
from config.settings import Settings
from scheduler.controlling import Quarter
from storage import audit
from storage.controlling import Scope
from storage.db import Database
from storage.staff import organisation_by_name


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser("export", help="hours controlling of a provider as XLSX or CSV")
    export.add_argument("period", help="a quarter (2025-Q3) or a year (2025)")
    export.add_argument("--org", required=True, help="the provider's name")
    export.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    export.add_argument(
        "--out", type=Path, default=None, help="folder for the files (default: <data_dir>/files)"
    )


def run(args: argparse.Namespace, settings: Settings, db: Database, now: datetime) -> int:
    from bot import exports  # openpyxl loads only when exporting

    today = now.astimezone(settings.tz).date()
    period: str = args.period.strip()
    if period.isdigit() and len(period) == 4:
        title, first, last, stem = (
            period,
            date(int(period), 1, 1),
            date(int(period), 12, 31),
            period,
        )
    else:
        quarter = Quarter.parse(period, today)
        if quarter is None:
            print(
                f"koopbot: {period!r} ist weder ein Quartal (2025-Q3) noch ein Jahr (2025)",
                file=sys.stderr,
            )
            return 2
        title, first, last, stem = quarter.label, quarter.first, quarter.last, quarter.key
    out: Path = args.out or settings.data_dir / "files"
    with db.session() as session:
        org = organisation_by_name(session, args.org)
        if org is None or org.kind is not OrgKind.provider or org.id is None:
            print(f"koopbot: kein freier Träger namens {args.org!r}", file=sys.stderr)
            return 2
        report = build(
            session,
            settings,
            build_calendar(settings),
            Scope(organisation_id=org.id),
            title=title,
            org_name=org.name,
            first=first,
            last=last,
            today=today,
            contract_org_id=org.id,
        )
        audit.record(
            session,
            at=now,
            actor="cli",
            action="export",
            entity="organisation",
            entity_id=org.id,
            details={"period": stem, "format": args.format},
        )
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{stem}_{file_stamp(now)}"  # issue 14: never replace an earlier export
    if args.format == "xlsx":
        files = [(f"stunden_{stem}.xlsx", exports.xlsx(report))]
    else:
        files = exports.csv_files(report, f"stunden_{stem}")
    for name, data in files:
        path = _free_path(out / name)
        path.write_bytes(data)
        print(path)
    return 0


def _free_path(path: Path) -> Path:
    """`path`, or with `_2`, `_3` … before the suffix while a file of that name exists."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
    return candidate
