"""C7 (issue 14) end to end on Telegram: a provider caseworker sends /mitteilung through the
real adapter; the reminder engine's dispatcher delivers it to the case's ASD contact through
the real TelegramMessenger (the test Bot API server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram.ext import ExtBot

from bot.core import Bot
from bot.reminder_render import GermanRenderer
from bot.telegram_rate_limiter import TelegramRateLimiter
from bot.telegram_send import TelegramMessenger
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from tests.telegram_api import RateLimits, TelegramTestServer
from tests.telegram_harness import demo_codes, running_adapter


@pytest.fixture
async def server() -> AsyncIterator[TelegramTestServer]:
    async with TelegramTestServer(limits=RateLimits.off()) as test_server:
        yield test_server


async def test_a_notice_reaches_the_asd_contact_on_telegram(
    bot: Bot, server: TelegramTestServer, clock: FixedClock
) -> None:
    codes = demo_codes(bot, clock.now())
    ext: ExtBot[Any] = ExtBot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        rate_limiter=TelegramRateLimiter(max_retries=0),
    )
    await ext.initialize()
    try:
        dispatcher = Dispatcher(
            bot.settings,
            bot.db,
            clock,
            bot.calendar,
            {"telegram": TelegramMessenger(ext)},
            GermanRenderer(bot.settings, bot.calendar),
        )
        async with running_adapter(bot, server):
            jonas, tobias = server.user("Jonas"), server.user("Tobias")
            for person, handle in ((jonas, "JB"), (tobias, "TB")):
                (welcome,) = await server.say(person, f"/start {codes[handle]}")
                assert (welcome.text or "").startswith("Willkommen")
            (told,) = await server.say(
                jonas, "/mitteilung HB-2026-011 gruppenangebot Elterncafé dienstags begonnen"
            )
            assert "geht an Tobias Brandt (TB)" in (told.text or "")
            stats = await dispatcher.dispatch()
    finally:
        await ext.shutdown()
    assert stats.sent_messages == 1
    notice = server.sent_to(tobias.id)[-1].text or ""
    assert notice.startswith(
        "📨 Mitteilung zu HB-2026-011 (begonnenes Gruppenangebot) von Jonas Berg (JB)"
    )
    assert "„Elterncafé dienstags begonnen“" in notice
