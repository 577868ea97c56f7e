"""Hours entries (DOMAIN.md H1)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from config.enums import HoursCategory
from storage.models.cases import Case
from storage.models.hours import HoursEntry


def minutes_on_day(session: Session, staff_id: int, day: date) -> int:
    total = session.exec(
        select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
            HoursEntry.staff_id == staff_id,
            HoursEntry.day == day,
            col(HoursEntry.deleted_at).is_(None),
        )
    ).one()
    return int(total)


def entries_between(
    session: Session, staff_id: int, first: date, last: date
) -> list[tuple[HoursEntry, str | None]]:
    rows = session.exec(
        select(HoursEntry, Case.code)
        .outerjoin(Case, col(Case.id) == col(HoursEntry.case_id))
        .where(
            HoursEntry.staff_id == staff_id,
            col(HoursEntry.day) >= first,
            col(HoursEntry.day) <= last,
            col(HoursEntry.deleted_at).is_(None),
        )
        .order_by(col(HoursEntry.day), col(HoursEntry.id))
    ).all()
    return [(entry, code) for entry, code in rows]


def own_entry(session: Session, staff_id: int, entry_id: int | None) -> HoursEntry | None:
    """The person's entry with this id, or their most recent one when no id is given."""
    query = select(HoursEntry).where(
        HoursEntry.staff_id == staff_id, col(HoursEntry.deleted_at).is_(None)
    )
    if entry_id is not None:
        query = query.where(HoursEntry.id == entry_id)
    return session.exec(query.order_by(col(HoursEntry.id).desc())).first()


def same_entry(
    session: Session,
    staff_id: int,
    day: date,
    minutes: int,
    category: HoursCategory,
    case_id: int | None,
) -> HoursEntry | None:
    """The person's earliest valid entry exactly like this one (a probable duplicate)."""
    query = select(HoursEntry).where(
        HoursEntry.staff_id == staff_id,
        HoursEntry.day == day,
        HoursEntry.minutes == minutes,
        HoursEntry.category == category,
        col(HoursEntry.deleted_at).is_(None),
    )
    query = query.where(
        col(HoursEntry.case_id).is_(None) if case_id is None else HoursEntry.case_id == case_id
    )
    return session.exec(query.order_by(col(HoursEntry.id))).first()
