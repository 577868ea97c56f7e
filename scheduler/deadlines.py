"""Deadline arithmetic D1-D5 (§§ 187-193 BGB, § 26 SGB X) on a WorkCalendar."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from scheduler.workdays import WorkCalendar


def weeks_after(cal: WorkCalendar, event: date, weeks: int) -> date:
    """D1: `weeks` weeks after `event`, moved to the next working day (§ 193 BGB)."""
    return cal.next_working_day(event + timedelta(weeks=weeks))


def add_months(start: date, months: int) -> date:
    """`start` plus `months`; a day missing in the target month becomes its last day."""
    # 31.08. + 6 months is 28.02./29.02., as § 188 Abs. 3 BGB requires (what relativedelta
    # does, at a tenth of its cost: an import derives hundreds of thousands of these).
    years, month0 = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month0 + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def months_from(cal: WorkCalendar, start: date, months: int) -> date:
    """D2 single step: `start` plus `months`, moved to the next working day."""
    return cal.next_working_day(add_months(start, months))


def periodic_due(cal: WorkCalendar, start: date, interval_months: int, k: int) -> date:
    """D2: the `k`-th due date of a series every `interval_months` from `start`."""
    # Always from start, never chained: chaining 31.08. -> 28.02. -> 28.08. would drift.
    return months_from(cal, start, k * interval_months)


def weeks_before(cal: WorkCalendar, meeting: date, weeks: int) -> date:
    """D3: `weeks` weeks before `meeting`, moved back so the lead time is never shortened."""
    return cal.previous_working_day(meeting - timedelta(weeks=weeks))


def working_days_after(cal: WorkCalendar, event: date, n: int) -> date:
    """D4: the `n`-th working day after `event` (the event day does not count)."""
    return cal.nth_working_day_after(event, n)


def valid_until(start: date, months: int) -> date:
    """D5: last day of validity, `start` + `months` - 1 day, not shifted.

    § 188 Abs. 2 BGB ends the period on the day before the one matching `start` by number;
    where the target month has no such day (31.08. + 6 months), § 188 Abs. 3 ends it on
    that month's last day (28.02.), not one day earlier.
    """
    end = add_months(start, months)
    return end if end.day != start.day else end - timedelta(days=1)


def latest_followup(cal: WorkCalendar, start: date, months: int) -> date:
    """D5: latest day for the follow-up meeting: valid_until moved back to a working day."""
    return cal.previous_working_day(valid_until(start, months))


def yearly_fixed_due(cal: WorkCalendar, month: int, day: int, year: int) -> date:
    """A fixed date in `year` (e.g. 31.03. for C5), moved to the next working day."""
    return cal.next_working_day(date(year, month, day))
