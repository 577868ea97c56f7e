"""Retention (DOMAIN.md P4, issue 12): personal data leaves when its time is up.

- A closed case, `closed_case_days` after it ended: its code becomes a neutral label, its
  deadlines, meetings, coordination requests, notices to the Jugendamt and pending reminders
  are deleted, free texts
  that name it (pages, correction reasons) are blanked. The row stays, with legal basis,
  dates, flags and people, so every figure of past quarters (hours, key figures) is unchanged.
- Deactivated staff, `staff_days` after they left: name, Kürzel, phone, messenger ids,
  presence and absence times, feed links and deputy settings go; the row stays under a
  neutral label, so their hours stay in the figures.
- Audit entries older than `audit_days` are deleted: only here, through the audit log's purge
  gate (migration 0009); everywhere else the log is append-only.
- Records of failed `/start` attempts after `start_attempt_days`.

`plan` only reads (for `koopbot retention --dry-run`); `apply` carries the plan out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, delete, func, literal, or_, update
from sqlmodel import Session, col, select

from config.enums import CaseStatus
from config.privacy import Retention
from config.settings import Settings
from storage import audit
from storage.db import Database
from storage.models.audit import AuditEntry, AuditPurge
from storage.models.cases import Case, CaseNotice, CoordinationRequest, Deadline, Meeting
from storage.models.feeds import FeedState, FeedToken
from storage.models.hours import HoursCorrection, HoursEntry
from storage.models.outbox import OutboxEntry
from storage.models.reachability import Availability, Deputy
from storage.models.rota import OncallOverride, Page
from storage.models.staff import MessengerIdentity, Staff, StartAttempt

ERASED_TEXT = "(gelöscht)"
_CHUNK = 500  # ids per IN (...): well below SQLite's and PostgreSQL's parameter limits


_CASE_LABEL = "gelöschter Fall #"


def case_label(case_id: int) -> str:
    """What an anonymised case is called in lists and exports."""
    return f"{_CASE_LABEL}{case_id}"


def staff_label(staff_id: int) -> str:
    """The neutral name under which a former colleague's hours stay in the figures."""
    return f"Ehemalige Person #{staff_id}"


def staff_handle(staff_id: int) -> str:
    # Four letters: free_handle() builds Kürzel of at most three, so this never collides.
    return f"EHEM{staff_id}"


@dataclass
class Plan:
    """What is due on `today` (nothing of it is done yet)."""

    cases: list[tuple[int, str, date]] = field(default_factory=list)  # id, code, closed on
    staff: list[tuple[int, str, datetime]] = field(default_factory=list)  # id, name, left at
    staff_clock_starts: list[tuple[int, str]] = field(default_factory=list)  # inactive, no date
    audit_before: datetime | None = None
    audit_entries: int = 0
    start_attempts: int = 0

    @property
    def empty(self) -> bool:
        return not (
            self.cases
            or self.staff
            or self.staff_clock_starts
            or self.audit_entries
            or self.start_attempts
        )


def plan(session: Session, rules: Retention, now: datetime, today: date) -> Plan:
    """What the retention job would delete or anonymise now."""
    out = Plan()
    case_cutoff = today - timedelta(days=rules.closed_case_days)
    for case in session.exec(
        select(Case)
        .where(
            Case.status == CaseStatus.closed,
            col(Case.closed_on).is_not(None),
            col(Case.closed_on) <= case_cutoff,
            col(Case.anonymised_at).is_(None),
        )
        .order_by(col(Case.id))
    ):
        assert case.id is not None and case.closed_on is not None
        out.cases.append((case.id, case.code, case.closed_on))
    staff_cutoff = now - timedelta(days=rules.staff_days)
    for person in session.exec(
        select(Staff)
        .where(col(Staff.active).is_(False), col(Staff.anonymised_at).is_(None))
        .order_by(col(Staff.id))
    ):
        assert person.id is not None
        if person.deactivated_at is None:
            out.staff_clock_starts.append((person.id, person.name))
        elif person.deactivated_at <= staff_cutoff:
            out.staff.append((person.id, person.name, person.deactivated_at))
    out.audit_before = now - timedelta(days=rules.audit_days)
    out.audit_entries = _count(session, AuditEntry, col(AuditEntry.at) < out.audit_before)
    attempts_before = now - timedelta(days=rules.start_attempt_days)
    out.start_attempts = _count(session, StartAttempt, col(StartAttempt.at) < attempts_before)
    return out


def apply(session: Session, rules: Retention, now: datetime, today: date) -> Plan:
    """Carry out what `plan` finds, in the caller's transaction; one audit entry says what."""
    done = plan(session, rules, now, today)
    anonymise_cases(session, [case_id for case_id, _code, _closed in done.cases], now)
    for staff_id, _name, _left in done.staff:
        anonymise_staff(session, staff_id, now)
    for staff_id, _name in done.staff_clock_starts:
        # Deactivated before deactivation was dated: the retention period starts today.
        session.execute(update(Staff).where(col(Staff.id) == staff_id).values(deactivated_at=now))
    if done.audit_entries and done.audit_before is not None:
        purge_audit(session, done.audit_before)
    attempts_before = now - timedelta(days=rules.start_attempt_days)
    session.execute(delete(StartAttempt).where(col(StartAttempt.at) < attempts_before))
    if not done.empty:
        audit.record(
            session,
            at=now,
            actor="system",
            action="retention",
            entity="retention",
            entity_id=None,
            details={
                "cases": len(done.cases),
                "staff": len(done.staff),
                "staff_dated": len(done.staff_clock_starts),
                "audit_entries": done.audit_entries,
                "start_attempts": done.start_attempts,
            },
        )
    return done


