"""Figures of the hours controlling (issue 7): the aggregates of a scope and period.

Aggregates are computed in the database (GROUP BY over the covering index `ix_hours_org_day`)
and folded into figures by the pure rules of `scheduler.controlling`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, distinct, func, select
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from config.enums import CaseStatus, HoursCategory, MissedReason, StaffType
from storage.models.cases import Case
from storage.models.hours import (
    HelpOutcome,
    HoursEntry,
)
from storage.models.staff import Staff


@dataclass(frozen=True)
class Scope:
    """Whose hours a view covers: an organisation, one person, or cases (ASD view)."""

    organisation_id: int | None = None
    staff_id: int | None = None
    asd_staff_id: int | None = None  # cases this ASD caseworker is responsible for
    jugendamt_org_id: int | None = None  # cases of this ASD office

    @property
    def case_bound(self) -> bool:
        return self.asd_staff_id is not None or self.jugendamt_org_id is not None


class HoursTotal(NamedTuple):
    """Entries of one staff type, category and reason, summed (`scheduler.controlling.HoursRow`)."""

    staff_type: StaffType | None
    category: HoursCategory
    missed_reason: MissedReason | None
    minutes: int
    entries: int
    participants: int = 0


@dataclass(frozen=True)
class StaffRow:
    """One person's minutes in one category (the staff sheet of an export)."""

    staff_id: int
    handle: str
    name: str
    staff_type: StaffType | None
    category: HoursCategory
    minutes: int


def _where(
    scope: Scope, first: date, last: date, *, case_joined: bool = False
) -> list[ColumnElement[bool]]:
    """Conditions on hours entries; `case_joined` when the query also joins the entry's case.

    A case-bound scope (the ASD's view) starts from the cases of the person or the office
    (issue 18): a subquery of their ids, and, where the case is joined, the same condition
    on it, so neither SQLite nor PostgreSQL reads every organisation's quarter to find them.
    """
    where: list[ColumnElement[bool]] = [
        col(HoursEntry.day) >= first,
        col(HoursEntry.day) <= last,
        col(HoursEntry.deleted_at).is_(None),
    ]
    if scope.organisation_id is not None:
        where.append(col(HoursEntry.organisation_id) == scope.organisation_id)
    if scope.staff_id is not None:
        where.append(col(HoursEntry.staff_id) == scope.staff_id)
    if scope.case_bound:
        cases = select(col(Case.id))
        if scope.asd_staff_id is not None:
            cases = cases.where(col(Case.asd_staff_id) == scope.asd_staff_id)
        if scope.jugendamt_org_id is not None:
            cases = cases.where(col(Case.jugendamt_org_id) == scope.jugendamt_org_id)
        where.append(col(HoursEntry.case_id).in_(cases))
        if case_joined and scope.asd_staff_id is not None:
            where.append(col(Case.asd_staff_id) == scope.asd_staff_id)
        if case_joined and scope.jugendamt_org_id is not None:
            where.append(col(Case.jugendamt_org_id) == scope.jugendamt_org_id)
    return where


def staff_types(session: Session, staff_ids: Sequence[int]) -> dict[int, Staff]:
    ids = sorted(set(staff_ids))
    out: dict[int, Staff] = {}
    for start in range(0, len(ids), 500):
        for staff in session.exec(
            sm_select(Staff).where(col(Staff.id).in_(ids[start : start + 500]))
        ):
            assert staff.id is not None
            out[staff.id] = staff
    return out


def hours_rows(
    session: Session, scope: Scope, first: date, last: date
) -> tuple[list[HoursTotal], list[StaffRow]]:
    """Aggregates by staff type, category and missed reason, and per person and category."""
    where = _where(scope, first, last)
    # Minutes per person and category come from the covering index alone; the few rows with
    # a reason or participants (missed, group) are read separately.
    per_staff = session.execute(
        select(
            col(HoursEntry.staff_id),
            col(HoursEntry.category),
            func.sum(col(HoursEntry.minutes)),
            func.count(),
        )
        .where(*where)
        .group_by(col(HoursEntry.staff_id), col(HoursEntry.category))
    ).all()
    details = session.execute(
        select(
            col(HoursEntry.staff_id),
            col(HoursEntry.category),
            col(HoursEntry.missed_reason),
            func.sum(col(HoursEntry.minutes)),
            func.count(),
            func.coalesce(func.sum(col(HoursEntry.participants)), 0),
        )
        .where(
            *where,
            col(HoursEntry.category).in_([HoursCategory.missed, HoursCategory.group]),
        )
        .group_by(col(HoursEntry.staff_id), col(HoursEntry.category), col(HoursEntry.missed_reason))
    ).all()
    people = staff_types(session, [r[0] for r in per_staff])
    rows: list[HoursTotal] = []
    staff_rows: list[StaffRow] = []
    for staff_id, category, minutes, count in per_staff:
        category = HoursCategory(category)
        person = people.get(staff_id)
        staff_type = person.staff_type if person is not None else None
        staff_rows.append(
            StaffRow(
                staff_id,
                person.handle if person else "?",
                person.name if person else "?",
                staff_type,
                category,
                int(minutes),
            )
        )
        if category not in (HoursCategory.missed, HoursCategory.group):
            rows.append(HoursTotal(staff_type, category, None, int(minutes), int(count)))
    for staff_id, category, reason, minutes, count, participants in details:
        person = people.get(staff_id)
        rows.append(
            HoursTotal(
                person.staff_type if person is not None else None,
                HoursCategory(category),
                None if reason is None else MissedReason(reason),
                int(minutes),
                int(count),
                int(participants),
            )
        )
    return rows, staff_rows


