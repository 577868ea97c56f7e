"""Hours-controlling reports: figures of a period for one view, rendered as German text.

Shared by the chat commands, `koopbot export`, the quarterly H3 evaluation and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from config.enums import HoursCategory, StaffType
from config.settings import Settings
from scheduler.controlling import (
    Figures,
    HoursRow,
    Quarter,
    QuarterResult,
    QuarterState,
    direct_by_quarter,
    evaluate_quarter,
    figures,
    quarter_target_minutes,
    quarters_between,
)
from scheduler.controlling_rule import RuleVerdict, rule_window
from scheduler.workdays import WorkCalendar
from storage import contracts, quarters
from storage import controlling as store
from storage.models.hours import Contract, HoursCorrection, HoursEntry
from storage.models.staff import Staff

HISTORY_QUARTERS = 4  # quarters before a single quarter shown in its chart


@dataclass
class Report:
    """The figures of one period for one scope, with the contract view where there is one."""

    title: str  # "Q3/2025", "2025", "KW 15/2025"
    org_name: str
    first: date
    last: date
    today: date
    figures: Figures
    threshold: int
    needed: int  # consecutive short quarters of H3
    contract: Contract | None = None
    planned: dict[int, int] = field(default_factory=dict)
    results: list[QuarterResult] = field(default_factory=list)  # the period's quarters
    history: list[QuarterResult] = field(default_factory=list)  # the chart: earlier + results
    rule: RuleVerdict | None = None  # the 90 % rule (scheduler.controlling_rule), with a contract
    settles: int = 50  # % of a quarter's working days after which its forecast is worth a warning
    calendar: WorkCalendar | None = None
    by_type: dict[Quarter, dict[StaffType | None, int]] = field(default_factory=dict)
    staff_rows: list[store.StaffRow] = field(default_factory=list)
    people: list[Staff] = field(default_factory=list)  # active staff, also without hours
    cases: list[tuple[str, HoursCategory, int, int]] = field(default_factory=list)
    closed: list[Quarter] = field(default_factory=list)
    corrections: list[tuple[HoursCorrection, HoursEntry, str]] = field(default_factory=list)

    @property
    def target_minutes(self) -> int | None:
        targets = [r.target_minutes for r in self.results if r.target_minutes is not None]
        return sum(targets) if targets else None


def target_for(contract: Contract | None, planned: dict[int, int], quarter: Quarter) -> int | None:
    """The quarter's target (H2), if the quarter lies in the contract term with planned hours."""
    if contract is None or quarter.last < contract.starts_on or quarter.first > contract.ends_on:
        return None
    hours = planned.get(quarter.year)
    return None if hours is None else quarter_target_minutes(hours)


def build(
    session: Session,
    settings: Settings,
    calendar: WorkCalendar,
    scope: store.Scope,
    *,
    title: str,
    org_name: str,
    first: date,
    last: date,
    today: date,
    contract_org_id: int | None = None,
    details: bool = True,
) -> Report:
    """Collect the figures of [first, last] for `scope`; the contract view for a provider."""
    c = settings.controlling
    rows, staff_rows = store.hours_rows(session, scope, first, last)
    ended, without = store.helps_ended(session, scope, first, last)
    report = Report(
        title=title,
        org_name=org_name,
        first=first,
        last=last,
        today=today,
        figures=figures(
            first,
            last,
            [HoursRow(*total) for total in rows],
            cases_served=store.cases_served(session, scope, first, last),
            helps_ended=ended,
            ended_without_follow_up=without,
            indirect_percent=c.indirect_percent,
        ),
        threshold=c.threshold_percent,
        needed=c.short_quarters,
        settles=c.forecast_from_percent,
        staff_rows=staff_rows if details else [],
    )
    if scope.case_bound:
        report.cases = store.direct_by_case(session, scope, first, last)
    if details and scope.organisation_id is not None:
        report.people = contracts.active_staff_of(session, scope.organisation_id)
    if contract_org_id is None:
        return report
    report.contract = contracts.contract_of(session, contract_org_id)
    if report.contract is not None and report.contract.id is not None:
        report.planned = contracts.planned_hours(session, report.contract.id)
    period = quarters_between(first, last)
    window = period
    for _ in range(HISTORY_QUARTERS):
        window = [window[0].previous(), *window]
    rule = rule_window(period[-1], today, c.short_quarters)
    wanted = sorted({*window, *rule.ended, *([rule.running] if rule.running else [])})
    daily = store.direct_daily(session, scope, wanted[0].first, wanted[-1].last)
    delivered = direct_by_quarter(daily, wanted)
    evaluated = {
        q: evaluate_quarter(
            q,
            target_for(report.contract, report.planned, q),
            delivered[q],
            today,
            calendar,
            c.threshold_percent,
        )
        for q in wanted
    }
    report.history = [evaluated[q] for q in window]
    report.results = [evaluated[q] for q in period]
    report.rule = RuleVerdict(
        tuple(evaluated[q] for q in rule.ended),
        evaluated[rule.running] if rule.running else None,
        c.threshold_percent,
        c.short_quarters,
    )
    report.calendar = calendar
    shown = period if len(period) > 1 else window
    report.by_type = {
        q: store.direct_by_type(session, scope, q.first, q.last) for q in shown if q.first <= today
    }
    closed = quarters.closed_quarters(session, contract_org_id)
    report.closed = [q for q in (Quarter(y, n) for y, n in closed) if q in period]
    if details:
        report.corrections = quarters.corrections_between(session, contract_org_id, first, last)
    return report


def chart_results(report: Report) -> list[QuarterResult]:
    """The quarters a chart shows: the year's four, or a quarter with those before it."""
    if len(report.results) > 1:
        return report.results
    return [r for r in report.history if r.state is not QuarterState.no_target] or report.history


def has_chart(report: Report) -> bool:
    """Whether the chart would show a bar: direct hours (or a forecast) in one of its quarters.
    Without one the chart is empty and a German notice is sent instead (issue 14)."""
    return any(
        sum(report.by_type.get(r.quarter, {}).values()) or (r.forecast_minutes or 0) > 0
        for r in chart_results(report)
    )


def file_stamp(now: datetime) -> str:
    """`2026-12-01_100512`: in every file name, so no download replaces an earlier one."""
    return now.strftime("%Y-%m-%d_%H%M%S")
