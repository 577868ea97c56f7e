"""koopbot on Telegram: the real adapter (PTB Application, long polling or webhook) against
the test Bot API server, driven as caseworkers use it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot import texts
from bot.core import Bot
from bot.messages import Button, Reply
from bot.registry import Registry
from bot.telegram import BUTTON_EXPIRED, TelegramAdapter
from bot.telegram_webhook import SECRET_HEADER
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.ports import DeliveryError, FailureKind, Recipient
from storage.db import Database
from storage.staff import staff_by_identity
from tests.logcheck import assert_no_secrets
from tests.telegram_api import ApiError, RateLimits, TelegramTestServer, User, texts_of
from tests.telegram_harness import demo_codes, running_adapter

INVITE = r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}"
KOOPBOT = Path(sys.executable).with_name("koopbot")

WEBHOOK_SECRET = "e2e_webhook_secret_4711"
MATRIX_PASSWORD = "e2e matrix password 4711"


@pytest.fixture
async def server() -> AsyncIterator[TelegramTestServer]:
    async with TelegramTestServer(limits=RateLimits.off()) as test_server:
        yield test_server


@pytest.fixture
def codes(bot: Bot, clock: FixedClock) -> dict[str, str]:
    return demo_codes(bot, clock.now())


@pytest.fixture
async def adapter(bot: Bot, server: TelegramTestServer) -> AsyncIterator[TelegramAdapter]:
    async with running_adapter(bot, server) as running:
        yield running


async def register(server: TelegramTestServer, name: str, code: str) -> User:
    """A person opens the deep link t.me/<bot>?start=CODE: Telegram sends `/start CODE`."""
    person = server.user(name)
    (welcome,) = await server.say(person, f"/start {code}")
    assert welcome.text is not None and welcome.text.startswith("Willkommen"), welcome.text
    return person


async def test_deep_link_registration_and_german_menu(
    server: TelegramTestServer, adapter: TelegramAdapter, codes: dict[str, str], db: Database
) -> None:
    menu = server.commands[('{"type": "default"}', "")]
    names = [c["command"] for c in menu]
    assert {"fall_neu", "fristen", "erledigt", "stunden", "notfall", "ag78"} <= set(names)
    assert "start" not in names
    assert next(c for c in menu if c["command"] == "fristen")["description"].startswith(
        "Deine offenen"
    )
    group_menu = server.commands[('{"type": "all_group_chats"}', "")]
    group_names = {c["command"] for c in group_menu}
    assert {"hilfe", "notfall", "ag78"} <= group_names and "fall_neu" not in group_names

    mara = server.user("Mara")
    (welcome,) = await server.say(mara, f"/start {codes['MK']}")
    assert welcome.text is not None
    assert "Willkommen, Mara Koch" in welcome.text and "Koordination" in welcome.text
    with db.session() as session:
        staff = staff_by_identity(session, "telegram", str(mara.id))
        assert staff is not None and staff.handle == "MK"

    # The code works once; a second account gets the German refusal.
    other = server.user("Fremd")
    (refusal,) = await server.say(other, f"/start {codes['MK']}")
    assert refusal.text == texts.INVITE_INVALID
    # Every update was acknowledged through getUpdates' offset.
    await server.wait_for(lambda: server.pending_updates() == 0)


async def test_a_coordinator_uses_every_core_command(
    server: TelegramTestServer, adapter: TelegramAdapter, codes: dict[str, str]
) -> None:
    mara = await register(server, "Mara", codes["MK"])

    async def say(text: str) -> str:
        (reply,) = await server.say(mara, text)
        assert reply.text is not None
        return reply.text

    assert "/fall_neu" in await say("/hilfe")
    created = await say(
        "/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=JB asd=TB empfehlung=fk "
        "kinderschutz=nein"
    )
    # D1 with Easter 2025: start 07.03. + 6 weeks = Good Friday, so the action plan is due 22.04.
    assert "Fall HB-2025-117 angelegt" in created and "Handlungsplan – Di 22.04.2025" in created
    assert "HB-2025-117" in await say("/faelle")
    assert "Ersthilfeplan gültig bis 06.09.2025" in await say("/fall HB-2025-117")
    # D3: HPG on Mon 02.06.2025, report 6 weeks before lands on Easter Monday -> Thu 17.04.
    assert "Bericht – Do 17.04.2025" in await say("/hpg HB-2025-117 02.06.2025 10:00")
    # D4: 7 working days after Mon 07.04.2025 (Good Friday and Easter Monday excluded).
    assert "Abstimmungsgespräch – Mi 16.04.2025" in await say("/abstimmung HB-2025-117")
    assert "1,5 Std. direkt" in await say("/stunden 1,5 HB-2025-117")
    assert "6 Teilnehmende" in await say("/stunden 2 gruppe teilnehmer=6 gestern")
    assert "Deine Stunden" in await say("/meinestunden")
    assert "Zurückgenommen" in await say("/stunden_zurueck")
    assert "Mara Koch (MK), Tel. 0421 555-1010" in await say("/notfall")
    assert "AG 78" in await say("/ag78")

    # /fristen offers a button per deadline; pressing one marks it done.
    (deadlines,) = await server.say(mara, "/fristen")
    assert deadlines.buttons and all(
        b["callback_data"].startswith("/erledigt ") for b in deadlines.buttons
    )
    first = deadlines.buttons[0]
    (done,) = await server.click(mara, deadlines, 0)
    assert done.text is not None and done.text.startswith("Erledigt:")
    number = first["callback_data"].split()[1]
    assert f"#{number} " not in await say("/fristen alle")
    assert "bereits erledigt" in await say(f"/erledigt {number}")

    invite = await say("/einladen mitarbeiter typ=fk")
    code = next(line for line in invite.splitlines() if "-" in line and len(line) == 14)
    nina = await register(server, "Nina", code)  # the Telegram first name becomes her name
    (hello,) = await server.say(nina, "/hilfe")
    assert hello.text is not None and hello.text.startswith("Nina")

    assert "Ein Fall kann nur" in await say("/fall_schliessen HB-2025-117 30.09.2025")
    closed = await say("/fall_schliessen HB-2025-117 07.04.2025")
    assert "HB-2025-117" in closed and "beendet" in closed.lower()


async def test_bad_input_gets_a_german_answer(
    server: TelegramTestServer, adapter: TelegramAdapter, codes: dict[str, str]
) -> None:
    jonas = await register(server, "Jonas", codes["JB"])
    replies = [
        (await server.say(jonas, text))[0].text or ""
        for text in ("/stunden 13 HB-2026-011", "/fall HB-9999-001", "/erledigt abc", "quatsch")
    ]
    assert "höchstens 12 Std." in replies[0]
    assert "finde ich nicht" in replies[1]
    assert "Nummer der Frist" in replies[2]
    assert "kenne ich nicht" in replies[3] or replies[3] == texts.NOT_UNDERSTOOD
    (hours,) = await server.say(jonas, "/meinestunden")
    assert "13" not in (hours.text or "")


async def test_a_stranger_gets_one_polite_refusal(
    server: TelegramTestServer, adapter: TelegramAdapter, codes: dict[str, str]
) -> None:
    stranger = server.user("Unbekannt")
    for text in ("hallo", "/fristen", "/fall HB-2026-011", "/start FALS-CHER-CODE"):
        (reply,) = await server.say(stranger, text)
        assert reply.text in (texts.STRANGER, texts.INVITE_INVALID)
        assert "HB-2026" not in (reply.text or "")


async def test_group_chat_answers_group_safe_commands_only(
    server: TelegramTestServer, adapter: TelegramAdapter, codes: dict[str, str]
) -> None:
    mara = await register(server, "Mara", codes["MK"])
    team = server.group("Team Nord")
    (oncall,) = await server.say(mara, "/notfall", chat=team)
    assert "Mara Koch" in (oncall.text or "")
    (sessions,) = await server.say(mara, f"/ag78@{adapter.username}", chat=team)
    assert "AG 78" in (sessions.text or "")
    (private_only,) = await server.say(mara, "/fristen", chat=team)
    assert private_only.text == texts.PRIVATE_ONLY
    assert "HB-" not in (private_only.text or "")
    # Conversation among members and commands for other bots are not the bot's business.
    server.send_text(mara, "Hallo zusammen, wer übernimmt morgen?", chat=team)
    server.send_text(mara, "/notfall@some_other_bot", chat=team)
    (help_,) = await server.say(mara, "/hilfe", chat=team)
    assert "/notfall" in (help_.text or "") and "/fall_neu" not in (help_.text or "")
    assert len(server.sent_to(team.id)) == 4


async def test_long_replies_are_split_under_4096_and_long_buttons_use_tokens(
    bot: Bot, server: TelegramTestServer, codes: dict[str, str]
) -> None:
    registry = Registry()
    long_command = "/hilfe " + "x" * 80  # more than Telegram's 64 bytes of callback data

    @registry.command("lang", summary="Lange Antwort", example="/lang", needs_registration=False)
    def long_reply(ctx: object, args: str) -> Reply:
        lines = [f"Zeile {i:04d}: " + "ä" * 60 for i in range(200)]
        lines.insert(100, "ohne Umbruch " * 500)  # a single line longer than one message
        return Reply("\n".join(lines), buttons=(Button("Weiter", long_command),))

    core = Bot(bot.settings, bot.db, bot.clock, registry=registry)
    async with running_adapter(core, server) as adapter:
        person = server.user("Lena")
        server.send_text(person, "/lang")
        await server.wait_for(lambda: any(m.reply_markup for m in server.sent_to(person.id)))
        pieces = server.sent_to(person.id)
        assert len(pieces) >= 5
        assert all(len(p.text or "") <= 4096 for p in pieces)
        assert [p.text for p in pieces if p.reply_markup] == [pieces[-1].text]
        joined = texts_of(pieces).replace("\n", " ")
        assert all(f"Zeile {i:04d}:" in joined for i in range(200))
        assert not [e for _, e in server.errors if "too long" in e.description]
        # Lines stay whole except the one longer than a message.
        assert all(p.text and p.text.startswith(("Zeile", "ohne")) for p in pieces)
        (button,) = pieces[-1].buttons
        assert len(button["callback_data"].encode()) <= 64
        (unknown,) = await server.click(person, pieces[-1], 0)
        assert unknown.text is not None  # the long command reached the core
        adapter.tokens._commands.clear()  # as after a restart
        (expired,) = await server.click(person, pieces[-1], 0)
        assert expired.text == BUTTON_EXPIRED


async def test_a_429_is_waited_out_and_no_message_is_lost(
    server: TelegramTestServer, adapter: TelegramAdapter, codes: dict[str, str]
) -> None:
    mara = await register(server, "Mara", codes["MK"])
    server.set_limits(RateLimits())  # Telegram's: 1 message per second into one chat
    before = len(server.sent_to(mara.id))
    for text in ("/notfall", "/ag78", "/hilfe"):
        server.send_text(mara, text)
    sent = await server.wait_sent(mara.id, before + 3, timeout=20)
    replies = sent[before:]
    assert "Notfallkontakt" in (replies[0].text or "")
    assert "AG 78" in (replies[1].text or "")
    assert "Das Wichtigste" in (replies[2].text or "")
    throttled = [e for m, e in server.errors if e.code == 429 and m == "sendMessage"]
    assert throttled and all(e.retry_after and e.retry_after >= 1 for e in throttled)


async def test_messenger_sends_and_reports_each_failure_kind(
    server: TelegramTestServer, adapter: TelegramAdapter, codes: dict[str, str], db: Database
) -> None:
    mara = await register(server, "Mara", codes["MK"])
    with db.session() as session:
        staff = staff_by_identity(session, "telegram", str(mara.id))
        assert staff is not None and staff.id is not None
        staff_id = staff.id
    to_mara = Recipient(staff_id=staff_id, transport="telegram", external_id=str(mara.id))
    messenger = adapter.messenger
    assert messenger.transport == "telegram"

    reminder = Reply(
        "Erinnerung: #9 HB-2026-003 Bericht ist seit 10 Tagen überfällig.",
        buttons=(Button("✓ erledigt", "/erledigt 9"),),
    )
    await messenger.send(to_mara, reminder, idempotency_key="reminder-9-1")
    (arrived,) = server.sent_to(mara.id)[-1:]
    assert arrived.text == reminder.text and arrived.buttons[0]["callback_data"] == "/erledigt 9"
    (done,) = await server.click(mara, arrived, 0)  # marking done from the reminder
    assert (done.text or "").startswith("Erledigt: HB-2026-003")

    async def failure(recipient: Recipient = to_mara) -> DeliveryError:
        with pytest.raises(DeliveryError) as caught:
            await messenger.send(recipient, Reply("Test"), idempotency_key="k")
        return caught.value

    assert (
        await failure(Recipient(staff_id, "telegram", "99999"))
    ).kind is FailureKind.unknown_user
    assert (
        await failure(Recipient(staff_id, "telegram", "@mara"))
    ).kind is FailureKind.unknown_user

    mara.blocked_bot = True
    blocked = await failure()
    assert blocked.kind is FailureKind.blocked and "blocked" in str(blocked)
    mara.blocked_bot = False

    server.fail_next("sendMessage", "disconnect")
    assert (await failure()).kind is FailureKind.network
    server.fail_next("sendMessage", ApiError(502, "Bad Gateway"))
    assert (await failure()).kind is FailureKind.network

    server.set_limits(RateLimits())
    await messenger.send(to_mara, Reply("eins"), idempotency_key="a")
    limited = await failure()
    assert limited.kind is FailureKind.rate_limited
    assert limited.retry_after is not None and limited.retry_after >= 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret_token(
    bot: Bot, server: TelegramTestServer, codes: dict[str, str], db: Database
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    async with running_adapter(
        bot,
        server,
        mode="webhook",
        webhook_url=url,
        webhook_secret="s3cr3t-for-tests",
        webhook_port=port,
    ):
        assert server.webhook == {"url": url, "secret_token": "s3cr3t-for-tests"}
        mara = server.user("Mara")
        (welcome,) = await server.say(mara, f"/start {codes['MK']}")  # delivered by POST
        assert (welcome.text or "").startswith("Willkommen")
        assert server.webhook_statuses == [200]

        intruder = server.user("Eindringling")
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(datetime.now().timestamp()),
                "chat": {"id": intruder.id, "type": "private", "first_name": "Eindringling"},
                "from": {"id": intruder.id, "is_bot": False, "first_name": "Eindringling"},
                "text": f"/start {codes['JB']}",
            },
        }
        async with ClientSession() as http:
            for headers in ({SECRET_HEADER: "wrong"}, {}):
                async with http.post(url, data=json.dumps(update), headers=headers) as answer:
                    assert answer.status == 403
        # Nothing was processed: no reply, no registration, the invite still works.
        assert server.sent_to(intruder.id) == []
        with db.session() as session:
            assert staff_by_identity(session, "telegram", str(intruder.id)) is None
        jonas = server.user("Jonas")
        (welcome,) = await server.say(jonas, f"/start {codes['JB']}")
        assert (welcome.text or "").startswith("Willkommen, Jonas Berg")


async def test_the_token_never_reaches_the_log(
    bot: Bot, server: TelegramTestServer, codes: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_adapter(bot, server):
        mara = server.user("Mara")
        await server.say(mara, f"/start {codes['MK']}")
        await server.say(mara, "/fristen")
    assert caplog.records
    assert server.token not in caplog.text
    assert server.token.split(":")[1] not in caplog.text


async def test_an_unexpected_error_is_logged_once_and_answered_with_an_apology(
    bot: Bot, server: TelegramTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    registry = Registry()

    @registry.command("kaputt", summary="Fehler", example="/kaputt", needs_registration=False)
    def broken(ctx: object, args: str) -> Reply:
        return Reply("x" * 5000, buttons=(Button("", "/hilfe"),))  # Telegram refuses the button

    core = Bot(bot.settings, bot.db, bot.clock, registry=registry)
    async with running_adapter(core, server):
        person = server.user("Lena")
        sent = await server.say(person, "/kaputt", replies=2)
        assert sent[-1].text == texts.SORRY
    failures = [
        r for r in caplog.records if r.name == "bot.telegram" and r.levelno >= logging.ERROR
    ]
    assert len(failures) == 1 and failures[0].exc_info is not None


def test_settings_read_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("KOOPBOT_TELEGRAM__TOKEN", "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    settings = Settings()
    assert settings.telegram.configured
    assert settings.telegram.read_token().startswith("123456:")
    assert "AAHdq" not in repr(settings.telegram)


async def test_koopbot_run_starts_telegram_when_a_token_is_configured(
    server: TelegramTestServer, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "KOOPBOT_DATA_DIR": str(tmp_path / "data"),
        "KOOPBOT_SERVICES": "[]",  # nothing but what has credentials
        "KOOPBOT_TELEGRAM__TOKEN": server.token,
        "KOOPBOT_TELEGRAM__BASE_URL": server.base_url,
        "KOOPBOT_TELEGRAM__BASE_FILE_URL": server.base_file_url,
        "KOOPBOT_TELEGRAM__POLL_TIMEOUT": "5",
        "KOOPBOT_LOG_LEVEL": "DEBUG",
        "KOOPBOT_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,  # unused in polling: never logged
        "KOOPBOT_MATRIX__PASSWORD": MATRIX_PASSWORD,
    }
    env.pop("KOOPBOT_CONFIG", None)
    demo = await asyncio.create_subprocess_exec(
        str(KOOPBOT), "demo", env=env, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await asyncio.wait_for(demo.communicate(), 60)
    code = re.search(rf"({INVITE})\s+Mara Koch", output.decode())
    assert code is not None, output.decode()

    process = await asyncio.create_subprocess_exec(str(KOOPBOT), "run", env=env)
    try:
        await server.wait_for(lambda: any(m == "getUpdates" for m, _ in server.calls), timeout=30)
        mara = server.user("Mara")
        (welcome,) = await server.say(mara, f"/start {code[1]}")
        assert (welcome.text or "").startswith("Willkommen, Mara Koch")
        (oncall,) = await server.say(mara, "/notfall")
        assert "Notfallkontakt" in (oncall.text or "")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = (tmp_path / "data" / "koopbot.log").read_text(encoding="utf-8")
    assert "Telegram: @koopbot_test_bot is running" in log
    assert_no_secrets([log], [server.token, WEBHOOK_SECRET, MATRIX_PASSWORD])  # issue 11
    assert "Notfallkontakt" not in log and "Mara" not in log  # no message text even at DEBUG


async def test_a_refused_command_menu_does_not_stop_the_adapter(
    bot: Bot, server: TelegramTestServer, codes: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 14, item 14: setMyCommands answered with HTTP 500 at start: a warning, and koopbot
    keeps answering (so `koopbot run` and its other services keep running)."""
    server.fail_next("setMyCommands", ApiError(500, "Internal Server Error"))
    async with running_adapter(bot, server):
        mara = server.user("Mara")
        (welcome,) = await server.say(mara, f"/start {codes['MK']}")
        assert (welcome.text or "").startswith("Willkommen, Mara Koch")
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.telegram" and r.levelno == logging.WARNING
    ]
    assert any("setMyCommands failed" in w for w in warnings), warnings
    assert server.token not in caplog.text


async def test_koopbot_run_goes_on_when_set_my_commands_fails(
    server: TelegramTestServer, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "KOOPBOT_DATA_DIR": str(tmp_path / "data"),
        "KOOPBOT_SERVICES": '["scheduler"]',
        "KOOPBOT_TELEGRAM__TOKEN": server.token,
        "KOOPBOT_TELEGRAM__BASE_URL": server.base_url,
        "KOOPBOT_TELEGRAM__BASE_FILE_URL": server.base_file_url,
        "KOOPBOT_TELEGRAM__POLL_TIMEOUT": "5",
    }
    env.pop("KOOPBOT_CONFIG", None)
    server.fail_next("setMyCommands", ApiError(500, "Internal Server Error"))
    process = await asyncio.create_subprocess_exec(str(KOOPBOT), "run", env=env)
    try:
        await server.wait_for(lambda: any(m == "getUpdates" for m, _ in server.calls), timeout=30)
        assert process.returncode is None  # still running: polling, scheduler beside it
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = (tmp_path / "data" / "koopbot.log").read_text(encoding="utf-8")
    assert "setMyCommands failed" in log
    assert "Telegram: @koopbot_test_bot is running" in log
    assert server.token not in log
