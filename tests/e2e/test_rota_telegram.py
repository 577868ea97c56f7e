"""Issue 6 through the real Telegram adapter and the real TelegramMessenger (the test Bot API
server): a page at night reaches the on-call person with a button, the button acknowledges it,
the caller is told; a swap request is confirmed with its button."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ExtBot

from bot.core import Bot
from bot.reminder_render import GermanRenderer
from bot.telegram import TelegramAdapter
from bot.telegram_rate_limiter import TelegramRateLimiter
from bot.telegram_send import TelegramMessenger
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from scheduler.rota_sweep import RotaSweeper
from tests.telegram_api import RateLimits, TelegramTestServer, User
from tests.telegram_harness import demo_codes, running_adapter

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def server() -> AsyncIterator[TelegramTestServer]:
    async with TelegramTestServer(limits=RateLimits.off()) as test_server:
        yield test_server


@pytest.fixture
async def adapter(bot: Bot, server: TelegramTestServer) -> AsyncIterator[TelegramAdapter]:
    async with running_adapter(bot, server) as running:
        yield running


@pytest.fixture
async def dispatcher(
    bot: Bot, server: TelegramTestServer, clock: FixedClock
) -> AsyncIterator[Dispatcher]:
    """The reminder engine's dispatcher sending through the real TelegramMessenger."""
    ext: ExtBot[Any] = ExtBot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        rate_limiter=TelegramRateLimiter(max_retries=0),
    )
    await ext.initialize()
    try:
        yield Dispatcher(
            bot.settings,
            bot.db,
            clock,
            bot.calendar,
            {"telegram": TelegramMessenger(ext)},
            GermanRenderer(bot.settings, bot.calendar),
        )
    finally:
        await ext.shutdown()


async def register(server: TelegramTestServer, name: str, code: str) -> User:
    person = server.user(name)
    (welcome,) = await server.say(person, f"/start {code}")
    assert (welcome.text or "").startswith("Willkommen"), welcome.text
    return person


async def test_page_at_night_acknowledged_by_button_through_telegram(
    bot: Bot,
    server: TelegramTestServer,
    adapter: TelegramAdapter,
    dispatcher: Dispatcher,
    clock: FixedClock,
) -> None:
    codes = demo_codes(bot, clock.now())
    mara = await register(server, "Mara", codes["MK"])
    tobias = await register(server, "Tobias", codes["TB"])
    clock.set(datetime(2025, 4, 8, 2, 0, tzinfo=BERLIN))  # Tuesday 02:00, Mara is on call
    (answer,) = await server.say(tobias, "/anpiepen Krise in HB-2026-011, bitte Rückruf")
    assert "geht sofort an Mara Koch (MK)" in (answer.text or "")
    stats = await dispatcher.dispatch()  # quiet hours: only the page goes out
    assert stats.sent_messages == 1
    page = server.sent_to(mara.id)[-1]
    assert "Notfall-Piepser" in (page.text or "") and "„Krise in HB-2026-011, bitte Rückruf“" in (
        page.text or ""
    )
    assert [b["text"] for b in page.buttons] == ["✅ Quittieren"]
    (acked,) = await server.click(mara, page, 0)
    assert "quittiert; keine weitere Eskalation" in (acked.text or "")
    await dispatcher.dispatch()
    told = server.sent_to(tobias.id)[-1]
    assert re.search(
        r"Dein Piepser #\d+ wurde quittiert: Mara Koch \(MK\), 02:00 Uhr", told.text or ""
    )
    # Nothing escalates later.
    clock.set(datetime(2025, 4, 8, 2, 30, tzinfo=BERLIN))
    assert RotaSweeper(bot.settings, bot.db, clock, bot.calendar).tick().escalated == 0


async def test_swap_confirmed_with_the_button_through_telegram(
    bot: Bot,
    server: TelegramTestServer,
    adapter: TelegramAdapter,
    dispatcher: Dispatcher,
    clock: FixedClock,
) -> None:
    codes = demo_codes(bot, clock.now())
    jonas = await register(server, "Jonas", codes["JB"])
    tim = await register(server, "Tim", codes["TS"])
    (asked,) = await server.say(jonas, "/tausch 14.04. 21.04.")
    assert "Der Tausch gilt, sobald Tim Sommer (TS) bestätigt" in (asked.text or "")
    await dispatcher.dispatch()
    request = server.sent_to(tim.id)[-1]
    assert "Tauschanfrage" in (request.text or "")
    (done,) = await server.click(tim, request, "✅ Tausch bestätigen")
    assert "Der Tausch gilt ab sofort" in (done.text or "")
    await dispatcher.dispatch()
    assert "gilt" in (server.sent_to(jonas.id)[-1].text or "")


async def test_rotation_changed_and_shift_taken_over_through_telegram(
    bot: Bot,
    server: TelegramTestServer,
    adapter: TelegramAdapter,
    dispatcher: Dispatcher,
    clock: FixedClock,
) -> None:
    """Issue 15: a coordinator changes the rotation from the phone; the new member hears of
    her next shift; at night a member takes over the running shift and the relieved
    coordinator is told at once."""
    codes = demo_codes(bot, clock.now())
    mara = await register(server, "Mara", codes["MK"])
    lea = await register(server, "Lea", codes["LW"])
    (changed,) = await server.say(
        mara, "/rufbereitschaft_aendern Weserufer mitglieder=MK,JB,TS,LW ab=21.04."
    )
    assert "geändert, gültig ab Mo 21.04.2025, 09:00" in (changed.text or "")
    await dispatcher.dispatch()
    told = server.sent_to(lea.id)[-1].text or ""
    assert told.startswith("🔄 Rufbereitschaft „Rufbereitschaft Weserufer“"), told
    assert "jetzt: Mo 28.04.2025, 09:00 – Mo 05.05.2025, 09:00" in told
    clock.set(datetime(2025, 4, 8, 2, 0, tzinfo=BERLIN))  # Tuesday 02:00, Mara is on call
    (taken,) = await server.say(lea, "/uebernehmen")
    assert "Du hast jetzt die Rufbereitschaft" in (taken.text or "")
    assert "(statt Mara Koch (MK))" in (taken.text or "")
    stats = await dispatcher.dispatch()  # quiet hours: only what cannot wait
    assert stats.sent_messages == 1
    relieved = server.sent_to(mara.id)[-1].text or ""
    assert "(Lea Wolf (LW) hat übernommen)" in relieved
    assert "bisher: Mo 07.04.2025, 09:00 – Mo 14.04.2025, 09:00" in relieved
