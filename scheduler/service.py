"""APScheduler wiring of the reminder engine: a few periodic jobs, never one job per reminder.

APScheduler keeps no state here (memory job store): the database is the source of truth, so
start-up time and memory do not depend on the number of deadlines, and any number of
processes may run these jobs side by side.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.log_messenger import LogMessenger
from bot.outgoing import Messenger
from config.settings import Settings
from scheduler import metrics
from scheduler.clock import Clock
from scheduler.dispatch import Dispatcher
from scheduler.engine import Sweeper
from scheduler.pacing import single_scheduler
from scheduler.rota_sweep import RotaSweeper
from scheduler.workdays import WorkCalendar
from storage.db import Database

if TYPE_CHECKING:
    from bot.runner import App

log = logging.getLogger(__name__)

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ReminderService:
    """The sweep, the dispatcher and the weekly digest as periodic jobs."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        calendar: WorkCalendar,
        messengers: Mapping[str, Messenger],
    ) -> None:
        self.settings = settings
        self.db, self.clock, self.calendar = db, clock, calendar
        self.sweeper = Sweeper(settings, db, clock, calendar)
        self.dispatcher = Dispatcher(settings, db, clock, calendar, messengers)
        self.rota = RotaSweeper(settings, db, clock, calendar)

    async def sweep_job(self) -> None:
        """Plan due reminders into the outbox."""
        started = time.perf_counter()
        await asyncio.to_thread(self.sweeper.sweep)
        metrics.observe_tick(
            "sweep", time.perf_counter() - started, at=self.clock.now().timestamp()
        )

    async def rota_job(self) -> None:
        """Escalate unacknowledged pages, remind and check handovers, report gaps (issue 6);
        then send at once, so a page's escalation does not wait for the next dispatch tick."""
        stats = await asyncio.to_thread(self.rota.tick)
        if stats.escalated or stats.handover_rows:
            await self.dispatch_job()

    async def dispatch_job(self) -> None:
        """Send what is due."""
        started = time.perf_counter()
        stats = await self.dispatcher.dispatch()
        metrics.observe_tick("dispatch", time.perf_counter() - started)
        if stats.claimed:
            log.info(
                "dispatch: %d messages for %d rows, %d retried, %d failed, %d cancelled",
                stats.sent_messages,
                stats.sent_rows,
                stats.retried,
                stats.failed,
                stats.cancelled,
            )

    async def controlling_job(self) -> None:
        """The 90 % rule (issue 7) after a quarter ended: alerts once per quarter."""
        await asyncio.to_thread(self.evaluate_controlling)

    def evaluate_controlling(self) -> int:
        from bot.controlling_alerts import queue_alerts

        with self.db.session() as session:
            found = queue_alerts(session, self.settings, self.calendar, self.clock.now())
        return len(found)

    async def chains_job(self) -> None:
        """Extend the periodic report series of open cases whose series ran out (C1, D2)."""
        await asyncio.to_thread(self.extend_chains)

    def extend_chains(self) -> int:
        from bot.casework import extend_chains

        with self.db.session() as session:
            return extend_chains(
                session, calendar=self.calendar, periods=self.settings.periods, now=self.clock.now()
            )

    async def retention_job(self) -> None:
        """Delete or anonymise what has passed its retention period (issue 12, DOMAIN.md P4)."""
        from bot.privacy_cli import run_retention

        await asyncio.to_thread(run_retention, self.settings, self.db, self.clock.now())

    async def digest_job(self) -> None:
        """Queue this week's digest once its time has come (a no-op when already queued)."""
        await asyncio.to_thread(self.sweeper.queue_digest)

    def build_scheduler(self) -> AsyncIOScheduler:
        r = self.settings.reminders
        tz = self.settings.tz
        # coalesce + no misfire limit: a tick missed while the loop was busy or the machine
        # slept runs once, late, instead of being dropped (APScheduler's default grace is 1 s).
        scheduler = AsyncIOScheduler(
            timezone=tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        scheduler.add_job(
            self.sweep_job, IntervalTrigger(seconds=r.sweep_seconds, timezone=tz), id="sweep"
        )
        scheduler.add_job(
            self.dispatch_job,
            IntervalTrigger(seconds=r.dispatch_seconds, timezone=tz),
            id="dispatch",
        )
        scheduler.add_job(
            self.rota_job,
            IntervalTrigger(seconds=self.settings.oncall.check_seconds, timezone=tz),
            id="rota",
        )
        scheduler.add_job(
            self.digest_job,
            CronTrigger(
                day_of_week=_DAYS[r.digest_weekday],
                hour=r.digest_time.hour,
                minute=r.digest_time.minute,
                timezone=tz,
            ),
            id="digest",
        )
        scheduler.add_job(self.chains_job, CronTrigger(hour=5, minute=30, timezone=tz), id="chains")
        kept = self.settings.retention.run_time
        scheduler.add_job(
            self.retention_job,
            CronTrigger(hour=kept.hour, minute=kept.minute, timezone=tz),
            id="retention",
        )
        evaluate = self.settings.controlling.evaluate_time
        scheduler.add_job(
            self.controlling_job,
            CronTrigger(
                hour=evaluate.hour,
                minute=evaluate.minute,
                timezone=tz,  # daily (issue 14)
            ),
            id="controlling",
        )
        return scheduler

    async def run(self) -> None:
        """Catch up at once (sweep, digest, dispatch), then run the periodic jobs until cancelled."""
        scheduler = self.build_scheduler()
        metrics.METRICS.expect_sweep(self.settings.reminders.sweep_seconds)
        await self.chains_job()
        await self.sweep_job()
        await self.digest_job()
        await self.controlling_job()
        await self.rota_job()
        await self.dispatch_job()
        # What start-up and the catch-up built lives as long as the process: frozen out of the
        # collector's way, a full collection during a later sweep costs ~1 ms, not ~50 ms.
        gc.collect()
        gc.freeze()
        scheduler.start()
        log.info("reminder engine ready: caught up, periodic jobs running")
        try:
            await asyncio.get_running_loop().create_future()  # until cancelled
        finally:
            scheduler.shutdown(wait=False)


MessengerFactory = Callable[["App"], Awaitable[Messenger]]


async def _console(app: App) -> Messenger:
    return LogMessenger("console")


async def _telegram(app: App) -> Messenger:
    from telegram.ext import ExtBot

    from bot.telegram_rate_limiter import TelegramRateLimiter
    from bot.telegram_send import TelegramMessenger

    config = app.settings.telegram
    # max_retries=0: a 429 comes back to the dispatcher, which requeues the reminder.
    bot: ExtBot[dict[str, Any]] = ExtBot(
        config.read_token(),
        base_url=config.base_url,
        base_file_url=config.base_file_url,
        rate_limiter=TelegramRateLimiter(max_retries=0),
    )
    await bot.initialize()
    return TelegramMessenger(bot)


async def _matrix(app: App) -> Messenger:
    # The device of the `matrix` service (same crypto store, same transaction ids).
    from bot.matrix import MatrixMessenger, shared_adapter

    return MatrixMessenger(shared_adapter(app))


# Transports the scheduler can send on, by the `reminders.messengers` setting. A new
# messenger adds its factory here.
MESSENGER_FACTORIES: dict[str, MessengerFactory] = {
    "console": _console,
    "telegram": _telegram,
    "matrix": _matrix,
}


async def reminder_service(app: App) -> None:
    """The `scheduler` service of `koopbot run` and `koopbot scheduler`."""
    wanted = app.settings.reminders.messengers
    unknown = [t for t in wanted if t not in MESSENGER_FACTORIES]
    if unknown:
        raise ValueError(
            f"reminders.messengers: no messenger for {unknown}; known: {sorted(MESSENGER_FACTORIES)}"
        )
    # One scheduler per SQLite file (issue 11): a second one waits; on PostgreSQL any number.
    lock = await single_scheduler(app.db)
    try:
        messengers = {t: await MESSENGER_FACTORIES[t](app) for t in wanted}
        service = ReminderService(app.settings, app.db, app.clock, app.bot.calendar, messengers)
        log.info("reminder engine started (messengers: %s)", ", ".join(sorted(messengers)))
        await service.run()
    finally:
        if lock is not None:
            lock.close()