def anonymise_case(session: Session, case_id: int, now: datetime) -> None:
    """Code, deadlines, meetings, coordination requests and free texts of one case go."""
    anonymise_cases(session, [case_id], now)


def anonymise_cases(session: Session, case_ids: list[int], now: datetime) -> None:
    """`anonymise_case` for many, in set-based statements (a daily run may hold thousands)."""
    for start in range(0, len(case_ids), _CHUNK):
        chunk = case_ids[start : start + _CHUNK]
        codes = set(
            session.exec(
                select(Case.code).where(col(Case.id).in_(chunk), col(Case.anonymised_at).is_(None))
            )
        )
        if not codes:
            continue
        for item_type, model in (("deadline", Deadline), ("meeting", Meeting)):
            ids = select(model.id).where(col(model.case_id).in_(chunk))
            session.execute(
                delete(OutboxEntry).where(
                    col(OutboxEntry.item_type) == item_type, col(OutboxEntry.item_id).in_(ids)
                )
            )
            session.execute(delete(model).where(col(model.case_id).in_(chunk)))
        session.execute(
            delete(CoordinationRequest).where(col(CoordinationRequest.case_id).in_(chunk))
        )
        notices = select(CaseNotice.id).where(col(CaseNotice.case_id).in_(chunk))  # C7
        session.execute(
            delete(OutboxEntry).where(
                col(OutboxEntry.item_type) == "alert",
                col(OutboxEntry.stage).like("c7:%"),
                col(OutboxEntry.item_id).in_(notices),
            )
        )
        session.execute(delete(CaseNotice).where(col(CaseNotice.case_id).in_(chunk)))
        entry_ids = select(HoursEntry.id).where(col(HoursEntry.case_id).in_(chunk))
        session.execute(
            update(HoursCorrection)
            .where(col(HoursCorrection.entry_id).in_(entry_ids))
            .values(reason=ERASED_TEXT)
        )
        pages = [
            page_id
            for page_id, text in session.exec(select(Page.id, Page.text))
            if any(code in text for code in codes)
        ]
        if pages:
            session.execute(update(Page).where(col(Page.id).in_(pages)).values(text=ERASED_TEXT))
        session.execute(
            update(Case)
            .where(col(Case.id).in_(chunk), col(Case.anonymised_at).is_(None))
            .values(code=literal(_CASE_LABEL) + cast(col(Case.id), String), anonymised_at=now)
        )
    feeds_changed(session)


def anonymise_staff(session: Session, staff_id: int, now: datetime) -> None:
    """Everything that names or reaches a person goes; the row stays for their hours."""
    person = session.get(Staff, staff_id)
    if person is None or person.anonymised_at is not None:
        return
    session.execute(delete(MessengerIdentity).where(col(MessengerIdentity.staff_id) == staff_id))
    session.execute(delete(Availability).where(col(Availability.staff_id) == staff_id))
    session.execute(
        update(Availability)
        .where(col(Availability.deputy_staff_id) == staff_id)
        .values(deputy_staff_id=None)
    )
    session.execute(
        delete(Deputy).where(
            or_(col(Deputy.staff_id) == staff_id, col(Deputy.deputy_staff_id) == staff_id)
        )
    )
    for token in session.exec(select(FeedToken).where(FeedToken.staff_id == staff_id)):
        session.delete(token)
    session.execute(
        delete(OutboxEntry).where(
            col(OutboxEntry.staff_id) == staff_id, col(OutboxEntry.status) == "pending"
        )
    )
    # Why someone was away (illness) is health data; that someone was replaced is not.
    session.execute(
        update(OncallOverride)
        .where(col(OncallOverride.absent_staff_id) == staff_id)
        .values(reason="sonstiges")
    )
    person.name = staff_label(staff_id)
    person.handle = staff_handle(staff_id)
    person.work_phone = None
    person.active = False
    person.deactivated_at = person.deactivated_at or now
    person.anonymised_at = now
    session.flush()


def purge_audit(session: Session, before: datetime) -> int:
    """Delete audit entries older than `before`: the one way past the append-only triggers.

    The gate row exists only inside this transaction, so no other statement, before or
    after, can delete an entry; entries newer than `before` stay protected even now.
    """
    session.add(AuditPurge(cutoff=before))
    session.flush()
    result = session.execute(delete(AuditEntry).where(col(AuditEntry.at) < before))
    session.execute(delete(AuditPurge))
    return int(getattr(result, "rowcount", 0) or 0)


def feeds_changed(session: Session) -> None:
    """Raise the feeds' change counter (storage/versioning.py) after set-based statements,
    which its flush listener does not see."""
    session.execute(
        update(FeedState).where(col(FeedState.id) == 1).values(version=col(FeedState.version) + 1)
    )


def _count(
    session: Session, model: type[AuditEntry] | type[StartAttempt], *where: ColumnElement[bool]
) -> int:
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def run_retention(settings: Settings, db: Database, now: datetime) -> Plan:
    """The daily job (scheduler) and `koopbot retention`: one transaction."""
    with db.session() as session:
        return apply(session, settings.retention, now, now.astimezone(settings.tz).date())
