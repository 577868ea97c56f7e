"""`koopbot run`: the configured services side by side in one asyncio process."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

from bot import messengers
from bot.app import App, Service
from config.errors import ConfigError
from config.settings import Settings

log = logging.getLogger(__name__)


async def web_service(app: App) -> None:
    """The calendar feed server (scheduler/web.py); settings section `[web]`."""
    from scheduler.web import serve

    await serve(app.settings, app.db, app.clock)


async def scheduler_service(app: App) -> None:
    """The reminder engine (scheduler/service.py): sweep, dispatch, digest; section `[reminders]`.

    The composition root of the engine: the messengers of `reminders.messengers` are built
    here and handed in with the German texts (bot/reminder_engine.py)."""
    from bot.reminder_engine import reminder_engine
    from scheduler.service import run_engine

    wanted = app.settings.reminders.messengers
    unknown = [t for t in wanted if t not in messengers.MESSENGERS]
    if unknown:
        raise ValueError(
            f"reminders.messengers: no messenger for {unknown}; known: {sorted(messengers.MESSENGERS)}"
        )
    outgoing = {t: await messengers.messenger(t).outgoing(app) for t in wanted}
    service = reminder_engine(app.settings, app.db, app.clock, app.bot.calendar, outgoing)
    await run_engine(service)


async def metrics_service(app: App) -> None:
    """/metrics, /readyz, /healthz on `metrics.port`, for a process without the web service."""
    from scheduler.readiness import serve_alone

    await serve_alone(app.settings, app.db, app.clock)


# The services besides the messengers' chats (bot/messengers.py).
SERVICES: dict[str, Service] = {
    "web": web_service,
    "scheduler": scheduler_service,
    "metrics": metrics_service,
}


def with_configured_messengers(settings: Settings) -> list[str]:
    """The `services` setting plus each messenger whose credentials are configured."""
    names = list(settings.services)
    return names + [n for n in messengers.configured(settings) if n not in names]


def service(name: str) -> Service:
    """The service called `name`: a messenger's chat or one of SERVICES."""
    if name in messengers.MESSENGERS:
        return messengers.messenger(name).chat
    return SERVICES[name]


async def run_services(app: App, names: list[str]) -> None:
    """Start the named services; stop all when one ends or on SIGINT/SIGTERM."""
    known = {*SERVICES, *messengers.MESSENGERS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unbekannte Dienste {unknown}; bekannt: {sorted(known)}")
    from bot.backup_cli import hold_running_lock

    lock = hold_running_lock(app.settings)  # `koopbot restore` waits for a stopped installation
    if app.settings.metrics.port is not None and "web" not in names and "metrics" not in names:
        names = [*names, "metrics"]  # issue 16: metrics of a process without the web service
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(service(name)(app), name=name) for name in names]
    stopper: asyncio.Task[Any] = asyncio.create_task(stop.wait(), name="signal")
    await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    stopper.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    lock.close()
    for task in tasks:
        if task.done() and not task.cancelled() and isinstance(task.exception(), ConfigError):
            # A bad setting gets one line naming the key, no traceback (issue 12); logged below
            # ERROR, which would repeat it on stderr.
            log.warning("service %s stopped: %s", task.get_name(), task.exception())
            print(f"koopbot: {task.exception()}", file=sys.stderr)
            raise SystemExit(2)
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("service %s failed", task.get_name(), exc_info=task.exception())
            print(
                f"koopbot: Dienst {task.get_name()} fehlgeschlagen: {task.exception()}",
                file=sys.stderr,
            )
            raise SystemExit(1)
