"""The dispatcher: claims due outbox rows, combines them per person, sends, records the fate.

Delivery is at-least-once: a row is marked sent right after its message was accepted; a
process killed between the two sends it again once its lease ends, with the same
idempotency key (Matrix transaction ids make that resend a no-op). At most `max_in_flight`
messages per killed process can be affected.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from bot import reminder_texts as texts
from bot import rota_texts
from bot.commands.common import deadline_line as digest_line
from bot.controlling_alerts import ITEM_TYPE as ALERT
from bot.controlling_alerts import alert_reply
from bot.formatting import DEADLINE_KIND_LABEL, MEETING_KIND_LABEL, SESSION_KIND_LABEL
from bot.messages import Reply
from bot.outgoing import DeliveryError, FailureKind, Messenger, Recipient
from config.settings import Settings
from scheduler.clock import Clock
from scheduler.engine import policy_for
from scheduler.metrics import record_send
from scheduler.reminders import backoff, is_allowed, is_late, next_allowed
from scheduler.workdays import WorkCalendar
from storage import outbox
from storage.cases import open_deadlines_for, side_of
from storage.db import Database
from storage.enums import DeadlineStatus
from storage.models import AgSession, Case, Deadline, Meeting, OutboxEntry, Staff
from storage.outbox import CANCELLED, FAILED, SENT, NewEntry
from storage.rota import URGENT_ITEM_TYPES, absence_routes

log = logging.getLogger(__name__)

_IN_PROCESS_RATE_RETRIES = 3
_MAX_INLINE_WAIT = 2.0  # seconds a rate-limited send may wait in memory before requeueing


@dataclass
class Delivery:
    """One message to one person, standing for one or more outbox rows."""

    staff_id: int
    ids: list[int]
    token: str
    attempts: int
    late: bool
    reply: Reply | None = None
    recipient: Recipient | None = None
    reports_only: bool = False  # only "could not reach X" rows: no report about a report
    urgent: bool = False  # pages and handovers (issue 6): retried at once, also at night

    @property
    def idempotency_key(self) -> str:
        digest = hashlib.sha256(",".join(map(str, sorted(self.ids))).encode()).hexdigest()
        return f"koopbot-{digest[:32]}"


@dataclass
class DispatchStats:
    claimed: int = 0
    sent_messages: int = 0
    sent_rows: int = 0
    cancelled: int = 0
    postponed: int = 0
    retried: int = 0
    failed: int = 0
    rate_limited: int = 0
    lost_claims: int = 0  # rows another sender took over (lease ran out): possible duplicate
    rerouted: int = 0  # rows of a person absent at send time, handed to their deputy
    by_transport: dict[str, int] = field(default_factory=dict)


class RateLimiter:
    """Evenly spaced sends (no bursts), paused when the messenger asks us to wait."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)


