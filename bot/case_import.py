"""Importing an agency's case list: check every row, then write all of it in one transaction.

`plan_import` reads nothing but the database and decides, per row, whether it creates a case,
changes one that exists (same code: updated, never doubled) or is refused, with a German
reason. `apply_import` writes the plan. New cases get their deadline chains from the same
rules as `/fall_neu` (scheduler.chain, C1/C2), in multi-row inserts; changed cases go through
`recompute_chain` like the chat commands. The caller owns the transaction: nothing is
committed unless everything was written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlmodel import Session

from bot.case_file import CaseFile
from bot.case_rows import CaseRow, RowError, parse_row
from bot.casework import recompute_chain
from bot.errors import UserError
from bot.formatting import LEGAL_BASIS_LABEL, STAFF_TYPE_LABEL, fmt_date, fmt_datetime
from config.settings import Settings
from scheduler.chain import CaseFacts, DerivedDeadline, MeetingFact, derive_case_deadlines
from scheduler.workdays import WorkCalendar
from storage import audit
from storage import case_import as store
from storage.case_import import ExistingCase, StaffInfo
from storage.enums import CaseStatus, DeadlineStatus, MeetingKind, StaffType
from storage.models import Case, Meeting
from storage.outbox import replan_case

DEFAULT_HPG_TIME = time(9, 0)  # as /hpg without a time

Progress = Callable[[int], None]


def _no_progress(_: int) -> None:
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


@dataclass(frozen=True)
class ImportResult:
    created: int
    changed: int
    deadlines: int  # of the new cases
    done: int  # of them recorded as done (--done-before)


def plan_import(
    session: Session,
    case_file: CaseFile,
    *,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
    progress: Progress = _no_progress,
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


def _chain(
    case_id: int,
    row: CaseRow,
    hpg: tuple[int, datetime] | None,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
) -> list[DerivedDeadline]:
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
    return _chain(
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


def apply_import(
    session: Session,
    plan: ImportPlan,
    *,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
    done_before: date | None = None,
    progress: Progress = _no_progress,
) -> ImportResult:
    """Write the plan in the caller's transaction; refused rows are left out."""
    deadlines = done = 0
    for start in range(0, len(plan.new), store.CHUNK):
        chunk = plan.new[start : start + store.CHUNK]
        written, finished = _write_new(session, chunk, settings, calendar, now, done_before)
        deadlines, done = deadlines + written, done + finished
        progress(len(chunk))
    for update in plan.changed:
        _write_update(session, update, settings, calendar, now)
        progress(1)
    if plan.new or plan.changed:
        store.feeds_changed(session)
    return ImportResult(len(plan.new), len(plan.changed), deadlines, done)


def _write_new(
    session: Session,
    chunk: list[NewCase],
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
    done_before: date | None,
) -> tuple[int, int]:
    case_ids = store.insert_cases(
        session,
        [
            {
                "code": new.row.code,
                "legal_basis": new.row.legal_basis,
                "start_date": new.row.start_date,
                "provider_org_id": new.row.provider_org_id,
                "jugendamt_org_id": new.row.jugendamt_org_id,
                "provider_staff_id": None
                if new.row.provider_staff is None
                else new.row.provider_staff.id,
                "asd_staff_id": None if new.row.asd_staff is None else new.row.asd_staff.id,
                "child_protection": new.child_protection,
                "recommended_staff_type": new.recommended,
                "report_interval_months": new.row.report_interval_months,
                "status": CaseStatus.open,
                "closed_on": None,
                "created_at": now,
            }
            for new in chunk
        ],
    )
    with_hpg = [(case_id, new) for case_id, new in zip(case_ids, chunk, strict=True) if new.hpg_at]
    meeting_ids = store.insert_meetings(
        session,
        [
            {
                "case_id": case_id,
                "kind": MeetingKind.hpg,
                "starts_at": new.hpg_at,
                "cancelled": False,
                "created_at": now,
                "sequence": 0,
                "updated_at": now,
            }
            for case_id, new in with_hpg
        ],
    )
    meeting_of = {case_id: m for (case_id, _), m in zip(with_hpg, meeting_ids, strict=True)}
    rows: list[dict[str, Any]] = []
    done = 0
    for case_id, new in zip(case_ids, chunk, strict=True):
        hpg = None if new.hpg_at is None else (meeting_of[case_id], new.hpg_at)
        for d in _chain(case_id, new.row, hpg, settings, calendar, now):
            finished = done_before is not None and d.due < done_before
            done += finished
            rows.append(
                {
                    "key": d.key,
                    "case_id": case_id,
                    "organisation_id": new.row.provider_org_id,
                    "jugendamt_org_id": new.row.jugendamt_org_id,
                    "kind": d.kind,
                    "rule": d.rule,
                    "due": d.due,
                    "status": DeadlineStatus.done if finished else DeadlineStatus.open,
                    "done_at": now if finished else None,
                    "done_by": None,
                    "updated_at": now,
                    "sequence": 0,
                }
            )
    store.insert_deadlines(session, rows)
    store.insert_audit(
        session,
        at=now,
        action="import",
        entity="case",
        entries=[
            (
                case_id,
                {
                    "code": new.row.code,
                    "legal_basis": new.row.legal_basis.value,
                    "child_protection": new.child_protection,
                    "line": new.row.line,
                },
            )
            for case_id, new in zip(case_ids, chunk, strict=True)
        ],
    )
    return len(rows), done


def _write_update(
    session: Session, update: CaseUpdate, settings: Settings, calendar: WorkCalendar, now: datetime
) -> None:
    case = session.get(Case, update.existing.id)
    assert case is not None
    for attribute, value in update.values.items():
        setattr(case, attribute, value)
    if update.hpg_at is not None:
        meeting = (
            None
            if update.existing.next_hpg_id is None
            else session.get(Meeting, update.existing.next_hpg_id)
        )
        if meeting is None:
            meeting = Meeting(
                case_id=case.id or 0, kind=MeetingKind.hpg, starts_at=update.hpg_at, created_at=now
            )
            session.add(meeting)
        meeting.starts_at, meeting.updated_at = update.hpg_at, now
    session.flush()
    recompute_chain(session, case, calendar=calendar, periods=settings.periods, now=now)
    if update.staff_changed:
        replan_case(session, case.id or 0, now)  # reminders planned ahead follow the case
    audit.record(
        session,
        at=now,
        actor="cli",
        action="import_update",
        entity="case",
        entity_id=case.id,
        details={
            "code": case.code,
            "fields": ",".join(sorted([*update.values, *(["next_hpg"] if update.hpg_at else [])])),
            "line": update.row.line,
        },
    )
