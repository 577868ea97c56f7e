"""Cases, their meetings and coordination requests, and the deadlines derived from them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, case
from sqlmodel import Session, col, func, select

from config.enums import CaseStatus, DeadlineKind, DeadlineStatus, OrgKind, Role
from storage.models.cases import Case, CoordinationRequest, Deadline, Meeting
from storage.models.staff import Organisation, Staff


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


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]  # by code
    total: int


def visible_cases_page(
    session: Session, staff: Staff, side: OrgKind, *, include_closed: bool, limit: int
) -> CasePage:
    """The first `limit` cases the person may see, by code, and how many there are.

    Both read one of the hzcase (visibility, status, code) indexes: the count from the index
    alone, the page in index order (issue 18).
    """
    conditions = [visible_cases_clause(staff, side)]
    if not include_closed:
        conditions.append(col(Case.status) == CaseStatus.open)
    total = session.exec(select(func.count()).select_from(Case).where(*conditions)).one()
    cases = session.exec(select(Case).where(*conditions).order_by(col(Case.code)).limit(limit))
    return CasePage(list(cases), int(total))


def next_open_deadlines(session: Session, case_ids: Sequence[int]) -> dict[int, Deadline]:
    """The soonest open deadline of each of these cases (one query for a page of cases)."""
    if not case_ids:
        return {}
    rows = session.exec(
        select(Deadline)
        .where(col(Deadline.case_id).in_(list(case_ids)), Deadline.status == DeadlineStatus.open)
        .order_by(col(Deadline.due).desc(), col(Deadline.id).desc())
    )
    return {d.case_id: d for d in rows if d.case_id is not None}  # the last one wins


def meetings_of(
    session: Session, case_id: int, *, include_cancelled: bool = False
) -> list[Meeting]:
    query = select(Meeting).where(Meeting.case_id == case_id).order_by(col(Meeting.starts_at))
    if not include_cancelled:
        query = query.where(col(Meeting.cancelled).is_(False))
    return list(session.exec(query))


def cancel_meetings_from(session: Session, case_id: int, now: datetime) -> list[Meeting]:
    """C4: a closed case's meetings still to come are cancelled (no longer listed or reminded)."""
    cancelled = [m for m in meetings_of(session, case_id) if m.starts_at > now]
    for meeting in cancelled:
        meeting.cancelled, meeting.updated_at = True, now  # updated_at: LAST-MODIFIED in feeds
    session.flush()
    return cancelled


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
    jugendamt_org_id: int | None,
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
                jugendamt_org_id=jugendamt_org_id,
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

    The cost follows what the person may see, not the database (issue 18). Coordinators read
    their organisation's open deadlines by date from (organisation, status, due): a provider's
    are those of its cases (a deadline carries its case's provider) and its own, like the
    annual report (C5); an ASD office's those of its cases. Caseworkers start from their cases
    and reach the open deadlines through (case, status, due).
    """
    conditions: list[ColumnElement[bool]] = [col(Deadline.status) == DeadlineStatus.open]
    if until is not None:
        conditions.append(col(Deadline.due) <= until)
    overdue = func.coalesce(func.sum(case((col(Deadline.due) < today, 1), else_=0)), 0)
    if staff.role is Role.coordinator:
        org_col = (
            Deadline.organisation_id if side is OrgKind.provider else Deadline.jugendamt_org_id
        )
        conditions.append(col(org_col) == staff.organisation_id)
        counts = select(func.count(), overdue).select_from(Deadline)
        page = select(Deadline, Case.code).outerjoin(Case, col(Case.id) == col(Deadline.case_id))
    else:
        conditions.append(visible_cases_clause(staff, side))
        counts = (
            select(func.count(), overdue)
            .select_from(Case)
            .join(Deadline, col(Deadline.case_id) == col(Case.id))
        )
        page = (
            select(Deadline, Case.code)
            .select_from(Case)
            .join(Deadline, col(Deadline.case_id) == col(Case.id))
        )
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