class Dispatcher:
    """Sends what the sweep wrote, through the configured messengers."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        calendar: WorkCalendar,
        messengers: Mapping[str, Messenger],
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.calendar = calendar
        self.messengers = dict(messengers)
        self.policy = policy_for(settings)
        r = settings.reminders
        self.limiters = {t: RateLimiter(r.rate_per_second.get(t, 1.0)) for t in self.messengers}
        self._in_flight = asyncio.Semaphore(r.max_in_flight)
        self.claim_limit = max(r.max_in_flight * 8, 16)

    async def dispatch(self) -> DispatchStats:
        """Send everything due now; returns when nothing is due (or sending is not allowed)."""
        stats = DispatchStats()
        while True:
            # Outside the sending window only pages and handovers go out (issue 6).
            quiet = not is_allowed(self.policy, self.calendar, self.clock.now())
            only = URGENT_ITEM_TYPES if quiet else None
            token = outbox.new_claim_token()
            rerouted = stats.rerouted
            deliveries, claimed = await asyncio.to_thread(self._claim, token, stats, only)
            stats.claimed += claimed
            if claimed == 0:
                break
            await asyncio.gather(*(self._deliver(d, stats) for d in deliveries))
            if claimed < self.claim_limit and stats.rerouted == rerouted:
                break  # rerouted rows were written for now: send them in this round too
        return stats

    # -- claiming and composing (one transaction) ----------------------------------------

    def _claim(
        self, token: str, stats: DispatchStats, only: Sequence[str] | None = None
    ) -> tuple[list[Delivery], int]:
        now = self.clock.now()
        lease = now + timedelta(seconds=self.settings.reminders.lease_seconds)
        with self.db.session() as session:
            rows = outbox.claim(
                session,
                now=now,
                lease_until=lease,
                token=token,
                limit=self.claim_limit,
                item_types=only,
            )
            if not rows:
                return [], 0
            deliveries = self._compose(session, rows, token, now, stats)
            reachable = outbox.identities(
                session, {d.staff_id for d in deliveries}, sorted(self.messengers)
            )
            ready: list[Delivery] = []
            for d in deliveries:
                account = reachable.get(d.staff_id)
                if account is None:
                    self._failed(session, d, FailureKind.unknown_user, "no account", None, now)
                    stats.retried += 1
                    continue
                d.recipient = Recipient(d.staff_id, account[0], account[1])
                ready.append(d)
        return ready, len(rows)

    def _compose(
        self,
        session: Session,
        rows: list[OutboxEntry],
        token: str,
        now: datetime,
        stats: DispatchStats,
    ) -> list[Delivery]:
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
        rows = self._reroute_absent(session, rows, today, now, cancel, stats)
        handles: dict[int | None, str] = {}
        postpone: dict[datetime, list[int]] = {}
        lines: dict[int, dict[tuple[str, int, bool], texts.Line]] = {}
        groups: dict[tuple[int, str], Delivery] = {}
        grace = timedelta(minutes=self.settings.reminders.late_after_minutes)

        def add(row: OutboxEntry, kind: str = "reminder") -> Delivery:
            d = groups.get((row.staff_id, kind))
            if d is None:
                d = groups[(row.staff_id, kind)] = Delivery(row.staff_id, [], token, 0, False)
                d.reports_only = True
            d.ids.append(_id(row.id))
            d.attempts = max(d.attempts, row.attempts)
            d.late = d.late or is_late(self.policy, self.calendar, row.fire_at, now, grace)
            d.reports_only = d.reports_only and row.item_type == "undeliverable"
            d.urgent = row.item_type in URGENT_ITEM_TYPES
            return d

        for row in rows:
            tag = row.stage.partition(":")[2]
            person = lines.setdefault(row.staff_id, {})
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
                    what = DEADLINE_KIND_LABEL[deadline.kind]
                    if case is not None:
                        what = f"{case.code} {what}"
                    responsible = self._handle(session, handles, case)
                    person[("deadline", row.item_id, escalation)] = texts.deadline_line(
                        _id(deadline.id),
                        what,
                        deadline.due,
                        today,
                        escalation=escalation,
                        responsible=responsible,
                    )
                    add(row)
            elif row.item_type in ("meeting", "session"):
                starts, what = None, ""
                if row.item_type == "meeting" and (m := meetings.get(row.item_id)):
                    meeting, mcase = m
                    if not meeting.cancelled:
                        starts = meeting.starts_at
                        what = f"{mcase.code} {MEETING_KIND_LABEL[meeting.kind]}"
                elif (
                    row.item_type == "session"
                    and (s := sessions.get(row.item_id))
                    and not s.cancelled
                ):
                    starts = s.starts_at
                    place = f", {s.place}" if s.place else ""
                    what = f"AG 78 {SESSION_KIND_LABEL[s.kind]} „{s.title}“{place}"
                local = None if starts is None else starts.astimezone(tz)
                if local is None or local <= local_now or tag != local.strftime("%Y%m%d%H%M"):
                    cancel.append(_id(row.id))
                else:
                    person[(row.item_type, row.item_id, False)] = texts.meeting_line(
                        what, local, today
                    )
                    add(row)
            elif row.item_type == "digest":
                reply = self._digest(session, row, today, now, grace)
                if reply is None:
                    cancel.append(_id(row.id))
                else:
                    add(row, "digest").reply = reply
            elif row.item_type == ALERT:  # hours controlling, 90 % rule (issue 7)
                alert = alert_reply(session, self.settings, self.calendar, row, today)
                if alert is None:
                    cancel.append(_id(row.id))
                else:
                    add(row, f"alert:{row.id}").reply = alert  # one message each (issue 14)
            elif row.item_type in rota_texts.ITEM_TYPES:  # on-call messages (issue 6)
                message = rota_texts.compose(session, self.settings, row, now)
                if message is None:
                    cancel.append(_id(row.id))
                else:
                    add(row, f"rota:{row.id}").reply = message
            elif row.item_type == "undeliverable":
                failed = session.get(Staff, row.item_id)
                if failed is None:
                    cancel.append(_id(row.id))
                else:
                    person[("undeliverable", row.item_id, False)] = texts.undeliverable_line(
                        failed.name, failed.handle, row.stage.partition(":")[2]
                    )
                    add(row)
            else:
                log.error("outbox row %s has unknown item type %r", row.id, row.item_type)
                cancel.append(_id(row.id))
        outbox.finish(session, cancel, token, status=CANCELLED, now=now)
        for until, ids in postpone.items():
            outbox.retry_later(
                session, ids, token, send_after=until, count_attempt=False, error=None
            )
        stats.cancelled += len(cancel)
        stats.postponed += sum(len(ids) for ids in postpone.values())
        for (staff_id, kind), d in groups.items():
            if kind == "reminder":
                d.reply = texts.reminder(list(lines[staff_id].values()), late=d.late, now=local_now)
        return list(groups.values())

    def _reroute_absent(
        self,
        session: Session,
        rows: list[OutboxEntry],
        today: date,
        now: datetime,
        cancel: list[int],
        stats: DispatchStats,
    ) -> list[OutboxEntry]:
        """Reminders of someone absent today go to their deputy (issue 6), also when the
        absence was entered after the sweep planned the reminder, and those of someone no
        longer active are dropped; returns the rows kept."""
        routed_types = ("deadline", "meeting", "session")
        people = sorted({r.staff_id for r in rows if r.item_type in routed_types})
        routes = absence_routes(session, people, today)
        # Planned up to `plan_ahead_hours` ago: someone deactivated since gets nothing.
        gone = set(people) - outbox.active_staff(session, people)
        if not routes and not gone:
            return rows
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
        active = outbox.active_staff(session, (e.staff_id for e in moved))
        outbox.insert_entries(session, (e for e in moved if e.staff_id in active), now)
        stats.rerouted += len(moved)
        return keep

    def _handle(self, session: Session, cache: dict[int | None, str], case: Case | None) -> str:
        key = None if case is None else case.provider_staff_id
        if key not in cache:
            staff = session.get(Staff, key) if key is not None else None
            cache[key] = staff.handle if staff is not None else "Koordination"
        return cache[key]

    def _digest(
        self, session: Session, row: OutboxEntry, today: date, now: datetime, grace: timedelta
    ) -> Reply | None:
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
            limit=texts.MAX_LINES,
        )
        if not page.rows:
            return None
        lines = [digest_line(d, code, today) for d, code in page.rows]
        if page.total > len(page.rows):
            lines.append(f"… und {page.total - len(page.rows)} weitere. /fristen zeigt alle.")
        late = is_late(self.policy, self.calendar, row.fire_at, now, grace)
        return texts.digest(lines, week_start=week_start, late=late)

    # -- sending ---------------------------------------------------------------------------

    async def _deliver(self, d: Delivery, stats: DispatchStats) -> None:
        assert d.recipient is not None and d.reply is not None
        transport = d.recipient.transport
        messenger, limiter = self.messengers[transport], self.limiters[transport]
        async with self._in_flight:
            error: DeliveryError | None = None
            for _ in range(_IN_PROCESS_RATE_RETRIES + 1):
                await limiter.acquire()
                try:
                    await messenger.send(d.recipient, d.reply, idempotency_key=d.idempotency_key)
                    error = None
                    break
                except DeliveryError as exc:
                    error = exc
                    if exc.kind is not FailureKind.rate_limited:
                        break
                    stats.rate_limited += 1
                    record_send(transport, "rate_limited")
                    wait = exc.retry_after if exc.retry_after is not None else 1.0
                    limiter.pause(wait)
                    if wait > _MAX_INLINE_WAIT:
                        break  # the row waits in the outbox instead of in this process
                except Exception as exc:  # a bug in an adapter must not stop the others
                    log.exception("messenger %s failed unexpectedly", transport)
                    error = DeliveryError(FailureKind.network, type(exc).__name__)
                    break
        if error is None:
            record_send(transport, "sent")
            taken = await asyncio.to_thread(self._record_sent, d)
            stats.sent_messages += 1
            stats.sent_rows += taken
            stats.lost_claims += len(d.ids) - taken
            stats.by_transport[transport] = stats.by_transport.get(transport, 0) + 1
        else:
            await asyncio.to_thread(self._record_failure, d, error)
            if error.kind is not FailureKind.rate_limited and d.attempts + 1 >= (
                self.settings.reminders.max_attempts
            ):
                stats.failed += len(d.ids)
                record_send(transport, "failed")
            else:
                stats.retried += len(d.ids)
                record_send(transport, "retried")

    def _record_sent(self, d: Delivery) -> int:
        now = self.clock.now()
        with self.db.session() as session:
            taken = outbox.finish(
                session,
                d.ids,
                d.token,
                status=SENT,
                now=now,
                late=d.late,
                transport=None if d.recipient is None else d.recipient.transport,
            )
        if taken < len(d.ids):
            log.warning(
                "%d outbox rows were claimed again before being marked sent", len(d.ids) - taken
            )
        return taken

    def _record_failure(self, d: Delivery, error: DeliveryError) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            self._failed(session, d, error.kind, str(error), error.retry_after, now)

    def _failed(
        self,
        session: Session,
        d: Delivery,
        kind: FailureKind,
        detail: str,
        retry_after: float | None,
        now: datetime,
    ) -> None:
        r = self.settings.reminders
        if kind is FailureKind.rate_limited:
            wait = timedelta(seconds=retry_after if retry_after is not None else 1.0)
            outbox.retry_later(
                session, d.ids, d.token, send_after=now + wait, count_attempt=False, error=kind
            )
            return
        attempts = d.attempts + 1
        if attempts < r.max_attempts:
            later = now + backoff(attempts, r.backoff_seconds, r.backoff_max_seconds)
            if not d.urgent:
                later = next_allowed(self.policy, self.calendar, later)
            outbox.retry_later(
                session, d.ids, d.token, send_after=later, count_attempt=True, error=kind.value
            )
            log.info("delivery to staff %s failed (%s); retry at %s", d.staff_id, kind, later)
            return
        outbox.finish(session, d.ids, d.token, status=FAILED, now=now, error=detail[:200])
        self._report_unreachable(session, d, kind, now)

    def _report_unreachable(
        self, session: Session, d: Delivery, kind: FailureKind, now: datetime
    ) -> None:
        """Never silently dropped: the person's coordinators hear about it."""
        staff = session.get(Staff, d.staff_id)
        if d.reports_only or staff is None:
            log.error("could not deliver a report to staff %s (%s); giving up", d.staff_id, kind)
            return
        coordinators = [
            c
            for c in outbox.coordinators(session, [staff.organisation_id])[staff.organisation_id]
            if c != d.staff_id
        ]
        if not coordinators:
            log.error("staff %s unreachable (%s) and no coordinator to tell", d.staff_id, kind)
            return
        day = now.astimezone(self.settings.tz).strftime("%Y%m%d")
        outbox.insert_entries(
            session,
            (
                NewEntry("undeliverable", d.staff_id, f"{day}:{kind.value}", c, now, now)
                for c in coordinators
            ),
            now,
        )
        log.warning(
            "staff %s unreachable (%s): %d coordinators told", d.staff_id, kind, len(coordinators)
        )


_ITEM_TYPES = ("deadline", "meeting", "session", "digest", "undeliverable")


def _id(value: int | None) -> int:
    assert value is not None
    return value
