"""The deadline chain of a case (DOMAIN.md C1-C5), derived from its facts; pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from config.agreement import Periods
from config.enums import DeadlineKind, MeetingKind
from scheduler.deadlines import (
    latest_followup,
    periodic_due,
    weeks_after,
    weeks_before,
    working_days_after,
    yearly_fixed_due,
)
from scheduler.workdays import WorkCalendar


@dataclass(frozen=True)
class MeetingFact:
    id: int
    kind: MeetingKind
    day: date


@dataclass(frozen=True)
class CoordinationFact:
    id: int
    raised_on: date


@dataclass(frozen=True)
class CaseFacts:
    id: int
    start_date: date
    report_interval_months: int | None = None
    closed_on: date | None = None
    meetings: tuple[MeetingFact, ...] = ()
    coordinations: tuple[CoordinationFact, ...] = ()


@dataclass(frozen=True)
class DerivedDeadline:
    key: str
    kind: DeadlineKind
    rule: str
    due: date


def derive_case_deadlines(
    case: CaseFacts, cal: WorkCalendar, periods: Periods, today: date
) -> list[DerivedDeadline]:
    """Every deadline the case's facts imply, keyed stably so a recomputation updates in place.

    Periodic reports are derived up to the first one after `today` (or after the closing
    day); the rest of the series follows as time passes.
    """
    prefix = f"case:{case.id}"
    out = [
        DerivedDeadline(
            f"{prefix}:action_plan",
            DeadlineKind.action_plan,
            f"C1/D1: {periods.action_plan_weeks} Wochen nach Hilfebeginn",
            weeks_after(cal, case.start_date, periods.action_plan_weeks),
        ),
        DerivedDeadline(
            f"{prefix}:help_plan_review",
            DeadlineKind.help_plan_review,
            f"C1/D5: Ersthilfeplan gilt {periods.first_help_plan_months} Monate",
            latest_followup(cal, case.start_date, periods.first_help_plan_months),
        ),
    ]
    interval = case.report_interval_months or periods.report_interval_months
    horizon = case.closed_on or today
    k = 1
    while True:
        due = periodic_due(cal, case.start_date, interval, k)
        out.append(
            DerivedDeadline(
                f"{prefix}:report:periodic:{k}",
                DeadlineKind.report,
                f"C1/D2: alle {interval} Monate ab Hilfebeginn",
                due,
            )
        )
        if due > horizon:
            break
        k += 1
    for meeting in case.meetings:
        label = "HPG" if meeting.kind is MeetingKind.hpg else "Abschlussgespräch"
        out.append(
            DerivedDeadline(
                f"{prefix}:report:meeting:{meeting.id}",
                DeadlineKind.report,
                f"C2/D3: {periods.report_before_meeting_weeks} Wochen vor {label}",
                weeks_before(cal, meeting.day, periods.report_before_meeting_weeks),
            )
        )
    for request in case.coordinations:
        out.append(
            DerivedDeadline(
                f"{prefix}:coordination:{request.id}",
                DeadlineKind.coordination,
                f"C3/D4: {periods.coordination_working_days} Werktage nach Bedarf",
                working_days_after(cal, request.raised_on, periods.coordination_working_days),
            )
        )
    if case.closed_on is not None:
        # C4: closing cancels future deadlines; those already due stay until done.
        out = [d for d in out if d.due <= case.closed_on]
    return out


def derive_annual_reports(
    organisation_id: int, cal: WorkCalendar, periods: Periods
) -> list[DerivedDeadline]:
    """C5: the provider's yearly report, every year of the contract from the first one."""
    last_year = periods.contract_end.year + 1  # the report on the contract's final year
    return [
        DerivedDeadline(
            f"org:{organisation_id}:annual_report:{year}",
            DeadlineKind.annual_report,
            f"C5: Jahresbericht zum {periods.annual_report_day:02d}.{periods.annual_report_month:02d}.",
            yearly_fixed_due(cal, periods.annual_report_month, periods.annual_report_day, year),
        )
        for year in range(periods.annual_report_first_year, last_year + 1)
    ]
