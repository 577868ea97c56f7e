"""CSV and XLSX exports of a controlling report: one sheet (or CSV file) per view.

XLSX cells hold numbers and dates with number formats, so a German spreadsheet shows
`1.234,5` and `17.04.2025` and can still compute with them. CSV follows German Excel's
conventions: `;` between fields, decimal comma, dates `17.04.2025`, UTF-8 with BOM.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.controlling_report import Report
from bot.formatting import CATEGORY_LABEL, MISSED_REASON_LABEL, STAFF_TYPE_LABEL
from config.enums import HoursCategory, MissedReason, StaffType
from scheduler.controlling import QuarterState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"

Cell = str | int | float | date | None
HOURS = "#,##0.00"
PERCENT = "0.0%"
DATE = "DD.MM.YYYY"
COUNT = "#,##0"

STATE_LABEL = {
    QuarterState.met: "erfüllt",
    QuarterState.short: "unter Grenze",
    QuarterState.running: "läuft (Prognose)",
    QuarterState.future: "noch nicht begonnen",
    QuarterState.no_target: "kein Soll",
}


@dataclass(frozen=True)
class View:
    title: str  # sheet name (at most 31 characters) and CSV file suffix
    header: tuple[str, ...]
    formats: tuple[str | None, ...]  # number format per column
    rows: list[tuple[Cell, ...]]


def _h(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


def _type_label(t: StaffType | None) -> str:
    return STAFF_TYPE_LABEL[t] if t else "ohne Typ"


def views(report: Report) -> list[View]:
    """The report's views, in sheet order."""
    f = report.figures
    target = report.target_minutes
    overview: list[tuple[Cell, ...]] = [
        ("Zeitraum", report.title, ""),
        ("von", report.first, ""),
        ("bis", report.last, ""),
        ("Organisation", report.org_name, ""),
        ("Soll direkt", _h(target), "Std."),
        ("Ist direkt", _h(f.direct_minutes), "Std."),
        ("Erfüllung", None if not target else f.direct_minutes / target, "%"),
        (f"Indirekte Zeit ({f.indirect_percent} % kalkulatorisch)", _h(f.indirect_minutes), "Std."),
        ("Gruppenangebote", f.entries.get(HoursCategory.group, 0), "Termine"),
        ("Teilnehmende an Gruppenangeboten", f.group_participants, "Personen"),
        ("Beratungen ohne HzE", f.entries.get(HoursCategory.informal_advice, 0), "Beratungen"),
        ("Beratung ohne HzE", _h(f.category_minutes(HoursCategory.informal_advice)), "Std."),
        ("Fallunspezifische Arbeit", _h(f.category_minutes(HoursCategory.non_case)), "Std."),
        ("Netzwerkarbeit", _h(f.category_minutes(HoursCategory.network)), "Std."),
        ("Ausgefallene Leistungen", f.entries.get(HoursCategory.missed, 0), "Termine"),
        ("Ausgefallene Leistungen", _h(f.category_minutes(HoursCategory.missed)), "Std."),
        ("Betreute Fälle (mit direkten Stunden)", f.cases_served, "Fälle"),
        ("Beendete Hilfen", f.helps_ended, "Hilfen"),
        ("davon ohne Anschlusshilfe außerhalb der Familie", f.ended_without_follow_up, "Hilfen"),
    ]
    out = [View("Übersicht", ("Kennzahl", "Wert", "Einheit"), (None, None, None), overview)]
    # Numbers in the overview's value column get their format per row (see _write_xlsx).
    if report.results:
        out.append(
            View(
                "Quartale",
                (
                    "Quartal",
                    "von",
                    "bis",
                    "Soll (Std.)",
                    "Ist (Std.)",
                    "Erfüllung",
                    "Status",
                    "Prognose (Std.)",
                    "Fachkraft (Std.)",
                    "semiprofessionell (Std.)",
                ),
                (None, DATE, DATE, HOURS, HOURS, PERCENT, None, HOURS, HOURS, HOURS),
                [
                    (
                        r.quarter.label,
                        r.quarter.first,
                        r.quarter.last,
                        _h(r.target_minutes),
                        _h(r.delivered_minutes),
                        None if r.percent is None else r.percent / 100,
                        STATE_LABEL[r.state],
                        _h(r.forecast_minutes),
                        _h(report.by_type.get(r.quarter, {}).get(StaffType.fachkraft, 0)),
                        _h(report.by_type.get(r.quarter, {}).get(StaffType.semiprofessional, 0)),
                    )
                    for r in report.results
                ],
            )
        )
    types = [StaffType.fachkraft, StaffType.semiprofessional]
    if None in f.staff_types:
        types_all: list[StaffType | None] = [*types, None]
    else:
        types_all = list(types)
    category_rows: list[tuple[Cell, ...]] = []
    for category in HoursCategory:
        values = [_h(f.type_minutes(t, category)) or 0.0 for t in types_all]
        category_rows.append((CATEGORY_LABEL[category], *values, _h(f.category_minutes(category))))
    sums = [_h(sum(f.type_minutes(t, c) for c in HoursCategory)) for t in types_all]
    category_rows.append(("Summe", *sums, _h(f.total_logged_minutes)))
    out.append(
        View(
            "Kategorien",
            ("Kategorie", *(f"{_type_label(t)} (Std.)" for t in types_all), "Summe (Std.)"),
            (None, *(HOURS for _ in types_all), HOURS),
            category_rows,
        )
    )
    out.append(
        View(
            "Ausfälle",
            ("Grund", "Termine", "Stunden"),
            (None, COUNT, HOURS),
            [
                (
                    MISSED_REASON_LABEL[reason],
                    f.missed_count_by_reason.get(reason, 0),
                    _h(f.missed_by_reason.get(reason, 0)),
                )
                for reason in MissedReason
            ],
        )
    )
    if report.staff_rows or report.people:
        # Everyone active, with 0 where nothing was logged, and whoever else logged hours.
        per: dict[int, dict[HoursCategory, int]] = {}
        who: dict[int, tuple[str, str, StaffType | None]] = {
            p.id: (p.handle, p.name, p.staff_type) for p in report.people if p.id is not None
        }
        for p in who:
            per[p] = {}
        for row in report.staff_rows:
            per.setdefault(row.staff_id, {})[row.category] = row.minutes
            who[row.staff_id] = (row.handle, row.name, row.staff_type)
        out.append(
            View(
                "Mitarbeitende",
                (
                    "Kürzel",
                    "Name",
                    "Typ",
                    *(f"{CATEGORY_LABEL[c]} (Std.)" for c in HoursCategory),
                    "Summe (Std.)",
                ),
                (None, None, None, *(HOURS for _ in HoursCategory), HOURS),
                [
                    (
                        who[s][0],
                        who[s][1],
                        _type_label(who[s][2]),
                        *(_h(per[s].get(c, 0)) for c in HoursCategory),
                        _h(sum(per[s].values())),
                    )
                    for s in sorted(who, key=lambda s: who[s][0])
                ],
            )
        )
    if report.cases:
        out.append(
            View(
                "Fälle",
                ("Aktenzeichen", "Kategorie", "Stunden", "Einträge"),
                (None, None, HOURS, COUNT),
                [(code, CATEGORY_LABEL[c], _h(m), n) for code, c, m, n in report.cases],
            )
        )
    if report.results or report.corrections:  # every provider report has the sheet
        out.append(
            View(
                "Korrekturen",
                (
                    "korrigiert am",
                    "Eintrag",
                    "Tag des Eintrags",
                    "vorher (Std.)",
                    "nachher (Std.)",
                    "von",
                    "Grund",
                ),
                (DATE, None, DATE, HOURS, HOURS, None, None),
                [
                    (
                        c.at.date(),
                        f"#{e.id}",
                        e.day,
                        _h(c.old_minutes),
                        _h(c.new_minutes) if c.new_minutes is not None else None,
                        handle,
                        c.reason,
                    )
                    for c, e, handle in report.corrections
                ],
            )
        )
    return out


