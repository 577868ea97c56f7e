"""A running `koopbot run` (Telegram, scheduler, web) seen as an operator sees it (issue 16):
/metrics parsed with prometheus_client's parser while pages go out, /readyz turning 503 while
Telegram refuses every message and 200 again when it is back, JSON log lines without the
token, names or the page's text."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from prometheus_client.parser import text_string_to_metric_families

from tests.telegram_api import RateLimits, TelegramTestServer, User

KOOPBOT = Path(sys.executable).with_name("koopbot")
INVITE = r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}"
PAGE_TEXT = "Bitte dringend zurueckrufen wegen Termin"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def server() -> AsyncIterator[TelegramTestServer]:
    async with TelegramTestServer(limits=RateLimits.off()) as test_server:
        yield test_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def scrape(http: ClientSession, base: str) -> Samples:
    async with http.get(f"{base}/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sends(samples: Samples, result: str) -> float:
    return samples[("koopbot_sends_total", (("result", result), ("transport", "telegram")))]


async def readyz(http: ClientSession, base: str) -> tuple[int, dict[str, str]]:
    async with http.get(f"{base}/readyz") as resp:
        return resp.status, json.loads(await resp.text())["failing"]


async def wait_ready(
    http: ClientSession, base: str, want: int, *, check: str | None = None, timeout: float = 60
) -> dict[str, str]:
    """Poll /readyz until it answers `want` (and, for 503, names `check`)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    seen: tuple[int, dict[str, str]] = (0, {})
    while loop.time() < end:
        seen = await readyz(http, base)
        if seen[0] == want and (check is None or check in seen[1]):
            return seen[1]
        await asyncio.sleep(0.2)
    raise AssertionError(f"/readyz never answered {want} {check or ''}; last {seen}")


async def test_metrics_and_readiness_follow_pages_through_a_telegram_outage(
    server: TelegramTestServer, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = tmp_path / "data"
    env = {
        **os.environ,
        "KOOPBOT_DATA_DIR": str(data),
        "KOOPBOT_SERVICES": '["scheduler", "web"]',
        "KOOPBOT_WEB__PORT": str(port),
        "KOOPBOT_TELEGRAM__TOKEN": server.token,
        "KOOPBOT_TELEGRAM__BASE_URL": server.base_url,
        "KOOPBOT_TELEGRAM__BASE_FILE_URL": server.base_file_url,
        "KOOPBOT_TELEGRAM__POLL_TIMEOUT": "2",
        "KOOPBOT_REMINDERS__MESSENGERS": '["telegram"]',
        "KOOPBOT_REMINDERS__DISPATCH_SECONDS": "0.5",
        "KOOPBOT_REMINDERS__BACKOFF_SECONDS": "1",
        "KOOPBOT_REMINDERS__BACKOFF_MAX_SECONDS": "1",
        "KOOPBOT_REMINDERS__MAX_ATTEMPTS": "100",
        "KOOPBOT_READYZ__OUTBOX_MAX_AGE_SECONDS": "2",
        "KOOPBOT_LOG__FORMAT": "json",
        "KOOPBOT_LOG_LEVEL": "INFO",
    }
    env.pop("KOOPBOT_CONFIG", None)
    demo = await asyncio.create_subprocess_exec(
        str(KOOPBOT), "demo", env=env, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await asyncio.wait_for(demo.communicate(), 120)
    invites = re.findall(rf"({INVITE})\s+(\S+) (\S+) \((\w+)\)", output.decode())
    assert len(invites) == 6, output.decode()
    conn = sqlite3.connect(data / "koopbot.db")
    (rotation,) = conn.execute("SELECT min(id) FROM rotation").fetchone()
    conn.close()

    process = await asyncio.create_subprocess_exec(str(KOOPBOT), "run", env=env)
    try:
        async with ClientSession() as http:
            await server.wait_for(
                lambda: any(m == "getUpdates" for m, _ in server.calls), timeout=60
            )
            await wait_ready(http, base, 200)
            people: dict[str, User] = {}
            for code, first, _last, handle in invites:
                people[handle] = server.user(first)
                (welcome,) = await server.say(people[handle], f"/start {code}", timeout=30)
                assert (welcome.text or "").startswith("Willkommen"), welcome.text
            before = await scrape(http, base)
            assert (
                before[("koopbot_commands_total", (("command", "start"), ("outcome", "ok")))] == 6
            )

            # Telegram refuses every message: the page waits for its retries, /readyz says so.
            server.fail_all("sendMessage", "disconnect")
            # Not the coordinator (MK): whoever is on call, someone else gets the page.
            pager = people["JB"]
            server.send_text(pager, f"/anpiepen {rotation} {PAGE_TEXT}")
            failing = await wait_ready(http, base, 503, check="outbox")
            assert "wait" in failing["outbox"]
            during = await scrape(http, base)
            assert sends(during, "retried") > sends(before, "retried")
            assert during[("koopbot_outbox_oldest_due_seconds", ())] > 2
            open_rows = sum(
                v for (name, labels), v in during.items() if name == "koopbot_outbox_rows"
            )
            assert open_rows >= 1

            # Telegram is back: the page goes out, readiness returns, the counters moved.
            server.recover("sendMessage")
            await server.wait_for(
                lambda: any(
                    PAGE_TEXT in (m.text or "")
                    for person in people.values()
                    for m in server.sent_to(person.id)
                ),
                timeout=60,
            )
            await wait_ready(http, base, 200)
            after = await scrape(http, base)
            assert sends(after, "sent") > sends(during, "sent")
            assert after[("koopbot_outbox_oldest_due_seconds", ())] == 0
            ticks = ("koopbot_tick_duration_seconds_count", (("kind", "dispatch"),))
            # On a busy machine the first dispatch (the catch-up) may still run at `before`.
            assert after[ticks] > before.get(ticks, 0)
            assert after[("koopbot_tick_duration_seconds_count", (("kind", "sweep"),))] >= 1
            contact = ("koopbot_messenger_contact_age_seconds", (("messenger", "telegram"),))
            assert after[contact] < 60
            labels = " ".join(str(k[1]) for k in after)
            assert PAGE_TEXT not in labels and str(pager.id) not in labels
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    lines = (data / "koopbot.log").read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line one JSON object
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any(r["logger"] == "scheduler.service" for r in records)
    text = "\n".join(lines)
    assert server.token not in text
    assert PAGE_TEXT not in text
    for _code, first, last, _handle in invites:
        assert f"{first} {last}" not in text
