"""`koopbot run`: the configured services side by side in one asyncio process."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.core import Bot
from config.errors import ConfigError
from config.settings import Settings
from scheduler.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class App:
    """What every service shares: one settings object, one database, one clock, one core."""

    settings: Settings
    db: Database
    clock: Clock
    bot: Bot


Service = Callable[[App], Coroutine[Any, Any, None]]  # runs until done or cancelled


async def console_service(app: App) -> None:
    """The console chat; stdin is read in a daemon thread so other services keep running
    and a signal can end the process while the thread still waits for input."""
    import threading

    from bot.console import chat

    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def done() -> None:
        if not finished.done():
            finished.set_result(None)

    def worker() -> None:
        try:
            chat(app.bot, app.settings.console_user)
        finally:
            loop.call_soon_threadsafe(done)

    threading.Thread(target=worker, name="console", daemon=True).start()
    await finished


async def matrix_service(app: App) -> None:
    """The Matrix adapter (matrix-nio, end-to-end encrypted); needs the `[matrix]` settings."""
    from bot.matrix import run_matrix

    await run_matrix(app)


async def telegram_service(app: App) -> None:
    """The Telegram adapter (python-telegram-bot, long polling or webhook)."""
    from telegram.error import InvalidToken

    from bot.telegram import TelegramAdapter

    adapter = TelegramAdapter(app.bot, app.settings.telegram)
    try:
        await adapter.run()
    except InvalidToken:
        # A well-formed token that Telegram does not know: a setting, not a bug (issue 12).
        raise ConfigError(
            "telegram.token: Telegram hat das Token abgelehnt (InvalidToken)"
        ) from None


async def web_service(app: App) -> None:
    """The calendar feed server (scheduler/web.py); settings section `[web]`."""
    from scheduler.web import serve

    await serve(app.settings, app.db, app.clock)


async def scheduler_service(app: App) -> None:
    """The reminder engine (scheduler/service.py): sweep, dispatch, digest; section `[reminders]`."""
    from scheduler.service import reminder_service

    await reminder_service(app)


async def metrics_service(app: App) -> None:
    """/metrics, /readyz, /healthz on `metrics.port`, for a process without the web service."""
    from scheduler.readiness import serve_alone

    await serve_alone(app.settings, app.db, app.clock)


SERVICES: dict[str, Service] = {
    "console": console_service,
    "telegram": telegram_service,
    "matrix": matrix_service,
    "web": web_service,
    "scheduler": scheduler_service,
    "metrics": metrics_service,
}


def with_configured_messengers(settings: Settings) -> list[str]:
    """The `services` setting plus each messenger whose credentials are configured."""
    names = list(settings.services)
    if settings.telegram.configured and "telegram" not in names:
        names.append("telegram")
    if settings.matrix.configured and "matrix" not in names:
        names.append("matrix")
    return names


async def run_services(app: App, names: list[str]) -> None:
    """Start the named services; stop all when one ends or on SIGINT/SIGTERM."""
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise ValueError(f"unbekannte Dienste {unknown}; bekannt: {sorted(SERVICES)}")
    from bot.backup_cli import hold_running_lock

    lock = hold_running_lock(app.settings)  # `koopbot restore` waits for a stopped installation
    if app.settings.metrics.port is not None and "web" not in names and "metrics" not in names:
        names = [*names, "metrics"]  # issue 16: metrics of a process without the web service
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(SERVICES[name](app), name=name) for name in names]
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
