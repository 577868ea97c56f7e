"""The feed server as deployed (scheduler.web.start): one render per feed after a change however
many requests arrive, and no token in any log line for any request, well formed or not."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiohttp import ClientSession

from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.web import FeedServer, start
from storage.db import Database
from tests.conftest import ChatUser
from tests.icalcheck import LINK, parse_feed


@dataclass
class Running:
    server: FeedServer
    base: str
    port: int


@pytest.fixture
async def running(
    settings: Settings, db: Database, clock: FixedClock, unused_tcp_port: int
) -> AsyncIterator[Running]:
    web = settings.web.model_copy(update={"recheck_seconds": 0.0})
    server = FeedServer(settings.model_copy(update={"web": web}), db, clock)
    runner = await start(server, "127.0.0.1", unused_tcp_port)
    try:
        yield Running(server, f"http://127.0.0.1:{unused_tcp_port}", unused_tcp_port)
    finally:
        await runner.cleanup()


def _tokens(user: ChatUser) -> dict[str, str]:
    """Each feed's token from the first /kalender (links are shown once), by label start."""
    reply = user.say("/kalender")
    out = {}
    for block in reply.split("• ")[1:]:
        m = LINK.search(block)
        assert m is not None, reply
        out[block.split(" (")[0].split(":")[0]] = m[1].removeprefix("/feeds/").removesuffix(".ics")
    return out


# ---------------------------------------------------------------------------
# Single flight


async def test_one_render_per_feed_after_a_change_however_many_requests_arrive(
    running: Running, demo: dict[str, ChatUser], clock: FixedClock
) -> None:
    # Five people's AG 78 tokens all show the same feed; JB's personal feed is another one.
    tokens = {h: _tokens(demo[h]) for h in ("MK", "JB", "LW", "TS", "EL")}
    ag78 = [t["AG 78 – Termine"] for t in tokens.values()]
    personal = tokens["JB"]["Meine Fristen und Termine"]
    today = clock.now().date()
    for day in range(40):  # a feed that takes a moment to render
        reply = demo["EL"].say(f"/ag78_neu {today + timedelta(days=7 + day):%d.%m.%Y} 14-16")
        assert reply.startswith("AG-78-Termin eingetragen"), reply
    server = running.server

    async def burst(tokens: list[str], each: int) -> list[bytes]:
        async with ClientSession() as client:

            async def get(token: str) -> bytes:
                async with client.get(f"{running.base}/feeds/{token}.ics") as resp:
                    assert resp.status == 200
                    return await resp.read()

            return await asyncio.gather(*(get(t) for t in tokens for _ in range(each)))

    bodies = await burst([*ag78, personal], 20)
    assert server.renders == 2 and server.lookups == 6
    assert len(set(bodies[:100])) == 1  # every AG 78 token got the same bytes
    parse_feed(bodies[0])

    clock.advance(timedelta(minutes=5))
    assert "eingetragen" in demo["EL"].say('/ag78_neu 12.12.2025 9-12 ort="Rathaus"')
    after = await burst(ag78, 40)
    assert server.renders == 3, "one render of the changed AG 78 feed for 200 requests"
    assert server.lookups == 6 + 5  # the change may have revoked a token: each checked once
    assert len(set(after)) == 1 and after[0] != bodies[0] and b"Rathaus" in after[0]

    await burst(ag78, 5)  # nothing changed: served from memory
    assert server.renders == 3 and server.lookups == 11


async def test_a_new_day_renders_again_once(
    running: Running, demo: dict[str, ChatUser], clock: FixedClock
) -> None:
    token = _tokens(demo["MK"])["Rufbereitschaft Weserufer"]
    async with ClientSession() as client:
        for _ in range(3):
            async with client.get(f"{running.base}/feeds/{token}.ics") as resp:
                assert resp.status == 200
        assert running.server.renders == 1
        clock.advance(timedelta(days=1))  # the on-call window moves with the day
        for _ in range(3):
            async with client.get(f"{running.base}/feeds/{token}.ics") as resp:
                assert resp.status == 200
        assert running.server.renders == 2


