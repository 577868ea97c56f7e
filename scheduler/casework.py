"""Application steps shared by commands and the demo: recompute a case's deadline chain."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from config.agreement import Periods
from scheduler.chain import (
    CaseFacts,
    CoordinationFact,
    MeetingFact,
    derive_annual_reports,
    derive_case_deadlines,
)
from scheduler.workdays import WorkCalendar
from storage.cases import (
    ChainChanges,
    DeadlineSpec,
    cases_due_for_next_report,
    coordinations_of,
    deadlines_of_case,
    meetings_of,
    org_deadlines,
    sync_deadlines,
)
from storage.models.cases import Case
from storage.models.staff import Organisation


def recompute_chain(
    session: Session,
    case: Case,
    *,
    calendar: WorkCalendar,
    periods: Periods,
    now: datetime,
) -> ChainChanges:
    """Derive the case's deadlines from its facts and store the difference (C1-C4)."""
    assert case.id is not None
    facts = CaseFacts(
        id=case.id,
        start_date=case.start_date,
        report_interval_months=case.report_interval_months,
        closed_on=case.closed_on,
        meetings=tuple(
            MeetingFact(m.id, m.kind, m.starts_at.astimezone(now.tzinfo).date())
            for m in meetings_of(session, case.id)
            if m.id is not None
        ),
        coordinations=tuple(
            CoordinationFact(r.id, r.raised_on)
            for r in coordinations_of(session, case.id)
            if r.id is not None
        ),
    )
    derived = derive_case_deadlines(facts, calendar, periods, now.date())
    return sync_deadlines(
        session,
        deadlines_of_case(session, case.id),
        [DeadlineSpec(d.key, d.kind, d.rule, d.due) for d in derived],
        case_id=case.id,
        organisation_id=case.provider_org_id,
        jugendamt_org_id=case.jugendamt_org_id,
        now=now,
    )


def ensure_annual_reports(
    session: Session,
    provider: Organisation,
    *,
    calendar: WorkCalendar,
    periods: Periods,
    now: datetime,
) -> ChainChanges:
    """C5: the provider's yearly reports over the contract's term."""
    assert provider.id is not None
    derived = derive_annual_reports(provider.id, calendar, periods)
    return sync_deadlines(
        session,
        org_deadlines(session, provider.id),
        [DeadlineSpec(d.key, d.kind, d.rule, d.due) for d in derived],
        case_id=None,
        organisation_id=provider.id,
        jugendamt_org_id=None,
        now=now,
    )


def extend_chains(
    session: Session, *, calendar: WorkCalendar, periods: Periods, now: datetime
) -> int:
    """Add the next periodic report to every open case whose series has run out; the count."""
    cases = cases_due_for_next_report(session, now.date())
    for case in cases:
        recompute_chain(session, case, calendar=calendar, periods=periods, now=now)
    return len(cases)