_OVERVIEW_FORMAT = {"Std.": HOURS, "%": PERCENT}


def xlsx(report: Report) -> bytes:
    """One workbook, one sheet per view."""
    book = Workbook()
    first = True
    for view in views(report):
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = view.title[:31]
        sheet.append(list(view.header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in view.rows:
            sheet.append([_xlsx_value(v) for v in row])
            r = sheet.max_row
            for i, fmt in enumerate(view.formats, start=1):
                value = sheet.cell(r, i).value
                if view.title == "Übersicht" and i == 2:
                    if isinstance(value, date | datetime):
                        fmt = DATE
                    elif isinstance(value, float | int):
                        fmt = _OVERVIEW_FORMAT.get(str(row[2]), COUNT)
                if fmt and value is not None:
                    sheet.cell(r, i).number_format = fmt
        for column, title in enumerate(view.header, start=1):
            width = max([len(title), *(len(_csv_value(row[column - 1])) for row in view.rows)])
            sheet.column_dimensions[sheet.cell(1, column).column_letter].width = min(width + 2, 60)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Cell) -> Cell:
    return value


def _csv_value(value: Cell, fmt: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"
    if isinstance(value, float):
        if fmt == PERCENT:
            return f"{value * 100:.1f}".replace(".", ",")
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def csv_files(report: Report, stem: str) -> list[tuple[str, bytes]]:
    """One CSV file per view: (file name, bytes)."""
    files: list[tuple[str, bytes]] = []
    for view in views(report):
        text = io.StringIO()
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
        writer.writerow(view.header)
        for row in view.rows:
            formats = list(view.formats)
            if view.title == "Übersicht":
                formats[1] = _OVERVIEW_FORMAT.get(str(row[2]))
            writer.writerow([_csv_value(v, f) for v, f in zip(row, formats, strict=True)])
        name = f"{stem}_{_ascii(view.title)}.csv"
        files.append((name, ("\ufeff" + text.getvalue()).encode("utf-8")))
    return files


def _ascii(text: str) -> str:
    table = str.maketrans(
        {"Ü": "Ue", "ü": "ue", "ä": "ae", "ö": "oe", "Ä": "Ae", "Ö": "Oe", "ß": "ss"}
    )
    return text.translate(table).lower()
