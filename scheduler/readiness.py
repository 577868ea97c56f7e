"""`/readyz` and `/metrics` (issue 16): what this process and its database say about delivery.

Ready means: the database answers; the sweep of this process (if it runs one) ran within
2 × `reminders.sweep_seconds`; the oldest due, unsent reminder is younger than
`readyz.outbox_max_age_seconds`; every messenger this process polls or syncs did so within
`readyz.messenger_max_age_seconds`. A reminder counts as due from its first allowed send time:
a row waiting for a retry because its messenger failed (network) keeps that age, so a messenger
that is down shows as a stalled outbox although each row is tried again later.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from config.settings import Settings
from scheduler.clock import Clock
from scheduler.engine import policy_for
from scheduler.metrics import CONTENT_TYPE, METRICS, Metrics
from scheduler.reminders import is_allowed, next_allowed
from scheduler.workdays import WorkCalendar
from storage.db import Database
from storage.ops import OutboxSnapshot, database_answers, outbox_snapshot
from storage.rota import URGENT_ITEM_TYPES

log = logging.getLogger(__name__)

Handler = Callable[[web.BaseRequest], Awaitable[web.Response]]


@dataclass(frozen=True)
class Verdict:
    ready: bool
    failing: dict[str, str]  # check -> short reason
    oldest_due_seconds: float

    def body(self) -> bytes:
        status = "ready" if self.ready else "not ready"
        return json.dumps({"status": status, "failing": self.failing}).encode() + b"\n"


class Readiness:
    """Reads the database and this process's liveness; `clock` is injectable for tests."""

    def __init__(
        self, settings: Settings, db: Database, clock: Clock, metrics: Metrics = METRICS
    ) -> None:
        self.settings, self.db, self.clock, self.metrics = settings, db, clock, metrics
        self.policy = policy_for(settings)
        self.calendar = WorkCalendar(
            subdivision=settings.bundesland,
            workdays=settings.workdays,
            closing_days=settings.one_off_closing_days,
            recurring_closing_days=settings.recurring_closing_days,
        )

    def snapshot(self, now: datetime, *, counts: bool) -> OutboxSnapshot:
        with self.db.session() as session:
            database_answers(session)
            return outbox_snapshot(session, now, URGENT_ITEM_TYPES, counts=counts)

    def oldest_due(self, snapshot: OutboxSnapshot, now: datetime) -> float:
        """Seconds since the oldest due, unsent row became due (0 if there is none).

        Reminders wait outside the sending window by design: they count only while it is
        open, and at most from the moment it opened (a digest caught up overnight is not a
        stall at 08:00). Pages count at any hour."""
        window = self._window_opened(now)
        since: list[datetime] = []
        if snapshot.oldest_urgent is not None:
            since.append(snapshot.oldest_urgent)
        if snapshot.oldest_other is not None and window is not None:
            since.append(max(snapshot.oldest_other, window))
        for row in snapshot.retrying:
            if row.item_type in URGENT_ITEM_TYPES:
                since.append(max(row.fire_at, row.created_at))
            elif window is not None:
                first = next_allowed(self.policy, self.calendar, row.fire_at)
                since.append(max(first, row.created_at, window))
        due = [s for s in since if s <= now]
        return max(0.0, (now - min(due)).total_seconds()) if due else 0.0

    def _window_opened(self, now: datetime) -> datetime | None:
        """When today's sending window opened, if it is open now."""
        if not is_allowed(self.policy, self.calendar, now):
            return None
        local = now.astimezone(self.policy.tz)
        return datetime.combine(local.date(), self.policy.send_from, tzinfo=self.policy.tz)

    def check(self, *, counts: bool = False) -> tuple[Verdict, OutboxSnapshot | None]:
        """Runs in a worker thread: it reads the database (the row counts only for /metrics)."""
        now = self.clock.now()
        failing: dict[str, str] = {}
        snapshot: OutboxSnapshot | None = None
        oldest = 0.0
        try:
            snapshot = self.snapshot(now, counts=counts)
        except Exception as exc:  # any failure to answer is the verdict, not a crash
            log.warning("readiness: the database does not answer (%s)", type(exc).__name__)
            failing["database"] = f"no answer ({type(exc).__name__})"
        if snapshot is not None:
            oldest = self.oldest_due(snapshot, now)
            limit = self.settings.readyz.outbox_max_age_seconds
            if oldest > limit:
                failing["outbox"] = f"oldest due reminder waits {oldest:.0f} s (limit {limit} s)"
        live, stamp = self.metrics.liveness, now.timestamp()
        every = live.sweep_expected_every
        sweep_age = live.sweep_age(stamp)
        if every is not None and sweep_age is not None and sweep_age > 2 * every:
            failing["sweep"] = f"last sweep {sweep_age:.0f} s ago (limit {2 * every:.0f} s)"
        limit_contact = self.settings.readyz.messenger_max_age_seconds
        for name in sorted(live.messengers_started):
            age = live.messenger_age(name, stamp)
            if age is not None and age > limit_contact:
                failing[name] = f"last contact {age:.0f} s ago (limit {limit_contact} s)"
        return Verdict(not failing, failing, oldest), snapshot

    async def readyz(self, request: web.BaseRequest) -> web.Response:
        verdict, _ = await asyncio.to_thread(self.check)
        return web.Response(
            status=200 if verdict.ready else 503,
            body=verdict.body(),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def metrics_page(self, request: web.BaseRequest) -> web.Response:
        verdict, snapshot = await asyncio.to_thread(self.check, counts=True)
        self.metrics.refresh(snapshot, verdict.oldest_due_seconds, self.clock.now().timestamp())
        return web.Response(
            body=self.metrics.exposition(),
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    def routes(self) -> dict[str, Handler]:
        return {"/metrics": self.metrics_page, "/readyz": self.readyz}

    async def healthz(self, request: web.BaseRequest) -> web.Response:
        await asyncio.to_thread(self._ping)
        return web.Response(text="ok\n", headers={"Cache-Control": "no-store"})

    def _ping(self) -> None:
        with self.db.session() as session:
            database_answers(session)


async def serve_alone(settings: Settings, db: Database, clock: Clock) -> None:
    """`/metrics`, `/readyz`, `/healthz` on `metrics.host:metrics.port` until cancelled
    (a process without the web service)."""
    ops = Readiness(settings, db, clock)
    routes = {**ops.routes(), "/healthz": ops.healthz}

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        handler = routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        if request.method not in ("GET", "HEAD"):
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
        return await handler(request)

    runner = web.ServerRunner(web.Server(handle), access_log=None)
    await runner.setup()
    port = settings.metrics.port
    assert port is not None
    try:
        await web.TCPSite(runner, settings.metrics.host, port).start()
        log.info("metrics on %s:%s", settings.metrics.host, port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
