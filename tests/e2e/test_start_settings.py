"""A bad token or setting at start: one line naming the key, no traceback (issue 12)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.telegram_api import RateLimits, TelegramTestServer

KOOPBOT = Path(sys.executable).with_name("koopbot")


@pytest.fixture
async def server() -> AsyncIterator[TelegramTestServer]:
    async with TelegramTestServer(limits=RateLimits.off()) as test_server:
        yield test_server


async def _run(tmp_path: Path, **extra: str) -> tuple[int, str]:
    env = {**os.environ, "KOOPBOT_DATA_DIR": str(tmp_path / "data"), "KOOPBOT_SERVICES": "[]"}
    env.pop("KOOPBOT_CONFIG", None)
    env.update(extra)
    process = await asyncio.create_subprocess_exec(
        str(KOOPBOT), "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 120)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert out == b""
    return process.returncode or 0, err.decode()


async def test_a_malformed_telegram_token_is_one_line(tmp_path: Path) -> None:
    secret = "12345:tooshort"
    code, err = await _run(tmp_path, KOOPBOT_TELEGRAM__TOKEN=secret)
    assert code == 2
    assert err.splitlines() == [
        "koopbot: telegram.token (KOOPBOT_TELEGRAM__TOKEN): kein BotFather-Token wie "
        "123456789:AA… (nicht angezeigt)"
    ]
    assert secret not in err


async def test_a_token_telegram_does_not_know_is_one_line(
    server: TelegramTestServer, tmp_path: Path
) -> None:
    unknown = "999999:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    assert unknown != server.token
    code, err = await _run(
        tmp_path,
        KOOPBOT_TELEGRAM__TOKEN=unknown,
        KOOPBOT_TELEGRAM__BASE_URL=server.base_url,
        KOOPBOT_TELEGRAM__BASE_FILE_URL=server.base_file_url,
    )
    assert code == 2
    assert err.splitlines() == [
        "koopbot: telegram.token: Telegram hat das Token abgelehnt (InvalidToken)"
    ], err
    assert unknown not in err
    assert unknown not in (tmp_path / "data" / "koopbot.log").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("KOOPBOT_RETENTION__STAFF_DAYS", "abc", "retention.staff_days = 'abc'"),
        ("KOOPBOT_START_LIMIT__PER_ACCOUNT", "0", "start_limit.per_account = '0'"),
        ("KOOPBOT_CASE_CODE_PATTERN", "([", "case_code_pattern = '(['"),
    ],
)
async def test_a_bad_setting_is_one_line(tmp_path: Path, key: str, value: str, named: str) -> None:
    code, err = await _run(tmp_path, **{key: value})
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(f"koopbot: ungültige Konfiguration: {named}"), line
    assert "Traceback" not in err
