"""The test Bot API server answers as Telegram does, checked with PTB's own `Bot`."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot as PtbBot
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.telegram_api import RateLimits, TelegramTestServer


@pytest.fixture
async def server() -> AsyncIterator[TelegramTestServer]:
    async with TelegramTestServer(limits=RateLimits.off()) as test_server:
        yield test_server


@pytest.fixture
async def ptb(server: TelegramTestServer) -> AsyncIterator[PtbBot]:
    async with PtbBot(
        server.token, base_url=server.base_url, base_file_url=server.base_file_url
    ) as bot:
        yield bot


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def test_get_me_is_a_bot(ptb: PtbBot, server: TelegramTestServer) -> None:
    me = await ptb.get_me()
    assert me.is_bot and me.username == "koopbot_test_bot" and me.id == server.bot.id


async def test_get_updates_long_polls_and_acknowledges_by_offset(
    ptb: PtbBot, server: TelegramTestServer
) -> None:
    assert await ptb.get_updates(timeout=0) == ()
    anna = server.user("Anna")
    server.send_text(anna, "/hilfe")
    server.send_text(anna, "zweite")
    first = await ptb.get_updates(timeout=1)
    assert [u.message.text for u in first if u.message] == ["/hilfe", "zweite"]
    assert first[0].message is not None and first[0].message.entities[0].type == "bot_command"
    again = await ptb.get_updates(timeout=0)
    assert [u.update_id for u in again] == [u.update_id for u in first]  # not acknowledged yet
    assert await ptb.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()
    assert server.pending_updates() == 0


async def test_send_message_limits_and_errors(ptb: PtbBot, server: TelegramTestServer) -> None:
    anna = server.user("Anna")
    sent = await ptb.send_message(anna.id, "Hallo")
    assert sent.text == "Hallo" and sent.chat.id == anna.id and sent.date.year >= 2024
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await ptb.send_message(anna.id, "x" * 4097)
    await ptb.send_message(anna.id, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await ptb.send_message(123, "Hallo")
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
        await ptb.send_message(anna.id, "Hallo", reply_markup=markup)
    anna.blocked_bot = True
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await ptb.send_message(anna.id, "Hallo")
    async with httpx.AsyncClient(base_url=f"{server.base_url}{server.token}/") as http:
        body = (await http.post("sendMessage", json={"chat_id": 1})).json()
        assert body == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: chat not found",
        }
        assert (await http.get("noSuchMethod")).status_code == 404
    with pytest.raises(InvalidToken):
        async with PtbBot("1:wrong", base_url=server.base_url) as wrong:
            await wrong.get_me()


async def test_flood_limits_answer_429_with_retry_after() -> None:
    ticks = [0.0]  # a controllable clock for the sliding windows
    async with (
        TelegramTestServer(clock=lambda: ticks[0]) as server,
        PtbBot(server.token, base_url=server.base_url) as ptb,
    ):
        await _flood(ptb, server, ticks)


async def _flood(ptb: PtbBot, server: TelegramTestServer, ticks: list[float]) -> None:
    anna, ben = server.user("Anna"), server.user("Ben")
    await ptb.send_message(anna.id, "1")
    with pytest.raises(RetryAfter) as caught:
        await ptb.send_message(anna.id, "2")
    assert caught.value.message.startswith("Flood control exceeded")
    await ptb.send_message(ben.id, "other chats are not affected")
    ticks[0] = 1.01
    await ptb.send_message(anna.id, "2")
    raw = server.errors[-1][1].body()
    assert raw["error_code"] == 429 and raw["parameters"] == {"retry_after": 1}

    group = server.group("Team")
    for i in range(20):
        ticks[0] = 10.0 + 1.1 * i
        await ptb.send_message(group.id, f"group {i}")
    ticks[0] = 33.0
    with pytest.raises(RetryAfter):
        await ptb.send_message(group.id, "21st within a minute")

    users = [server.user(f"U{i}") for i in range(31)]
    ticks[0] = 100.0
    for person in users[:30]:
        await ptb.send_message(person.id, "broadcast")
    with pytest.raises(RetryAfter):
        await ptb.send_message(users[30].id, "31st in one second")


async def test_edit_answer_commands_and_webhook_calls(
    ptb: PtbBot, server: TelegramTestServer
) -> None:
    anna = server.user("Anna")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="/ja")]])
    sent = await ptb.send_message(anna.id, "Frage?", reply_markup=markup)
    edited = await ptb.edit_message_text(
        "Frage beantwortet", chat_id=anna.id, message_id=sent.message_id
    )
    assert isinstance(edited, object) and server.sent_to(anna.id)[0].text == "Frage beantwortet"
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await ptb.edit_message_text(
            "Frage beantwortet", chat_id=anna.id, message_id=sent.message_id
        )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await ptb.edit_message_text("x", chat_id=anna.id, message_id=999)

    message = server.sent_to(anna.id)[0]
    message.reply_markup = markup.to_dict()
    query_id = server.press(anna, message, "Ja")
    (update,) = await ptb.get_updates(timeout=1)
    assert update.callback_query is not None and update.callback_query.data == "/ja"
    assert await ptb.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await ptb.answer_callback_query(query_id)

    assert await ptb.set_my_commands([BotCommand("fristen", "Deine Fristen")])
    assert [c.command for c in await ptb.get_my_commands()] == ["fristen"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await ptb.set_my_commands([BotCommand("Fristen!", "x")])

    assert await ptb.set_webhook("http://127.0.0.1:9/hook", secret_token="abc")
    with pytest.raises(Conflict):
        await ptb.get_updates(timeout=0)
    assert (await ptb.get_webhook_info()).url == "http://127.0.0.1:9/hook"
    with pytest.raises(BadRequest):
        await ptb.set_webhook("http://127.0.0.1:9/hook", secret_token="nicht erlaubt!")
    assert await ptb.delete_webhook()
    assert len(await ptb.get_updates(timeout=0)) == 1  # the callback was never acknowledged


async def test_documents_and_photos_are_uploaded_as_multipart(
    ptb: PtbBot, server: TelegramTestServer
) -> None:
    anna = server.user("Anna")
    doc = await ptb.send_document(
        anna.id, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", filename="ag78.ics"
    )
    assert doc.document is not None and doc.document.file_name == "ag78.ics"
    assert doc.document.file_size == 32
    photo = await ptb.send_photo(anna.id, _png(3, 2), caption="Plan")
    assert photo.photo[-1].width == 3 and photo.photo[-1].height == 2 and photo.caption == "Plan"
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await ptb.send_photo(anna.id, b"not an image")
    file = await ptb.get_file(doc.document.file_id)
    assert bytes(await file.download_as_bytearray()).startswith(b"BEGIN:VCALENDAR")
