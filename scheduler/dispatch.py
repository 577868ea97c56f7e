"""The dispatcher: claims due outbox rows per person, sends one message each, records the fate.

Delivery is at-least-once, and twice only after a crash (issue 11): a claim's lease (on the
database clock) is renewed every `lease/4` while its process sends, every send is bounded by
`lease/3`, and "mark sent" is fenced by the claim token, so no other process takes a row over
while its sender lives. A process killed between a send and its "mark sent" leaves the rows
to be claimed again once the lease ends; they go first, under the same idempotency key
(Matrix transaction ids make that resend a no-op). At most `max_in_flight` messages per killed
process can be affected. The rate of each messenger account is shared by all schedulers on
one database (`scheduler.pacing`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic

from sqlmodel import Session

from config.settings import Settings
from scheduler.clock import Clock
from scheduler.compose import Composer, Delivery
from scheduler.engine import policy_for
from scheduler.metrics import record_send
from scheduler.pacing import Pacer, pacer_for
from scheduler.ports import DeliveryError, FailureKind, M, Messenger, Recipient, Renderer
from scheduler.reminders import backoff, is_allowed, next_allowed
from scheduler.workdays import WorkCalendar
from storage import delivery, outbox, recipients
from storage.db import Database
from storage.delivery import FAILED, SENT
from storage.models.staff import Staff
from storage.outbox import NewEntry
from storage.rota import URGENT_ITEM_TYPES

log = logging.getLogger(__name__)

__all__ = ["Delivery", "DispatchStats", "Dispatcher"]

_IN_PROCESS_RATE_RETRIES = 3
_MAX_INLINE_WAIT = 2.0  # seconds a rate-limited send may wait in memory before requeueing
_TIMEOUT = "timeout"


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
    timeouts: int = 0
    lost_claims: int = 0  # rows another sender took over (this process stalled): logged
    renewals: int = 0
    rerouted: int = 0  # rows of a person absent at send time, handed to their deputy
    by_transport: dict[str, int] = field(default_factory=dict)


class Dispatcher(Generic[M]):
    """Sends what the sweep wrote, through the configured messengers."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        calendar: WorkCalendar,
        messengers: Mapping[str, Messenger[M]],
        renderer: Renderer[M],
        *,
        pacer: Pacer | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.calendar = calendar
        self.messengers = dict(messengers)
        self.policy = policy_for(settings)
        self.composer = Composer(
            settings,
            self.policy,
            calendar,
            renderer,
            {t: m.max_chars for t, m in self.messengers.items()},
        )
        r = settings.reminders
        self.pacer = pacer or pacer_for(settings, db)
        self.lease = float(r.lease_seconds)
        self.send_timeout = self.lease / 3
        self._in_flight = asyncio.Semaphore(r.max_in_flight)
        self.claim_people = max(r.max_in_flight * 4, 16)

    async def dispatch(self) -> DispatchStats:
        """Send everything due now; returns when nothing is due (or sending is not allowed)."""
        stats = DispatchStats()
        while True:
            # Outside the sending window only pages and handovers go out (issue 6).
            quiet = not is_allowed(self.policy, self.calendar, self.clock.now())
            only = URGENT_ITEM_TYPES if quiet else None
            token = delivery.new_claim_token()
            rerouted = stats.rerouted
            deliveries, claimed, people = await asyncio.to_thread(self._claim, token, stats, only)
            stats.claimed += claimed
            if claimed == 0:
                break
            heartbeat = asyncio.create_task(self._heartbeat(token, stats))
            try:
                # Interrupted rows (an earlier send key) first: the retry the crash owes.
                first = [d for d in deliveries if d.send_key != token]
                await asyncio.gather(*(self._deliver(d, stats) for d in first))
                rest = [d for d in deliveries if d.send_key == token]
                await asyncio.gather(*(self._deliver(d, stats) for d in rest))
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
            if people < self.claim_people and stats.rerouted == rerouted:
                break  # rerouted rows were written for now: send them in this round too
        return stats

    async def _heartbeat(self, token: str, stats: DispatchStats) -> None:
        """Renew the claim every lease/4 while its messages are being sent."""
        while True:
            await asyncio.sleep(self.lease / 4)
            try:
                renewed = await asyncio.to_thread(self._renew, token)
            except Exception:
                log.exception("could not renew a delivery lease")
                continue
            stats.renewals += 1
            if renewed == 0:
                return

    def _renew(self, token: str) -> int:
        with self.db.session() as session:
            return delivery.renew(session, token, self.lease)

    # -- claiming and composing (one short transaction, no network call) ----------------

    def _claim(
        self, token: str, stats: DispatchStats, only: Sequence[str] | None = None
    ) -> tuple[list[Delivery[M]], int, int]:
        """(messages ready to send, rows claimed, people claimed)."""
        now = self.clock.now()
        with self.db.session() as session:
            rows = delivery.claim(
                session,
                now=now,
                lease_seconds=self.lease,
                token=token,
                people=self.claim_people,
                item_types=only,
            )
            if not rows:
                return [], 0, 0
            reachable = recipients.identities(
                session, {r.staff_id for r in rows}, sorted(self.messengers)
            )
            composed = self.composer.compose(
                session, rows, token, now, {s: a[0] for s, a in reachable.items()}
            )
            stats.cancelled += composed.cancelled
            stats.postponed += composed.postponed
            stats.rerouted += composed.rerouted
            ready: list[Delivery[M]] = []
            for d in composed.deliveries:
                account = reachable.get(d.staff_id)
                if account is None:
                    self._failed(session, d, FailureKind.unknown_user, "no account", None, now)
                    stats.retried += 1
                    continue
                d.recipient = Recipient(d.staff_id, account[0], account[1])
                ready.append(d)
        return ready, len(rows), len({r.staff_id for r in rows})

    # -- sending ---------------------------------------------------------------------------

    async def _deliver(self, d: Delivery[M], stats: DispatchStats) -> None:
        assert d.recipient is not None and d.replies
        transport = d.recipient.transport
        async with self._in_flight:
            error: DeliveryError | None = None
            for part, reply in enumerate(d.replies):
                error = await self._send(d, part, reply, stats)
                if error is not None:
                    break
        if error is None:
            record_send(transport, "sent")  # before the write: /metrics never lags /readyz
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

    async def _send(
        self, d: Delivery[M], part: int, reply: M, stats: DispatchStats
    ) -> DeliveryError | None:
        assert d.recipient is not None
        transport = d.recipient.transport
        messenger = self.messengers[transport]
        for _ in range(_IN_PROCESS_RATE_RETRIES + 1):
            await self.pacer.acquire(transport, d.recipient.external_id)
            try:
                await asyncio.wait_for(
                    messenger.send(d.recipient, reply, idempotency_key=d.key(part)),
                    self.send_timeout,
                )
                return None
            except DeliveryError as exc:
                if exc.kind is not FailureKind.rate_limited:
                    return exc
                stats.rate_limited += 1
                record_send(transport, "rate_limited")
                wait = exc.retry_after if exc.retry_after is not None else 1.0
                await self.pacer.pause(transport, wait)
                if wait > _MAX_INLINE_WAIT:
                    return exc  # the row waits in the outbox instead of in this process
                error = exc
            except TimeoutError:
                stats.timeouts += 1
                log.warning("a send to staff %s timed out; retried later", d.staff_id)
                return DeliveryError(FailureKind.network, _TIMEOUT)
            except Exception as exc:  # a bug in an adapter must not stop the others
                log.exception("messenger %s failed unexpectedly", transport)
                return DeliveryError(FailureKind.network, type(exc).__name__)
        return error

    def _record_sent(self, d: Delivery[M]) -> int:
        now = self.clock.now()
        with self.db.session() as session:
            taken = delivery.finish(
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
                "%d outbox rows were no longer claimed when marked sent (the claim was lost)",
                len(d.ids) - taken,
            )
        return taken

    def _record_failure(self, d: Delivery[M], error: DeliveryError) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            self._failed(session, d, error.kind, str(error), error.retry_after, now)

    def _failed(
        self,
        session: Session,
        d: Delivery[M],
        kind: FailureKind,
        detail: str,
        retry_after: float | None,
        now: datetime,
    ) -> None:
        r = self.settings.reminders
        if kind is FailureKind.rate_limited:
            wait = timedelta(seconds=retry_after if retry_after is not None else 1.0)
            delivery.retry_later(
                session, d.ids, d.token, send_after=now + wait, count_attempt=False, error=kind
            )
            return
        if detail == _TIMEOUT:  # it may have arrived: soon again, under the same key
            delivery.retry_later(
                session,
                d.ids,
                d.token,
                send_after=now + timedelta(seconds=self.lease),
                count_attempt=True,
                error=_TIMEOUT,
                keep_key=True,
            )
            return
        attempts = d.attempts + 1
        if attempts < r.max_attempts:
            later = now + backoff(attempts, r.backoff_seconds, r.backoff_max_seconds)
            if not d.urgent:
                later = next_allowed(self.policy, self.calendar, later)
            delivery.retry_later(
                session, d.ids, d.token, send_after=later, count_attempt=True, error=kind.value
            )
            log.info("delivery to staff %s failed (%s); retry at %s", d.staff_id, kind, later)
            return
        delivery.finish(session, d.ids, d.token, status=FAILED, now=now, error=detail[:200])
        self._report_unreachable(session, d, kind, now)

    def _report_unreachable(
        self, session: Session, d: Delivery[M], kind: FailureKind, now: datetime
    ) -> None:
        """Never silently dropped: the person's coordinators hear about it."""
        staff = session.get(Staff, d.staff_id)
        if d.reports_only or staff is None:
            log.error("could not deliver a report to staff %s (%s); giving up", d.staff_id, kind)
            return
        coordinators = [
            c
            for c in recipients.coordinators(session, [staff.organisation_id])[
                staff.organisation_id
            ]
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
