"""Checking an agency's case list against the database: what it creates, changes, refuses.

`plan_import` reads nothing but the database and decides, per row, whether it creates a case,
changes one that exists (same code: updated, never doubled) or is refused, with a German
reason, as `/fall_neu` and `/zuweisen` would decide (C6). bot/case_import.py writes the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlmodel import Session

from bot.case_file import CaseFile
from bot.case_rows import CaseRow, RowError, parse_row
from bot.errors import UserError
from bot.formatting import LEGAL_BASIS_LABEL, STAFF_TYPE_LABEL, fmt_date, fmt_datetime
from config.enums import CaseStatus, MeetingKind, StaffType
from config.settings import Settings
from scheduler.chain import CaseFacts, DerivedDeadline, MeetingFact, derive_case_deadlines
from scheduler.workdays import WorkCalendar
from storage import case_import as store
from storage.case_import import ExistingCase, StaffInfo

DEFAULT_HPG_TIME = time(9, 0)  # as /hpg without a time

Progress = Callable[[int], None]


def no_progress(_: int) -> None:
    pass


@dataclass(frozen=True)
class Refusal:
    line: int
    reason: str


@dataclass(frozen=True)
class NewCase:
    row: CaseRow
    recommended: StaffType
    child_protection: bool
    hpg_at: datetime | None


@dataclass(frozen=True)
class CaseUpdate:
    row: CaseRow
    existing: ExistingCase
    values: dict[str, Any]  # Case attribute -> new value
    hpg_at: datetime | None  # the next HPG, when it is new or moves
    changes: list[str]  # German, for the dry run

    @property
    def staff_changed(self) -> bool:
        return "provider_staff_id" in self.values or "asd_staff_id" in self.values


@dataclass
class ImportPlan:
    rows: int = 0
    new: list[NewCase] = field(default_factory=list)
    changed: list[CaseUpdate] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def plan_import(
    session: Session,
    case_file: CaseFile,
    *,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
    progress: Progress = no_progress,
) -> ImportPlan:
    """What the file would create and change, and every row it refuses (nothing is written)."""
    today = now.date()
    directory = store.load_directory(session)
    plan = ImportPlan(rows=len(case_file.rows))
    parsed: list[CaseRow] = []
    first_line: dict[str, int] = {}
    for raw in case_file.rows:
        try:
            row = parse_row(raw, directory, settings, today)
        except UserError as exc:
            plan.refused.append(Refusal(raw.line, str(exc)))
            continue
        if row.code in first_line:
            plan.refused.append(
                Refusal(
                    raw.line,
                    f"aktenzeichen: {row.code} steht schon in Zeile {first_line[row.code]}.",
                )
            )
            continue
        first_line[row.code] = raw.line
        parsed.append(row)
    existing = store.existing_cases(session, [r.code for r in parsed], now)
    staff_by_id = {s.id: s for s in directory.staff.values()}
    for row in parsed:
        try:
            current = existing.get(row.code)
            if current is None:
                plan.new.append(_new_case(row, settings))
            else:
                update = _update(row, current, staff_by_id, settings, now)
                if update is None:
                    plan.unchanged.append(row.code)
                else:
                    plan.changed.append(update)
        except UserError as exc:
            plan.refused.append(Refusal(row.line, str(exc)))
        progress(1)
    progress(len(case_file.rows) - len(parsed))
    plan.refused.sort(key=lambda r: r.line)
    return plan


def _hpg_at(row: CaseRow, settings: Settings) -> datetime | None:
    if row.next_hpg is None:
        return None
    day, at = row.next_hpg
    return datetime.combine(day, at or DEFAULT_HPG_TIME, tzinfo=settings.tz)


def _check_binding(child: bool, recommended: StaffType, person: StaffInfo | None) -> None:
    """C6, as /fall_neu and /zuweisen check it."""
    if child and person is not None and person.staff_type not in (None, recommended):
        raise RowError(
            "fachkraft_traeger",
            f"Der Fall ist kinderschutzrelevant: Die Empfehlung "
            f"({STAFF_TYPE_LABEL[recommended]}) ist bindend, {person.handle} ist "
            f"{STAFF_TYPE_LABEL[person.staff_type or recommended]}.",
        )


def chain_of(
    case_id: int,
    row: CaseRow,
    hpg: tuple[int, datetime] | None,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
) -> list[DerivedDeadline]:
    """The deadline chain of a new case (C1, and C2 for its next HPG), as /fall_neu derives it."""
    facts = CaseFacts(
        id=case_id,
        start_date=row.start_date,
        report_interval_months=row.report_interval_months,
        meetings=()
        if hpg is None
        else (MeetingFact(hpg[0], MeetingKind.hpg, hpg[1].astimezone(now.tzinfo).date()),),
    )
    return derive_case_deadlines(facts, calendar, settings.periods, now.date())


def _new_case(row: CaseRow, settings: Settings) -> NewCase:
    child = bool(row.child_protection)
    if child and row.recommended is None:
        raise RowError(
            "empfehlung",
            "Bei kinderschutzrelevanten Fällen bitte die verbindliche Empfehlung angeben "
            "(fk oder semi).",
        )
    person = row.provider_staff
    recommended = row.recommended or (person.staff_type if person else None) or StaffType.fachkraft
    _check_binding(child, recommended, person)
    return NewCase(row, recommended, child, _hpg_at(row, settings))


def preview(
    new: NewCase, settings: Settings, calendar: WorkCalendar, now: datetime
) -> list[DerivedDeadline]:
    """The chain a new case will get, for the dry run (its id is not known yet)."""
    return chain_of(
        0, new.row, None if new.hpg_at is None else (0, new.hpg_at), settings, calendar, now
    )


def _handle(staff_by_id: dict[int, StaffInfo], staff_id: int | None) -> str:
    person = None if staff_id is None else staff_by_id.get(staff_id)
    return "–" if person is None else person.handle


def _update(
    row: CaseRow,
    current: ExistingCase,
    staff_by_id: dict[int, StaffInfo],
    settings: Settings,
    now: datetime,
) -> CaseUpdate | None:
    if row.provider_org_id != current.provider_org_id:
        raise RowError(
            "traeger", "Der Fall gehört zu einem anderen Träger; das ändert der Import nicht."
        )
    if row.jugendamt_org_id != current.jugendamt_org_id:
        raise RowError(
            "asd", "Der Fall gehört zu einem anderen ASD-Büro; das ändert der Import nicht."
        )
    values: dict[str, Any] = {}
    changes: list[str] = []

    def differs(
        attribute: str, old: Any, new: Any, label: str, shown: Callable[[Any], str]
    ) -> None:
        if new is not None and new != old:
            values[attribute] = new
            changes.append(f"{label} {shown(old)} → {shown(new)}")

    differs(
        "legal_basis",
        current.legal_basis,
        row.legal_basis,
        "Rechtsgrundlage",
        lambda b: LEGAL_BASIS_LABEL[b],
    )
    differs("start_date", current.start_date, row.start_date, "Hilfebeginn", fmt_date)
    for attribute, old, person, label in (
        ("provider_staff_id", current.provider_staff_id, row.provider_staff, "Fachkraft Träger"),
        ("asd_staff_id", current.asd_staff_id, row.asd_staff, "Fachkraft ASD"),
    ):
        differs(
            attribute,
            old,
            None if person is None else person.id,
            label,
            lambda i: _handle(staff_by_id, i),
        )
    differs(
        "recommended_staff_type",
        current.recommended,
        row.recommended,
        "Empfehlung",
        lambda t: STAFF_TYPE_LABEL[t],
    )
    differs(
        "child_protection",
        current.child_protection,
        row.child_protection,
        "kinderschutzrelevant",
        lambda b: "ja" if b else "nein",
    )
    interval = settings.periods.report_interval_months
    differs(
        "report_interval_months",
        current.report_interval_months or interval,
        row.report_interval_months,
        "Berichtsintervall",
        lambda m: f"{m} Monate",
    )
    hpg_at = None
    if row.next_hpg is not None:
        day, at = row.next_hpg
        planned = None if current.next_hpg is None else current.next_hpg.astimezone(settings.tz)
        if planned is None or planned.date() != day or (at is not None and planned.time() != at):
            hpg_at = datetime.combine(
                day, at or (planned.time() if planned else DEFAULT_HPG_TIME), settings.tz
            )
            changes.append(
                f"nächstes HPG {fmt_datetime(hpg_at)}"
                if planned is None
                else f"HPG verlegt {fmt_datetime(planned)} → {fmt_datetime(hpg_at)}"
            )
    if not changes:
        return None
    if current.status is CaseStatus.closed:
        raise RowError(
            None, f"Der Fall {current.code} ist abgeschlossen; der Import ändert ihn nicht."
        )
    person_id = values.get("provider_staff_id", current.provider_staff_id)
    _check_binding(
        values.get("child_protection", current.child_protection),
        values.get("recommended_staff_type", current.recommended),
        None if person_id is None else staff_by_id.get(person_id),
    )
    return CaseUpdate(row, current, values, hpg_at, changes)