def cases_served(session: Session, scope: Scope, first: date, last: date) -> int:
    """H5 "people helped in the period": distinct cases with direct hours."""
    return int(
        session.execute(
            select(func.count(distinct(col(HoursEntry.case_id)))).where(
                *_where(scope, first, last),
                col(HoursEntry.category) == HoursCategory.direct,
            )
        ).scalar_one()
    )


def helps_ended(session: Session, scope: Scope, first: date, last: date) -> tuple[int, int]:
    """(helps ended in the period, of them recorded as without follow-up help outside)."""
    where: list[Any] = [
        col(Case.status) == CaseStatus.closed,
        col(Case.closed_on) >= first,
        col(Case.closed_on) <= last,
    ]
    if scope.organisation_id is not None:
        where.append(col(Case.provider_org_id) == scope.organisation_id)
    if scope.staff_id is not None:
        where.append(col(Case.provider_staff_id) == scope.staff_id)
    if scope.asd_staff_id is not None:
        where.append(col(Case.asd_staff_id) == scope.asd_staff_id)
    if scope.jugendamt_org_id is not None:
        where.append(col(Case.jugendamt_org_id) == scope.jugendamt_org_id)
    ended, without = session.execute(
        select(
            func.count(col(Case.id)),
            func.count(col(HelpOutcome.id)).filter(col(HelpOutcome.follow_up_outside).is_(False)),
        )
        .select_from(Case)
        .outerjoin(HelpOutcome, col(HelpOutcome.case_id) == col(Case.id))
        .where(*where)
    ).one()
    return int(ended), int(without)


def direct_daily(session: Session, scope: Scope, first: date, last: date) -> list[tuple[date, int]]:
    """Direct minutes per day (few rows: folded into quarters by the caller)."""
    return [
        (day, int(minutes))
        for day, minutes in session.execute(
            select(col(HoursEntry.day), func.sum(col(HoursEntry.minutes)))
            .where(*_where(scope, first, last), col(HoursEntry.category) == HoursCategory.direct)
            .group_by(col(HoursEntry.day))
        )
    ]


def direct_by_type(
    session: Session, scope: Scope, first: date, last: date
) -> dict[StaffType | None, int]:
    """Direct minutes of a period by staff type."""
    per_staff = session.execute(
        select(col(HoursEntry.staff_id), func.sum(col(HoursEntry.minutes)))
        .where(*_where(scope, first, last), col(HoursEntry.category) == HoursCategory.direct)
        .group_by(col(HoursEntry.staff_id))
    ).all()
    people = staff_types(session, [r[0] for r in per_staff])
    out: dict[StaffType | None, int] = {}
    for staff_id, minutes in per_staff:
        person = people.get(staff_id)
        key = person.staff_type if person is not None else None
        out[key] = out.get(key, 0) + int(minutes)
    return out


def direct_by_case(
    session: Session, scope: Scope, first: date, last: date
) -> list[tuple[str, HoursCategory, int, int]]:
    """(case code, category, minutes, entries) of case-bound hours, by case code."""
    return [
        (code, HoursCategory(category), int(minutes), int(count))
        for code, category, minutes, count in session.execute(
            select(
                col(Case.code),
                col(HoursEntry.category),
                func.sum(col(HoursEntry.minutes)),
                func.count(),
            )
            .join(Case, col(Case.id) == col(HoursEntry.case_id))
            .where(*_where(scope, first, last, case_joined=True))
            .group_by(col(Case.code), col(HoursEntry.category))
            .order_by(col(Case.code), col(HoursEntry.category))
        )
    ]
