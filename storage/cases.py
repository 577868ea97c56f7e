"""Cases, their meetings and coordination requests, and the deadlines derived from them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, case
from sqlmodel import Session, col, func, select

from storage.enums import CaseStatus, DeadlineKind, DeadlineStatus, OrgKind, Role
from storage.models import Case, CoordinationRequest, Deadline, Meeting, Organisation, Staff


@dataclass(frozen=True)
class DeadlineSpec:
    """What the chain says a deadline should be (storage does not know the rules)."""

    key: str
    kind: DeadlineKind
    rule: str
    due: date


@dataclass
class ChainChanges:
    added: list[Deadline] = field(default_factory=list)
    moved: list[tuple[Deadline, date]] = field(default_factory=list)  # with the old due date
    cancelled: list[Deadline] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.moved or self.cancelled)


def case_by_code(session: Session, code: str) -> Case | None:
    return session.exec(select(Case).where(Case.code == code.upper())).first()


def visible_cases_clause(staff: Staff, side: OrgKind) -> ColumnElement[bool]:
    """P2: caseworkers see the cases they are responsible for, coordinators their organisation's."""
    if staff.role is Role.coordinator:
        org_col = Case.provider_org_id if side is OrgKind.provider else Case.jugendamt_org_id
        return col(org_col) == staff.organisation_id
    staff_col = Case.provider_staff_id if side is OrgKind.provider else Case.asd_staff_id
    return col(staff_col) == staff.id


def can_see_case(staff: Staff, side: OrgKind, case: Case) -> bool:
    if staff.role is Role.coordinator:
        org = case.provider_org_id if side is OrgKind.provider else case.jugendamt_org_id
        return org == staff.organisation_id
    return staff.id in (case.provider_staff_id, case.asd_staff_id)


def visible_cases(
    session: Session, staff: Staff, side: OrgKind, *, include_closed: bool = False
) -> list[Case]:
    query = select(Case).where(visible_cases_clause(staff, side)).order_by(col(Case.code))
    if not include_closed:
        query = query.where(Case.status == CaseStatus.open)
    return list(session.exec(query))


def meetings_of(
    session: Session, case_id: int, *, include_cancelled: bool = False
) -> list[Meeting]:
    query = select(Meeting).where(Meeting.case_id == case_id).order_by(col(Meeting.starts_at))
    if not include_cancelled:
        query = query.where(col(Meeting.cancelled).is_(False))
    return list(session.exec(query))


def coordinations_of(session: Session, case_id: int) -> list[CoordinationRequest]:
    return list(
        session.exec(
            select(CoordinationRequest)
            .where(CoordinationRequest.case_id == case_id)
            .order_by(col(CoordinationRequest.id))
        )
    )


def deadlines_of_case(session: Session, case_id: int) -> list[Deadline]:
    return list(
        session.exec(
            select(Deadline)
            .where(Deadline.case_id == case_id)
            .order_by(col(Deadline.due), col(Deadline.id))
        )
    )


def sync_deadlines(
    session: Session,
    existing: Sequence[Deadline],
    wanted: Iterable[DeadlineSpec],
    *,
    case_id: int | None,
    organisation_id: int,
    now: datetime,
) -> ChainChanges:
    """Make the stored deadlines match the derived ones, keyed by `key`.

    Done deadlines are history and stay as they are; open ones move with their rule;
    open ones no longer derived are cancelled; cancelled ones derived again reopen.
    """
    changes = ChainChanges()
    by_key = {d.key: d for d in existing}
    seen: set[str] = set()
    for spec in wanted:
        seen.add(spec.key)
        current = by_key.get(spec.key)
        if current is None:
            deadline = Deadline(
                key=spec.key,
                case_id=case_id,
                organisation_id=organisation_id,
                kind=spec.kind,
                rule=spec.rule,
                due=spec.due,
                updated_at=now,
            )
            session.add(deadline)
            changes.added.append(deadline)
        elif current.status is DeadlineStatus.cancelled:
            current.status, current.due, current.rule, current.updated_at = (
                DeadlineStatus.open,
                spec.due,
                spec.rule,
                now,
            )
            changes.added.append(current)
        elif current.status is DeadlineStatus.open and (
            current.due != spec.due or current.rule != spec.rule
        ):
            old = current.due
            current.due, current.rule, current.updated_at = spec.due, spec.rule, now
            if old != spec.due:
                changes.moved.append((current, old))
    for deadline in existing:
        if deadline.key not in seen and deadline.status is DeadlineStatus.open:
            deadline.status, deadline.updated_at = DeadlineStatus.cancelled, now
            changes.cancelled.append(deadline)
    session.flush()
    return changes


def org_deadlines(session: Session, organisation_id: int) -> list[Deadline]:
    return list(
        session.exec(
            select(Deadline).where(
                Deadline.organisation_id == organisation_id, col(Deadline.case_id).is_(None)
            )
        )
    )


@dataclass(frozen=True)
class DeadlinePage:
    rows: list[tuple[Deadline, str | None]]  # soonest first, with the case code
    total: int
    overdue: int


def open_deadlines_for(
    session: Session, staff: Staff, side: OrgKind, *, today: date, until: date | None, limit: int
) -> DeadlinePage:
    """Open deadlines the person is responsible for: one page and the counts over all of them.

    Coordinators of a provider see every deadline stored under their organisation: those of
    its cases (a deadline carries its case's provider) and its own, like the annual report (C5).
    """
    conditions: list[ColumnElement[bool]] = [col(Deadline.status) == DeadlineStatus.open]
    if until is not None:
        conditions.append(col(Deadline.due) <= until)
    by_org = staff.role is Role.coordinator and side is OrgKind.provider
    if by_org:
        conditions.append(col(Deadline.organisation_id) == staff.organisation_id)
    else:
        conditions.append(visible_cases_clause(staff, side))
    overdue = func.coalesce(func.sum(case((col(Deadline.due) < today, 1), else_=0)), 0)
    counts = select(func.count(), overdue).select_from(Deadline)
    page = select(Deadline, Case.code)
    if by_org:
        page = page.outerjoin(Case, col(Case.id) == col(Deadline.case_id))
    else:
        counts = counts.join(Case, col(Case.id) == col(Deadline.case_id))
        page = page.join(Case, col(Case.id) == col(Deadline.case_id))
    total, late = session.exec(counts.where(*conditions)).one()
    rows = session.exec(
        page.where(*conditions).order_by(col(Deadline.due), col(Deadline.id)).limit(limit)
    ).all()
    return DeadlinePage([(d, code) for d, code in rows], int(total), int(late))


def side_of(session: Session, staff: Staff) -> OrgKind:
    org = session.get(Organisation, staff.organisation_id)
    assert org is not None
    return org.kind


def cases_due_for_next_report(session: Session, today: date) -> list[Case]:
    """Open cases whose periodic report series has no deadline after `today` yet.

    The chain derives periodic reports up to the first one after the day it was computed;
    as time passes that one falls due, and a recomputation adds the next (C1, D2).
    """
    latest = (
        select(col(Deadline.case_id), func.max(Deadline.due).label("last_due"))
        .where(col(Deadline.key).like("case:%:report:periodic:%"))
        .group_by(col(Deadline.case_id))
        .subquery()
    )
    return list(
        session.exec(
            select(Case)
            .join(latest, latest.c.case_id == col(Case.id))
            .where(Case.status == CaseStatus.open, latest.c.last_due <= today)
            .order_by(col(Case.id))
        )
    )
