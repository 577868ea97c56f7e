"""The 90 % rule (H3) as alerts through the outbox: after a quarter that completes a run of
short quarters, and mid-quarter when the forecast says the running quarter would add to one
(issue 14), so coordinators can act before the contract must be renegotiated.

The outbox key (item_type "alert", the provider's id, stage "h3:2025Q3" or "fc:2025Q4", the
coordinator) makes each alert once-only per quarter, however often the evaluation runs (the
scheduler evaluates daily at `controlling.evaluate_time`, and `/pruefen` on demand).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot import case_notices, start_guard
from bot.controlling_report import Report, build
from bot.controlling_texts import forecast_lines, hours, percent
from bot.messages import Reply
from config.settings import Settings
from scheduler.controlling import Quarter, QuarterResult
from scheduler.controlling_rule import elapsed_share
from scheduler.reminders import next_allowed
from scheduler.workdays import WorkCalendar
from storage import contracts, outbox
from storage.controlling import Scope
from storage.models.cases import Case
from storage.models.outbox import OutboxEntry
from storage.outbox import NewEntry

log = logging.getLogger(__name__)

ITEM_TYPE = "alert"
_STAGE_PREFIX = "h3:"
_FORECAST_PREFIX = "fc:"


@dataclass(frozen=True)
class Finding:
    provider_org_id: int
    org_name: str
    run: tuple[QuarterResult, ...]  # h3: the short quarters; forecast: the running one last
    forecast: bool = False

    @property
    def stage(self) -> str:
        last = self.run[-1].quarter
        prefix = _FORECAST_PREFIX if self.forecast else _STAGE_PREFIX
        return f"{prefix}{last.year}Q{last.number}"


def quarter_of_stage(stage: str) -> Quarter | None:
    prefix = stage[:3]
    raw = stage[3:]
    if prefix not in (_STAGE_PREFIX, _FORECAST_PREFIX) or len(raw) != 6 or raw[4] != "Q":
        return None
    if not (raw[:4].isdigit() and raw[5] in "1234"):
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
    completes a run of short quarters (older runs were due, and alerted, in their time), and
    a forecast finding when the running quarter would continue a run (`forecast_due`)."""
    ended = Quarter.of(today).previous()
    findings: list[Finding] = []
    for _contract, org in contracts.provider_orgs_with_contract(session):
        assert org.id is not None
        if org_id is not None and org.id != org_id:
            continue
        report = org_report(
            session, settings, calendar, org.id, org.name, ended, today, details=False
        )
        rule = report.rule
        assert rule is not None  # the organisation has a contract
        run = rule.run
        if run is not None and run[-1].quarter == ended:
            findings.append(Finding(org.id, org.name, run))
        if rule.running is not None and forecast_due(report, settings, calendar):
            findings.append(Finding(org.id, org.name, (rule.running,), forecast=True))
    return findings


def forecast_due(report: Report, settings: Settings, calendar: WorkCalendar) -> bool:
    """Mid-quarter (from `forecast_from_percent` of its working days on), the forecast is
    below the threshold and the running quarter would be at least the `forecast_streak`-th
    short quarter in a row (0: never)."""
    c, rule = settings.controlling, report.rule
    if rule is None or rule.running is None or c.forecast_streak == 0:
        return False
    if elapsed_share(rule.running.quarter, report.today, calendar) * 100 < c.forecast_from_percent:
        return False
    return rule.forecast_streak >= c.forecast_streak


def recipients(session: Session, provider_org_id: int) -> list[int]:
    """The provider's coordinators and those of the ASD offices it works with."""
    offices = session.execute(
        select(col(Case.jugendamt_org_id))
        .where(col(Case.provider_org_id) == provider_org_id)
        .distinct()
    ).scalars()
    people = contracts.active_coordinators(session, provider_org_id)
    for office in sorted(offices):
        people += contracts.active_coordinators(session, office)
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
        # The forecast is the provider's own early warning; a run ended concerns the ASD too.
        people = (
            contracts.active_coordinators(session, finding.provider_org_id)
            if finding.forecast
            else recipients(session, finding.provider_org_id)
        )
        outbox.insert_entries(
            session,
            (
                NewEntry(ITEM_TYPE, finding.provider_org_id, finding.stage, p, now, send_after)
                for p in people
            ),
            now,
        )
        log.info(
            "H3%s: %s short in %s; alert queued for %d coordinators",
            " forecast" if finding.forecast else "",
            finding.org_name,
            ", ".join(r.quarter.label for r in finding.run),
            len(people),
        )
    return findings


def alert_reply(
    session: Session, settings: Settings, calendar: WorkCalendar, row: OutboxEntry, today: date
) -> Reply | None:
    """The alert's text, with today's figures; None if it no longer holds (it is dropped)."""
    if row.stage.startswith(start_guard.STAGE_PREFIX):  # invite brute force (issue 12)
        return start_guard.alert_reply(session, settings, row)
    if row.stage.startswith(case_notices.STAGE_PREFIX):  # C7 notices to the ASD (issue 14)
        return case_notices.notice_reply(session, settings, row)
    quarter = quarter_of_stage(row.stage)
    org = contracts.organisation(session, row.item_id)
    if quarter is None or org is None or org.id is None:
        return None
    report = org_report(
        session, settings, calendar, org.id, org.name, quarter, today, details=False
    )
    if row.stage.startswith(_FORECAST_PREFIX):
        return _forecast_reply(report, settings, calendar, quarter)
    rule = report.rule
    run = None if rule is None else rule.run
    if run is None or run[-1].quarter != quarter:
        return None  # corrected meanwhile: the quarters are no longer short
    lines = [
        f"⚠️ 90-%-Regel: {org.name} hat in {len(run)} Quartalen in Folge weniger als "
        f"{report.threshold} % der vereinbarten Stunden am Klienten erbracht:",
        *(
            f"• {r.quarter.label}: {hours(r.delivered_minutes)} von "
            f"{hours(r.target_minutes or 0)} = {percent(r.percent or 0.0)}"
            for r in run
        ),
        "Nach der Trägerbudgetvereinbarung wird über eine Anpassung verhandelt, wenn sich das "
        "voraussichtlich nicht ändert.",
        f"Details: /quartal {quarter.key}",
    ]
    return Reply("\n".join(lines))


def _forecast_reply(
    report: Report, settings: Settings, calendar: WorkCalendar, quarter: Quarter
) -> Reply | None:
    rule = report.rule
    if rule is None or rule.running is None or rule.running.quarter != quarter:
        return None  # the quarter has ended: the alert after it decides
    if not forecast_due(report, settings, calendar):
        return None  # caught up meanwhile
    r = rule.running
    lines = [
        f"⚠️ Prognose zur 90-%-Regel: {report.org_name} erreicht in {quarter.label} "
        f"voraussichtlich {percent(r.forecast_percent or 0.0)} der vereinbarten Stunden am "
        f"Klienten (bisher {hours(r.delivered_minutes)} von {hours(r.target_minutes or 0)})."
    ]
    short = rule.ended[len(rule.ended) - rule.streak :] if rule.streak else ()
    if short:
        lines.append(
            f"Schon unter {report.threshold} %: "
            + ", ".join(f"{x.quarter.label} {percent(x.percent or 0.0)}" for x in short)
            + "."
        )
    lines += [*forecast_lines(report), "Details: /pruefen"]
    return Reply("\n".join(lines))
