"""koopbot's real Telegram adapter against the test Bot API server, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from bot.core import Bot, build_calendar
from bot.demo import demo_invites, load_demo
from bot.telegram import TelegramAdapter
from config.messengers import TelegramSettings
from tests.telegram_api import TelegramTestServer


def telegram_settings(server: TelegramTestServer, **overrides: Any) -> TelegramSettings:
    """Settings pointing the adapter at `server` (token from the server, short long polls)."""
    values: dict[str, Any] = {
        "token": server.token,
        "base_url": server.base_url,
        "base_file_url": server.base_file_url,
        "poll_timeout": 10,
    }
    values.update(overrides)
    return TelegramSettings(**values)


@asynccontextmanager
async def running_adapter(
    core: Bot, server: TelegramTestServer, **overrides: Any
) -> AsyncIterator[TelegramAdapter]:
    """Start the adapter (PTB Application, long polling unless overridden); always stop it."""
    adapter = TelegramAdapter(core, telegram_settings(server, **overrides))
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


def demo_codes(core: Bot, now: datetime) -> dict[str, str]:
    """Load the demo organisation; one-time invite codes by staff handle (MK, JB, …)."""
    with core.db.session() as session:
        load_demo(session, core.settings, build_calendar(core.settings), now)
        return {staff.handle: code for staff, code in demo_invites(session, core.settings, now)}
