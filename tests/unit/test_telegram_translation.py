"""The Telegram adapter's pure translation: splitting, callback data, menu, rate limiting."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.messages import Button
from bot.registry import REGISTRY
from bot.telegram_rate_limiter import TelegramRateLimiter
from bot.telegram_render import MAX_CALLBACK_DATA, CallbackTokens, keyboard, menu, split_text
from config.errors import ConfigError
from config.messengers import TelegramSettings


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("kurz", 4096, ["kurz"]),
        ("", 4096, ["…"]),
        ("a\nb\nc", 3, ["a\nb", "c"]),
        ("aaa\nbbb", 5, ["aaa", "bbb"]),
        ("eins zwei drei vier", 10, ["eins zwei", "drei vier"]),
        ("x" * 12, 5, ["xxxxx", "xxxxx", "xx"]),
        ("a\n\n\nb", 2, ["a", "b"]),
    ],
)
def test_split_text(text: str, limit: int, expected: list[str]) -> None:
    assert split_text(text, limit) == expected


def test_split_counts_utf16_units_so_emoji_never_overflow() -> None:
    pieces = split_text("⚠️ 🎉" * 2000, 4096)
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in pieces)
    assert "".join(pieces).replace(" ", "") == ("⚠️ 🎉" * 2000).replace(" ", "")


def test_split_keeps_every_line_of_a_long_list() -> None:
    lines = [f"#{i} HB-2025-{i:03d} Bericht – Do 17.04.2025" for i in range(500)]
    pieces = split_text("\n".join(lines))
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    assert [line for p in pieces for line in p.split("\n")] == lines


def test_callback_data_is_the_command_or_a_short_token() -> None:
    tokens = CallbackTokens(capacity=2)
    assert tokens.encode("/erledigt 12") == "/erledigt 12"
    long = "/fall " + "ä" * 40  # 86 bytes in UTF-8
    token = tokens.encode(long)
    assert len(token.encode()) <= MAX_CALLBACK_DATA and tokens.decode(token) == long
    tokens.encode("/a " + "x" * 70)
    tokens.encode("/b " + "x" * 70)
    assert tokens.decode(token) is None  # the oldest token was forgotten
    assert tokens.decode("/erledigt 12") == "/erledigt 12"


def test_keyboard_has_one_button_per_row() -> None:
    markup = keyboard(
        [Button("✓ #1", "/erledigt 1"), Button("✓ #2", "/erledigt 2")], CallbackTokens()
    )
    assert markup is not None
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [
        ["/erledigt 1"],
        ["/erledigt 2"],
    ]
    assert keyboard([], CallbackTokens()) is None


def test_menu_is_german_and_groups_get_group_safe_commands_only() -> None:
    import bot.commands  # noqa: F401

    private = {c.command: c.description for c in menu(REGISTRY, group=False)}
    group = {c.command for c in menu(REGISTRY, group=True)}
    assert "start" not in private and private["fristen"].startswith("Deine")
    assert group <= {c.name for c in REGISTRY.commands if c.group_safe}
    assert "fall_neu" in private and "fall_neu" not in group


async def test_rate_limiter_waits_out_retry_after_then_succeeds() -> None:
    limiter = TelegramRateLimiter(max_retries=3)
    calls: list[float] = []
    loop = asyncio.get_running_loop()

    async def flaky(**kwargs: Any) -> bool:
        calls.append(loop.time())
        if len(calls) < 2:
            raise RetryAfter(1)
        return True

    result = await limiter.process_request(flaky, (), {}, "sendMessage", {"chat_id": 5}, None)
    assert result is True and len(calls) == 2
    assert calls[1] - calls[0] >= 0.99


async def test_rate_limiter_hands_the_429_over_when_asked_not_to_retry() -> None:
    limiter = TelegramRateLimiter(max_retries=3)

    async def limited(**kwargs: Any) -> bool:
        raise RetryAfter(7)

    with pytest.raises(RetryAfter):
        await limiter.process_request(
            limited, (), {}, "sendMessage", {"chat_id": 5}, {"max_retries": 0}
        )


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"mode": "webhook"}, "webhook_url fehlt"),
        ({"mode": "webhook", "webhook_url": "https://x.example/h"}, "webhook_secret fehlt"),
        (
            {"mode": "webhook", "webhook_url": "https://x.example/h", "webhook_secret": "a b"},
            "webhook_secret fehlt",
        ),
        ({"webhook_path": "telegram"}, "muss mit / beginnen"),
    ],
)
def test_bad_telegram_settings_name_the_key(values: dict[str, str], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        TelegramSettings(**values)  # type: ignore[arg-type]


def test_a_malformed_token_is_refused_without_echoing_it(tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("not-a-token-but-secret\n")
    with pytest.raises(ConfigError) as caught:
        TelegramSettings(token_file=secret_file).read_token()
    assert "not-a-token" not in str(caught.value)
    with pytest.raises(ConfigError, match="kein Token"):
        TelegramSettings().read_token()
