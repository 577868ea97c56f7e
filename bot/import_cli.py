"""`koopbot import cases FILE`: bring an agency's existing cases in from a CSV or XLSX list."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from bot.case_file import read_case_file
from bot.case_import import apply_import
from bot.case_plan import ImportPlan, Progress, plan_import, preview
from bot.core import build_calendar
from bot.errors import UserError
from bot.formatting import LEGAL_BASIS_LABEL, fmt_date, fmt_datetime
from bot.parsing.dates import parse_date
from config.settings import Settings
from scheduler.workdays import WorkCalendar
from storage.case_import import refresh_statistics
from storage.db import Database

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = sub.add_parser("import", help="import data from files")
    what = imp.add_subparsers(dest="import_what", required=True)
    cases = what.add_parser(
        "cases",
        help="import cases from a CSV (;, UTF-8) or XLSX list (template: config/faelle-vorlage.csv)",
    )
    cases.add_argument("file", type=Path, help="the case list (.csv or .xlsx)")
    cases.add_argument(
        "--dry-run", action="store_true", help="only show what would be created or changed"
    )
    cases.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows even when others are refused (default: nothing then)",
    )
    cases.add_argument(
        "--done-before",
        metavar="DATE",
        help="record derived deadlines due before this date (e.g. 01.12.2026) as done",
    )


@contextmanager
def _bar(total: int, label: str) -> Iterator[Progress]:
    """A progress bar on the terminal; nothing when stdout is a file or a pipe."""
    if total < 1 or not sys.stdout.isatty():
        yield lambda _: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit=" Zeilen", file=sys.stdout) as bar:

        def step(n: int) -> None:
            bar.update(n)

        yield step


def _done_before(raw: str | None, today: date) -> date | None:
    if raw is None:
        return None
    return parse_date(raw, today, prefer="past")


def _print_plan(
    plan: ImportPlan,
    *,
    details: bool,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
    done_before: date | None,
) -> None:
    today = now.date()
    for refusal in plan.refused:
        print(f"Zeile {refusal.line} abgelehnt – {refusal.reason}")
    if details:
        for new in plan.new:
            chain = preview(new, settings, calendar, now)
            done = [d for d in chain if done_before is not None and d.due < done_before]
            late = [d for d in chain if d.due < today and d not in done]
            note = f"{len(chain)} Fristen"
            note += f", {len(done)} als erledigt" if done else ""
            note += f", davon {len(late)} überfällig" if late else ""
            hpg = f", HPG {fmt_datetime(new.hpg_at)}" if new.hpg_at else ""
            print(
                f"neu: {new.row.code} – {LEGAL_BASIS_LABEL[new.row.legal_basis]}, Beginn "
                f"{fmt_date(new.row.start_date)}{hpg}: {note}"
            )
        for update in plan.changed:
            print(f"geändert: {update.row.code} – {'; '.join(update.changes)}")
    print(
        f"{plan.rows} Zeilen: {len(plan.new)} neu, {len(plan.changed)} geändert, "
        f"{len(plan.unchanged)} unverändert, {len(plan.refused)} abgelehnt."
    )


def run(args: argparse.Namespace, settings: Settings, db: Database, now: datetime) -> int:
    """Check the file; unless it is a dry run, write it in one transaction (or nothing)."""
    now = now.astimezone(settings.tz)
    try:
        done_before = _done_before(args.done_before, now.date())
        case_file = read_case_file(args.file)
    except UserError as exc:
        print(f"koopbot: {exc}", file=sys.stderr)
        return 2
    calendar = build_calendar(settings)
    began = time.perf_counter()
    try:
        with db.session() as session:
            with _bar(len(case_file.rows), "Prüfen") as step:
                plan = plan_import(
                    session, case_file, settings=settings, calendar=calendar, now=now, progress=step
                )
            _print_plan(
                plan,
                details=args.dry_run,
                settings=settings,
                calendar=calendar,
                now=now,
                done_before=done_before,
            )
            if args.dry_run:
                print("Probelauf: nichts gespeichert.")
                return 1 if plan.refused else 0
            if plan.refused and not args.skip_invalid:
                print(
                    "Nichts importiert: Bitte die abgelehnten Zeilen korrigieren und erneut "
                    "starten (oder mit --skip-invalid nur die übrigen übernehmen)."
                )
                return 1
            with _bar(len(plan.new) + len(plan.changed), "Schreiben") as step:
                result = apply_import(
                    session,
                    plan,
                    settings=settings,
                    calendar=calendar,
                    now=now,
                    done_before=done_before,
                    progress=step,
                )
    except Exception:
        log.exception("case import failed; nothing was written")
        print(
            "koopbot: Der Import ist abgebrochen; es wurde nichts gespeichert. Einzelheiten "
            "stehen im Protokoll (koopbot.log im Datenordner).",
            file=sys.stderr,
        )
        return 1
    if result.created or result.changed:
        refresh_statistics(db.engine)
    seconds = time.perf_counter() - began
    done = f", davon {result.done} als erledigt übernommen" if result.done else ""
    print(
        f"Importiert: {result.created} Fälle angelegt ({result.deadlines} Fristen{done}), "
        f"{result.changed} geändert, in {seconds:.1f} s."
    )
    return 0
