"""A third messenger is one new file and one line in the table (issue 17): the test-only
`tests/echo_messenger.py`, listed, chats through the core and carries reminders."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot import messengers
from bot.app import App
from bot.core import Bot
from bot.messengers import Listed
from bot.runner import run_services
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from tests import echo_messenger
from tests.echo_messenger import Wire


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    monkeypatch.setitem(messengers.MESSENGERS, "echo", Listed("tests.echo_messenger"))
    fresh = Wire()
    monkeypatch.setattr(echo_messenger, "WIRE", fresh)
    return fresh


async def until(condition: object, seconds: float = 60.0) -> None:
    """Wait, on a busy machine too, until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_listed_test_messenger_chats_and_carries_the_reminders(
    wire: Wire,
    settings: Settings,
    db: Database,
    clock: FixedClock,
    bot: Bot,
    demo_codes: dict[str, str],
) -> None:
    reminders = settings.reminders.model_copy(update={"messengers": ["echo"]})
    echo_settings = settings.model_copy(update={"reminders": reminders})
    app = App(echo_settings, db, clock, Bot(echo_settings, db, clock))

    # The chat alone: Jonas registers over the new messenger.
    wire.inbox.put_nowait(("echo-jonas", f"/start {demo_codes['JB']}"))
    wire.inbox.put_nowait(None)
    await asyncio.wait_for(run_services(app, ["echo"]), 60)
    ((user, welcome),) = wire.answers
    assert user == "echo-jonas" and welcome.text.startswith("Willkommen")

    # With the reminder engine: Monday 10:00, the weekly digest goes out on the new messenger.
    running = asyncio.create_task(run_services(app, ["echo", "scheduler"]))
    try:
        await until(lambda: wire.sent)
        wire.inbox.put_nowait(("echo-jonas", "/fristen"))
        await until(lambda: len(wire.answers) == 2)
        wire.inbox.put_nowait(None)
        await asyncio.wait_for(running, 60)
    finally:
        running.cancel()
    (sent,) = wire.sent
    assert sent.recipient.transport == "echo" and sent.recipient.external_id == "echo-jonas"
    assert sent.reply.text.startswith("Deine Fristen in KW 15")
    assert re.fullmatch(r"koopbot-[0-9a-f]{32}", sent.key)
    listed = wire.answers[1][1].text
    codes = set(re.findall(r"HB-\d{4}-\d{3}", sent.reply.text))
    assert codes and codes <= set(re.findall(r"HB-\d{4}-\d{3}", listed))


def test_a_listed_module_without_a_messenger_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(messengers.MESSENGERS, "fake", Listed("tests.reminder_fakes"))
    with pytest.raises(TypeError, match=r"tests\.reminder_fakes defines no MESSENGER"):
        messengers.messenger("fake")
