"""Closed quarters (their entries are locked), corrections of entries, and how ended helps
went on (issue 7). A quarter is (year, number 1-4), as `scheduler.controlling.Quarter` holds it."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col
from sqlmodel import select as sm_select

from storage.models.hours import HelpOutcome, HoursCorrection, HoursEntry, QuarterClosing
from storage.models.staff import Staff


def closing(session: Session, org_id: int, year: int, number: int) -> QuarterClosing | None:
    return session.exec(
        sm_select(QuarterClosing).where(
            QuarterClosing.organisation_id == org_id,
            QuarterClosing.year == year,
            QuarterClosing.quarter == number,
        )
    ).first()


def closed_quarters(session: Session, org_id: int) -> list[tuple[int, int]]:
    """(year, number) of the organisation's closed quarters, oldest first."""
    return [
        (c.year, c.quarter)
        for c in session.exec(
            sm_select(QuarterClosing)
            .where(QuarterClosing.organisation_id == org_id)
            .order_by(col(QuarterClosing.year), col(QuarterClosing.quarter))
        )
    ]


def close_quarter(
    session: Session,
    org_id: int,
    year: int,
    number: int,
    days: tuple[date, date],
    staff_id: int,
    now: datetime,
) -> QuarterClosing:
    row = QuarterClosing(
        organisation_id=org_id,
        year=year,
        quarter=number,
        first_day=days[0],
        last_day=days[1],
        closed_at=now,
        closed_by=staff_id,
    )
    session.add(row)
    session.flush()
    return row


def org_entry(session: Session, org_id: int, entry_id: int) -> tuple[HoursEntry, Staff] | None:
    """An entry of the organisation (withdrawn ones included) with its author."""
    row = session.exec(
        sm_select(HoursEntry, Staff)
        .join(Staff, col(Staff.id) == col(HoursEntry.staff_id))
        .where(HoursEntry.id == entry_id, HoursEntry.organisation_id == org_id)
    ).first()
    return None if row is None else (row[0], row[1])


def add_correction(
    session: Session,
    entry: HoursEntry,
    staff_id: int,
    new_minutes: int | None,
    reason: str,
    now: datetime,
) -> HoursCorrection:
    correction = HoursCorrection(
        entry_id=entry.id or 0,
        corrected_by=staff_id,
        at=now,
        old_minutes=entry.minutes,
        new_minutes=new_minutes,
        reason=reason,
    )
    session.add(correction)
    if new_minutes is None:
        entry.deleted_at = now
    else:
        entry.minutes = new_minutes
    session.flush()
    return correction


def corrections_between(
    session: Session, org_id: int, first: date, last: date
) -> list[tuple[HoursCorrection, HoursEntry, str]]:
    """Corrections of entries dated in [first, last], with the corrector's handle."""
    return [
        (c, e, handle)
        for c, e, handle in session.exec(
            sm_select(HoursCorrection, HoursEntry, Staff.handle)
            .join(HoursEntry, col(HoursEntry.id) == col(HoursCorrection.entry_id))
            .join(Staff, col(Staff.id) == col(HoursCorrection.corrected_by))
            .where(
                HoursEntry.organisation_id == org_id,
                col(HoursEntry.day) >= first,
                col(HoursEntry.day) <= last,
            )
            .order_by(col(HoursCorrection.id))
        )
    ]


def record_outcome(
    session: Session, case_id: int, follow_up_outside: bool, staff_id: int, now: datetime
) -> bool | None:
    """Record (or change) how an ended help went on; returns the previous value."""
    row = session.exec(sm_select(HelpOutcome).where(HelpOutcome.case_id == case_id)).first()
    if row is None:
        session.add(
            HelpOutcome(
                case_id=case_id,
                follow_up_outside=follow_up_outside,
                recorded_by=staff_id,
                recorded_at=now,
            )
        )
        return None
    old = row.follow_up_outside
    row.follow_up_outside = follow_up_outside
    row.recorded_by = staff_id
    row.recorded_at = now
    return old
