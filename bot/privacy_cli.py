"""`koopbot retention`, `koopbot auskunft`, `koopbot loeschen`: data protection from the CLI.

- retention [--dry-run]: what the daily job deletes or anonymises (DOMAIN.md P4); without
  --dry-run it does it now.
- auskunft PERSON --out FILE: everything stored about one staff member (GDPR Art. 15) as
  FILE.json and FILE.xlsx.
- loeschen PERSON --ja: anonymise that person at once (Art. 17), audited.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.formatting import fmt_date
from config.settings import Settings
from storage import audit, retention
from storage.db import Database
from storage.privacy import find_person, subject_data

COMMANDS = ("retention", "auskunft", "loeschen")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ret = sub.add_parser("retention", help="Aufbewahrungsfristen anwenden (P4)")
    ret.add_argument("--dry-run", action="store_true", help="nur auflisten, nichts ändern")
    info = sub.add_parser("auskunft", help="Auskunft über eine Person (DSGVO Art. 15)")
    info.add_argument("person", help="Kürzel (z. B. JB) oder Nummer (#12)")
    info.add_argument("--out", type=Path, required=True, help="Datei (.json und .xlsx)")
    erase = sub.add_parser("loeschen", help="Person sofort anonymisieren (DSGVO Art. 17)")
    erase.add_argument("person", help="Kürzel (z. B. JB) oder Nummer (#12)")
    erase.add_argument("--ja", action="store_true", help="ohne Rückfrage ausführen")


def run(args: argparse.Namespace, settings: Settings, db: Database, now: datetime) -> int:
    if args.command == "retention":
        return _retention(settings, db, now, dry_run=args.dry_run)
    if args.command == "auskunft":
        return _auskunft(db, args.person, args.out)
    return _loeschen(db, args.person, now, confirmed=args.ja)


def _retention(settings: Settings, db: Database, now: datetime, *, dry_run: bool) -> int:
    today = now.astimezone(settings.tz).date()
    if dry_run:
        with db.session() as session:
            found = retention.plan(session, settings.retention, now, today)
    else:
        found = retention.run_retention(settings, db, now)
    rules = settings.retention
    verb = "würde" if dry_run else "wurde"
    print(
        f"Aufbewahrung zum {fmt_date(today)}"
        + (" (Probelauf, nichts geändert):" if dry_run else ":")
    )
    print(f"Abgeschlossene Fälle (älter als {rules.closed_case_days} Tage): {len(found.cases)}")
    for _id, code, closed in found.cases:
        print(f"  {code}, beendet am {fmt_date(closed)} – {verb} anonymisiert")
    print(f"Ausgeschiedene Mitarbeitende (nach {rules.staff_days} Tagen): {len(found.staff)}")
    for staff_id, name, left in found.staff:
        left_on = fmt_date(left.astimezone(settings.tz).date())
        print(f"  #{staff_id} {name}, deaktiviert am {left_on} – {verb} anonymisiert")
    for staff_id, name in found.staff_clock_starts:
        print(f"  #{staff_id} {name}: deaktiviert ohne Datum – die Frist beginnt heute")
    print(f"Audit-Einträge älter als {rules.audit_days} Tage: {found.audit_entries}")
    print(
        f"Fehlgeschlagene Anmeldeversuche älter als {rules.start_attempt_days} Tage: {found.start_attempts}"
    )
    return 0


def _auskunft(db: Database, who: str, out: Path) -> int:
    with db.session() as session:
        person = find_person(session, who)
        if person is None:
            print(f"koopbot: keine Person mit dem Kürzel oder der Nummer {who!r}", file=sys.stderr)
            return 2
        data = subject_data(session, person)
    base = out.with_suffix("") if out.suffix.lower() in (".json", ".xlsx") else out
    base.parent.mkdir(parents=True, exist_ok=True)
    json_path, xlsx_path = base.with_suffix(".json"), base.with_suffix(".xlsx")
    json_path.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    _write_xlsx(data, xlsx_path)
    total = sum(len(rows) for rows in data.values())
    print(
        f"Auskunft über #{person.id} ({person.handle}): {total} Einträge in {len(data)} Bereichen"
    )
    print(json_path)
    print(xlsx_path)
    return 0


def _loeschen(db: Database, who: str, now: datetime, *, confirmed: bool) -> int:
    with db.session() as session:
        person = find_person(session, who)
        if person is None:
            print(f"koopbot: keine Person mit dem Kürzel oder der Nummer {who!r}", file=sys.stderr)
            return 2
        if person.anonymised_at is not None:
            print(f"#{person.id} ist bereits anonymisiert.")
            return 0
        if not confirmed:
            print(
                f"koopbot: #{person.id} {person.name} ({person.handle}) würde sofort anonymisiert. "
                "Zum Ausführen: koopbot loeschen ... --ja",
                file=sys.stderr,
            )
            return 2
        assert person.id is not None
        person_id = person.id
        open_cases = [
            c["code"]
            for c in subject_data(session, person)["Fälle (zuständig)"]
            if c["status"] == "open"
        ]
        person.active = False
        person.deactivated_at = person.deactivated_at or now
        retention.anonymise_staff(session, person_id, now)
        audit.record(
            session, at=now, actor="cli", action="erase", entity="staff", entity_id=person_id
        )
    print(
        f"#{person_id} anonymisiert: {retention.staff_label(person_id)}. Die Stunden bleiben in den Auswertungen."
    )
    if open_cases:
        print(f"Bitte neu zuweisen (/zuweisen), noch offen: {', '.join(open_cases)}")
    return 0


def _write_xlsx(data: dict[str, list[dict[str, Any]]], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    first = True
    for section, rows in data.items():
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = _sheet_title(section)
        columns = sorted({key for row in rows for key in row})
        sheet.append(columns or ["(keine Einträge)"])
        for row in rows:
            sheet.append([_cell(row.get(key)) for key in columns])
    book.save(path)


def _sheet_title(section: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    return "".join(c for c in section if c not in "[]:*?/\\")[:31]


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value
