"""Composing claimed outbox rows into messages: one per person per round (issue 11).

Everything due for one person (reminders, the weekly digest, hours alerts, reports about
unreachable colleagues) becomes one message, in parts at the messenger's length limit; pages
and handovers (issue 6) and C7 notices to the ASD (issue 14) stay separate messages. Rows
sent under an earlier claim that died (their `send_key`) form their own message, under the
same idempotency key as before. What the messages say is the renderer's (scheduler/ports.py).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Generic

from sqlmodel import Session, col, select

from config.enums import DeadlineStatus
from config.settings import Settings
from scheduler.ports import Line, M, Recipient, Renderer
from scheduler.reminders import Policy, is_late
from scheduler.workdays import WorkCalendar
from storage import delivery, outbox, recipients
from storage.cases import open_deadlines_for, side_of
from storage.models.ag78 import AgSession
from storage.models.cases import Case, Deadline, Meeting
from storage.models.outbox import OutboxEntry
from storage.models.staff import Staff
from storage.outbox import NewEntry
from storage.rota import URGENT_ITEM_TYPES, absence_routes

log = logging.getLogger(__name__)

MAX_LINES = 100  # reminder lines in one message; more: "… und N weitere"
DIGEST_LINES = 25  # deadlines in the weekly digest; more: "… und N weitere"
DEFAULT_MAX_CHARS = 4096  # for a transport without a messenger here
_ITEM_TYPES = ("deadline", "meeting", "session", "digest", "undeliverable")


@dataclass
class Delivery(Generic[M]):
    """One message (in one or more parts) to one person, standing for one or more rows."""

    staff_id: int
    ids: list[int]
    token: str
    send_key: str
    kind: str  # "main" or "rota:<row id>"
    attempts: int = 0
    late: bool = False
    replies: list[M] = field(default_factory=list)
    recipient: Recipient | None = None
    reports_only: bool = True  # only "could not reach X" rows: no report about a report
    urgent: bool = False  # pages and handovers (issue 6): retried at once, also at night

    def key(self, part: int = 0) -> str:
        """The idempotency key of one part: the same for the retry after a crash."""
        base = f"{self.send_key}:{self.staff_id}:{self.kind}"
        digest = hashlib.sha256(base.encode()).hexdigest()[:32]
        return f"koopbot-{digest}" if part == 0 else f"koopbot-{digest}-{part}"


@dataclass
class Composed(Generic[M]):
    deliveries: list[Delivery[M]]
    cancelled: int
    postponed: int
    rerouted: int


class Composer(Generic[M]):
    """Decides what goes into which message; the renderer writes it, in parts of at most
    `max_chars[transport]` characters."""

    def __init__(
        self,
        settings: Settings,
        policy: Policy,
        calendar: WorkCalendar,
        renderer: Renderer[M],
        max_chars: dict[str, int],
    ) -> None:
        self.settings, self.policy, self.calendar = settings, policy, calendar
        self.renderer, self.max_chars = renderer, max_chars

    def compose(
        self,
        session: Session,
        rows: list[OutboxEntry],
        token: str,
        now: datetime,
        transports: dict[int, str],
    ) -> Composed[M]:
        """Messages for claimed `rows`; rows no longer wanted are cancelled, snoozed ones
        postponed (in this transaction)."""
        tz = self.settings.tz
        local_now = now.astimezone(tz)
        today = local_now.date()
        ids_of = {t: {r.item_id for r in rows if r.item_type == t} for t in _ITEM_TYPES}
        deadlines: dict[int | None, tuple[Deadline, Case | None]] = {
            d.id: (d, c)
            for d, c in session.exec(
                select(Deadline, Case)
                .outerjoin(Case, col(Case.id) == col(Deadline.case_id))
                .where(col(Deadline.id).in_(ids_of["deadline"]))
            ).all()
        }
        meetings: dict[int | None, tuple[Meeting, Case]] = {
            m.id: (m, c)
            for m, c in session.exec(
                select(Meeting, Case)
                .join(Case, col(Case.id) == col(Meeting.case_id))
                .where(col(Meeting.id).in_(ids_of["meeting"]))
            ).all()
        }
        sessions = {
            s.id: s
            for s in session.exec(
                select(AgSession).where(col(AgSession.id).in_(ids_of["session"]))
            ).all()
        }
        snoozes = outbox.snoozed_until(
            session,
            [
                (r.item_id, r.staff_id)
                for r in rows
                if r.item_type == "deadline" and not r.stage.startswith("snz:")
            ],
            now,
        )
        cancel: list[int] = []
        rows, rerouted = self._reroute_absent(session, rows, today, now, cancel)
        responsible: dict[int | None, Staff | None] = {}
        postpone: dict[datetime, list[int]] = {}
        Key = tuple[int, str, str]
        lines: dict[Key, dict[tuple[str, int, bool], Line]] = {}
        extras: dict[Key, list[M]] = {}
        groups: dict[Key, Delivery[M]] = {}
        grace = timedelta(minutes=self.settings.reminders.late_after_minutes)

        def add(row: OutboxEntry, kind: str = "main") -> Key:
            send_key = row.send_key or token
            key = (row.staff_id, send_key, kind)
            d = groups.get(key)
            if d is None:
                d = groups[key] = Delivery(row.staff_id, [], token, send_key, kind)
            d.ids.append(_id(row.id))
            d.attempts = max(d.attempts, row.attempts)
            d.late = d.late or is_late(self.policy, self.calendar, row.fire_at, now, grace)
            d.reports_only = d.reports_only and row.item_type == "undeliverable"
            d.urgent = row.item_type in URGENT_ITEM_TYPES
            return key

        for row in rows:
            tag = row.stage.partition(":")[2]
            if row.item_type == "deadline":
                found = deadlines.get(row.item_id)
                deadline, case = found if found else (None, None)
                snooze = snoozes.get((row.item_id, row.staff_id))
                if deadline is None or deadline.status is not DeadlineStatus.open:
                    cancel.append(_id(row.id))
                elif not row.stage.startswith("snz:") and tag != deadline.due.strftime("%Y%m%d"):
                    cancel.append(_id(row.id))  # the deadline moved; its new stages follow
                elif snooze is not None:
                    postpone.setdefault(snooze, []).append(_id(row.id))
                else:
                    escalation = row.stage.startswith("esc:")
                    lines.setdefault(add(row), {})[("deadline", row.item_id, escalation)] = (
                        self.renderer.deadline_line(
                            deadline,
                            case,
                            today,
                            escalation=escalation,
                            responsible=self._responsible(session, responsible, case),
                        )
                    )
            elif row.item_type in ("meeting", "session"):
                line = self._meeting_line(row, meetings, sessions, tag, local_now)
                if line is None:
                    cancel.append(_id(row.id))
                else:
                    lines.setdefault(add(row), {})[(row.item_type, row.item_id, False)] = line
            elif row.item_type == "digest":
                digest = self._digest(session, row, today, now, grace)
                if digest is None:
                    cancel.append(_id(row.id))
                else:
                    extras.setdefault(add(row), []).append(digest)
            elif row.item_type == "undeliverable":
                failed = session.get(Staff, row.item_id)
                if failed is None:
                    cancel.append(_id(row.id))
                else:
                    lines.setdefault(add(row), {})[("undeliverable", row.item_id, False)] = (
                        self.renderer.undeliverable_line(failed, tag)
                    )
            else:  # hours alerts, C7 notices, on-call messages: rendered whole
                rendered = self.renderer.row_message(session, row, now)
                if rendered is None:
                    cancel.append(_id(row.id))
                else:
                    extras.setdefault(add(row, rendered.kind), []).append(rendered.message)
        delivery.finish(session, cancel, token, status=delivery.CANCELLED, now=now)
        for until, ids in postpone.items():
            delivery.retry_later(
                session, ids, token, send_after=until, count_attempt=False, error=None
            )
        for key, d in groups.items():
            parts: list[M] = []
            if key in lines:
                parts.append(
                    self.renderer.reminder(
                        list(lines[key].values()), late=d.late, now=local_now, limit=MAX_LINES
                    )
                )
            parts.extend(extras.get(key, []))
            limit = self.max_chars.get(transports.get(d.staff_id, ""), DEFAULT_MAX_CHARS)
            d.replies = self.renderer.parts(parts, limit)
        return Composed(
            list(groups.values()),
            len(cancel),
            sum(len(ids) for ids in postpone.values()),
            rerouted,
        )

    def _reroute_absent(
        self,
        session: Session,
        rows: list[OutboxEntry],
        today: date,
        now: datetime,
        cancel: list[int],
    ) -> tuple[list[OutboxEntry], int]:
        """Reminders of someone absent today go to their deputy (issue 6), also when the
        absence was entered after the sweep planned the reminder, and those of someone no
        longer active are dropped; returns the rows kept and how many were rerouted."""
        routed_types = ("deadline", "meeting", "session")
        people = sorted({r.staff_id for r in rows if r.item_type in routed_types})
        routes = absence_routes(session, people, today)
        # Planned up to `plan_ahead_hours` ago: someone deactivated since gets nothing.
        gone = set(people) - recipients.active_staff(session, people)
        if not routes and not gone:
            return rows, 0
        keep: list[OutboxEntry] = []
        moved: list[NewEntry] = []
        for row in rows:
            if row.item_type in routed_types and row.staff_id in gone:
                cancel.append(_id(row.id))
                continue
            if row.item_type not in routed_types or row.staff_id not in routes:
                keep.append(row)
                continue
            cancel.append(_id(row.id))
            deputy = routes[row.staff_id]
            if deputy is not None:
                moved.append(
                    NewEntry(row.item_type, row.item_id, row.stage, deputy, row.fire_at, now)
                )
        active = recipients.active_staff(session, (e.staff_id for e in moved))
        outbox.insert_entries(session, (e for e in moved if e.staff_id in active), now)
        return keep, len(moved)

    def _meeting_line(
        self,
        row: OutboxEntry,
        meetings: dict[int | None, tuple[Meeting, Case]],
        sessions: dict[int | None, AgSession],
        tag: str,
        local_now: datetime,
    ) -> Line | None:
        """The line of a meeting or AG 78 session still to come at the time the stage was
        planned for; None: cancelled or moved (its new stages follow)."""
        tz = self.settings.tz

        def due(starts: datetime) -> datetime | None:
            local = starts.astimezone(tz)
            late = local <= local_now or tag != local.strftime("%Y%m%d%H%M")
            return None if late else local

        if row.item_type == "meeting":
            found = meetings.get(row.item_id)
            if found is None or found[0].cancelled or (local := due(found[0].starts_at)) is None:
                return None
            return self.renderer.meeting_line(found[0], found[1], local, local_now.date())
        ag = sessions.get(row.item_id)
        if ag is None or ag.cancelled or (local := due(ag.starts_at)) is None:
            return None
        return self.renderer.session_line(ag, local, local_now.date())

    def _responsible(
        self, session: Session, cache: dict[int | None, Staff | None], case: Case | None
    ) -> Staff | None:
        key = None if case is None else case.provider_staff_id
        if key not in cache:
            cache[key] = session.get(Staff, key) if key is not None else None
        return cache[key]

    def _digest(
        self, session: Session, row: OutboxEntry, today: date, now: datetime, grace: timedelta
    ) -> M | None:
        staff = session.get(Staff, row.staff_id)
        if staff is None or not staff.active:
            return None
        week_start = date(row.item_id // 10000, row.item_id // 100 % 100, row.item_id % 100)
        page = open_deadlines_for(
            session,
            staff,
            side_of(session, staff),
            today=today,
            until=week_start + timedelta(days=6),
            limit=DIGEST_LINES,
        )
        if not page.rows:
            return None
        return self.renderer.digest(
            page.rows,
            page.total - len(page.rows),
            week_start=week_start,
            today=today,
            late=is_late(self.policy, self.calendar, row.fire_at, now, grace),
        )


def _id(value: int | None) -> int:
    assert value is not None
    return value
