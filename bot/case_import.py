"""Writing a checked case list (bot/case_plan.py) in the caller's transaction.

New cases get their deadline chains from the same rules as `/fall_neu` (scheduler.chain,
C1/C2), in multi-row inserts; changed cases go through `recompute_chain` like the chat
commands. Nothing is committed here: the caller commits once everything was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from bot.case_plan import CaseUpdate, ImportPlan, NewCase, Progress, chain_of, no_progress
from config.enums import CaseStatus, DeadlineStatus, MeetingKind
from config.settings import Settings
from scheduler.casework import recompute_chain
from scheduler.workdays import WorkCalendar
from storage import audit
from storage import case_import as store
from storage.models.cases import Case, Meeting
from storage.planning import replan_case


@dataclass(frozen=True)
class ImportResult:
    created: int
    changed: int
    deadlines: int  # of the new cases
    done: int  # of them recorded as done (--done-before)


def apply_import(
    session: Session,
    plan: ImportPlan,
    *,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
    done_before: date | None = None,
    progress: Progress = no_progress,
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
        for d in chain_of(case_id, new.row, hpg, settings, calendar, now):
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