# ---------------------------------------------------------------------------
# No token in any log line


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[_Collect]:
    """Every record of every logger at DEBUG, formatted with its traceback."""
    handler = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _requests(token: str) -> list[bytes]:
    t = token.encode()
    half = len(t) // 2
    encoded = "".join(f"%{ord(c):02X}" for c in token).encode()
    lines = [
        b"GET /feeds/" + t + b".ics HTTP/1.1",
        b"GET /Feeds/" + t + b".ics HTTP/1.1",
        b"GET /FEEDS/" + t + b".ICS HTTP/1.1",
        b"GET /feeds//" + t + b".ics HTTP/1.1",
        b"GET //feeds/" + t + b".ics HTTP/1.1",
        b"GET /feeds/x/" + t + b".ics HTTP/1.1",
        b"GET /feeds/" + t + b" HTTP/1.1",
        b"GET /feeds/" + t + b".ics?download=1 HTTP/1.1",
        b"GET /somewhere?token=" + t + b" HTTP/1.1",
        b"GET /" + t + b" HTTP/1.1",
        b"GET /feeds/" + encoded + b".ics HTTP/1.1",
        b"HEAD /feeds/" + t + b".ics HTTP/1.1",
        b"POST /feeds/" + t + b".ics HTTP/1.1",
        b"GET /feeds/" + t + b".ics?\xff HTTP/1.1",
        b"GET /feeds/" + t + b".ics HTTP/9.9",
        b"GET /feeds/" + t + b".ics\x00 HTTP/1.1",
        b"GET /feeds/" + t[:half] + b"\x00" + t[half:] + b".ics HTTP/1.1",
        b"G\x00T /feeds/" + t + b".ics HTTP/1.1",
        b"GET /feeds/" + t + b".ics",
        b"GET /feeds/" + t + b".ics HTTP/1.1 extra",
        b"\x16\x03\x01 /feeds/" + t + b".ics HTTP/1.1",  # TLS spoken to the plain port
    ]
    requests = [line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" for line in lines]
    requests += [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nReferer: http://x/feeds/" + t + b".ics\r\n"
        b"Connection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad\x01: /feeds/" + t + b".ics\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + t * 400 + b"\r\n\r\n",
    ]
    return requests


async def _send(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()


async def test_no_request_puts_a_token_into_any_log_line(
    running: Running, demo: dict[str, ChatUser], logs: _Collect
) -> None:
    token = _tokens(demo["JB"])["Meine Fristen und Termine"]
    answers = [await _send(running.port, r) for r in _requests(token)]
    assert answers[0].startswith(b"HTTP/1.1 200 OK") and b"BEGIN:VCALENDAR" in answers[0]
    statuses = [re.match(rb"HTTP/\d\.\d (\d{3})", a) for a in answers]
    assert all(s is not None for s in statuses), [
        (r[:40], a[:60])
        for r, a, s in zip(_requests(token), answers, statuses, strict=True)
        if s is None
    ]
    assert {s[1] for s in statuses if s} >= {b"200", b"400", b"404", b"405"}
    text = "\n".join(logs.lines)
    # Things were logged: one access line per answered request, aiohttp's errors with tracebacks.
    assert text.count("aiohttp.access INFO") >= len(answers) - 3, text
    assert "aiohttp.server" in text and "Traceback" in text and "[redacted]" in text
    assert "/feeds/{token}.ics 200" in text  # the route, not the path sent
    for needle in (token, token[: len(token) // 2], token[len(token) // 2 :]):
        assert needle not in text, (needle, [line for line in logs.lines if needle in line])
    encoded = "".join(f"%{ord(c):02X}" for c in token)
    assert encoded not in text and encoded.lower() not in text


async def test_our_own_log_lines_and_errors_in_handlers_carry_no_token(
    running: Running, demo: dict[str, ChatUser], logs: _Collect
) -> None:
    token = _tokens(demo["JB"])["Meine Fristen und Termine"]
    logging.getLogger("scheduler.web").warning("request for /feeds/%s.ics failed", token)
    try:
        raise ValueError(f"cannot render /feeds/{token}.ics")
    except ValueError:
        logging.getLogger("aiohttp.server").exception("Error handling request")
    text = "\n".join(logs.lines)
    assert "request for /feeds/[redacted] failed" in text
    assert "ValueError: cannot render /feeds/[redacted]" in text
    assert token not in text
