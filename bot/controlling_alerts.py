"""The 90 % rule (H3) as an alert: evaluated after each quarter ends, sent through the outbox.

The outbox key (item_type "alert", the provider's id, stage "h3:2025Q3", the coordinator)
makes the alert once-only per quarter that completes a run of short quarters, however often
the evaluation runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot import start_guard
from bot.controlling_report import Report, build, hours, percent
from bot.messages import Reply
from config.settings import Settings
from scheduler.controlling import Quarter, QuarterResult
from scheduler.reminders import next_allowed
from scheduler.workdays import WorkCalendar
from storage import controlling as store
from storage import outbox
from storage.controlling import Scope
from storage.models import Case, OutboxEntry
from storage.outbox import NewEntry

log = logging.getLogger(__name__)

ITEM_TYPE = "alert"
_STAGE_PREFIX = "h3:"


@dataclass(frozen=True)
class Finding:
    provider_org_id: int
    org_name: str
    run: tuple[QuarterResult, ...]

    @property
    def stage(self) -> str:
        last = self.run[-1].quarter
        return f"{_STAGE_PREFIX}{last.year}Q{last.number}"


def quarter_of_stage(stage: str) -> Quarter | None:
    raw = stage.removeprefix(_STAGE_PREFIX)
    if not stage.startswith(_STAGE_PREFIX) or len(raw) != 6 or raw[4] != "Q":
        return None
    return Quarter(int(raw[:4]), int(raw[5]))


def org_report(
    session: Session,
    settings: Settings,
    calendar: WorkCalendar,
    org_id: int,
    org_name: str,
    quarter: Quarter,
    today: date,
    *,
    details: bool = True,
) -> Report:
    return build(
        session,
        settings,
        calendar,
        Scope(organisation_id=org_id),
        title=quarter.label,
        org_name=org_name,
        first=quarter.first,
        last=quarter.last,
        today=today,
        contract_org_id=org_id,
        details=details,
    )


def evaluate(
    session: Session,
    settings: Settings,
    calendar: WorkCalendar,
    today: date,
    org_id: int | None = None,
) -> list[Finding]:
    """H3 for every provider with a contract: a finding when the quarter that ended last
    completes a run of short quarters. Older runs were due (and alerted) in their time."""
    ended = Quarter.of(today).previous()
    findings: list[Finding] = []
    for _contract, org in store.provider_orgs_with_contract(session):
        assert org.id is not None
        if org_id is not None and org.id != org_id:
            continue
        report = org_report(
            session, settings, calendar, org.id, org.name, ended, today, details=False
        )
        for run in report.runs:
            if run[-1].quarter == ended:
                findings.append(Finding(org.id, org.name, run))
    return findings


def recipients(session: Session, provider_org_id: int) -> list[int]:
    """The provider's coordinators and those of the ASD offices it works with."""
    offices = session.execute(
        select(col(Case.jugendamt_org_id))
        .where(col(Case.provider_org_id) == provider_org_id)
        .distinct()
    ).scalars()
    people = store.active_coordinators(session, provider_org_id)
    for office in sorted(offices):
        people += store.active_coordinators(session, office)
    return list(dict.fromkeys(people))


def queue_alerts(
    session: Session,
    settings: Settings,
    calendar: WorkCalendar,
    now: datetime,
    org_id: int | None = None,
) -> list[Finding]:
    """Evaluate H3 and write an alert per finding and coordinator (idempotent)."""
    from scheduler.engine import policy_for  # the engine's quiet hours apply to alerts too

    today = now.astimezone(settings.tz).date()
    findings = evaluate(session, settings, calendar, today, org_id)
    send_after = next_allowed(policy_for(settings), calendar, now)
    for finding in findings:
        people = recipients(session, finding.provider_org_id)
        outbox.insert_entries(
            session,
            (
                NewEntry(ITEM_TYPE, finding.provider_org_id, finding.stage, p, now, send_after)
                for p in people
            ),
            now,
        )
        log.info(
            "H3: %s short in %s; alert queued for %d coordinators",
            finding.org_name,
            ", ".join(r.quarter.label for r in finding.run),
            len(people),
        )
    return findings


def alert_reply(
    session: Session, settings: Settings, calendar: WorkCalendar, row: OutboxEntry, today: date
) -> Reply | None:
    """The alert's text, with today's figures of the run's quarters; None if no longer true."""
    if row.stage.startswith(start_guard.STAGE_PREFIX):  # invite brute force (issue 12)
        return start_guard.alert_reply(session, settings, row)
    quarter = quarter_of_stage(row.stage)
    org = store.organisation(session, row.item_id)
    if quarter is None or org is None or org.id is None:
        return None
    report = org_report(
        session, settings, calendar, org.id, org.name, quarter, today, details=False
    )
    run = next((r for r in report.runs if r[-1].quarter == quarter), None)
    if run is None:
        return None  # corrected meanwhile: the quarters are no longer short
    lines = [
        f"⚠️ 90-%-Regel: {org.name} hat in {len(run)} Quartalen in Folge weniger als "
        f"{report.threshold} % der vereinbarten Stunden am Klienten erbracht:",
        *(
            f"• {r.quarter.label}: {hours(r.delivered_minutes)} von "
            f"{hours(r.target_minutes or 0)} = {percent(r.percent or 0.0)}"
            for r in run
        ),
        "Nach der Trägerbudgetvereinbarung (Seed 001, II.5) wird über eine Anpassung "
        "verhandelt, wenn sich das voraussichtlich nicht ändert.",
        f"Details: /quartal {quarter.key}",
    ]
    return Reply("\n".join(lines))
