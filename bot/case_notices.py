"""Notices to the Jugendamt (DOMAIN.md C7, issue 14): a significant change in a family or a
group offer that started goes to the case's ASD contact, through the reminder outbox.

The outbox row is a coordinator-style alert (item "alert", the notice's id, stage
"c7:notice", the recipient), so the dispatcher that sends every other alert sends it too,
once per recipient, within the reminders' sending hours; its text is composed at send time
from the stored notice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlmodel import Session

from bot.formatting import fmt_datetime
from bot.messages import Reply
from config.settings import Settings
from scheduler.reminders import next_allowed
from scheduler.workdays import WorkCalendar
from storage import contracts, outbox
from storage.models.cases import Case, CaseNotice
from storage.models.outbox import OutboxEntry
from storage.models.staff import Staff
from storage.outbox import NewEntry
from storage.rota import absence_routes

ITEM_TYPE: Final = "alert"  # delivered like the other alerts (bot/controlling_alerts.py)
STAGE_PREFIX: Final = "c7:"
STAGE: Final = f"{STAGE_PREFIX}notice"
MAX_CHARS: Final = 300

CHANGE: Final = "change"
GROUP_OFFER: Final = "group_offer"
KIND_LABEL: Final[dict[str, str]] = {
    CHANGE: "wesentliche Veränderung in der Familie",
    GROUP_OFFER: "begonnenes Gruppenangebot",
}
KIND_WORDS: Final[dict[str, str]] = {
    "veraenderung": CHANGE,
    "veränderung": CHANGE,
    "aenderung": CHANGE,
    "änderung": CHANGE,
    "gruppenangebot": GROUP_OFFER,
    "gruppe": GROUP_OFFER,
}


def recipients(session: Session, case: Case, now: datetime) -> list[Staff]:
    """The case's ASD contact; while absent also whoever stands in (their deputy, else an
    ASD coordinator); without an active contact the office's coordinators."""
    people: list[int] = []
    contact = session.get(Staff, case.asd_staff_id) if case.asd_staff_id else None
    if contact is not None and contact.active and contact.id is not None:
        people.append(contact.id)
        stand_in = absence_routes(session, [contact.id], now.date()).get(contact.id)
        if stand_in is not None:
            people.append(stand_in)
    else:
        people += contracts.active_coordinators(session, case.jugendamt_org_id)
    found = [session.get(Staff, p) for p in dict.fromkeys(people)]
    return [p for p in found if p is not None]


def queue(
    session: Session,
    settings: Settings,
    calendar: WorkCalendar,
    notice: CaseNotice,
    people: list[Staff],
    now: datetime,
) -> None:
    """One outbox row per recipient; the key makes a retry of the same notice a no-op."""
    from scheduler.engine import policy_for  # the engine's sending hours apply to notices too

    assert notice.id is not None
    send_after = next_allowed(policy_for(settings), calendar, now)
    outbox.insert_entries(
        session,
        [NewEntry(ITEM_TYPE, notice.id, STAGE, p.id or 0, now, send_after) for p in people],
        now,
    )


def notice_reply(session: Session, settings: Settings, row: OutboxEntry) -> Reply | None:
    """The notice as the ASD reads it; None once the notice or its case is gone."""
    notice = session.get(CaseNotice, row.item_id)
    case = None if notice is None else session.get(Case, notice.case_id)
    if notice is None or case is None:
        return None
    sender = session.get(Staff, notice.sent_by)
    org = None if sender is None else contracts.organisation(session, sender.organisation_id)
    who = "" if sender is None else f" von {sender.name} ({sender.handle})"
    where = "" if org is None else f", {org.name}"
    when = fmt_datetime(notice.created_at.astimezone(settings.tz))
    ask = "" if sender is None else f"Rückfragen: /erreichbar {sender.handle} · "
    return Reply(
        f"📨 Mitteilung zu {case.code} ({KIND_LABEL.get(notice.kind, 'Mitteilung')})"
        f"{who}{where}, {when}:\n„{notice.text}“\n{ask}Abstimmungsbedarf: /abstimmung {case.code}"
    )
