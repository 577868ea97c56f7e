"""Splitting one person's message at the messenger's limit (issue 11)."""

from __future__ import annotations

from bot.messages import Button, Reply
from bot.reminder_render import combine, split
from bot.telegram_send import TelegramMessenger
from scheduler.compose import Delivery


def test_a_long_message_is_split_between_lines_with_the_buttons_last() -> None:
    lines = [f"• #{n} HB-2025-{n:03d} Bericht – Di 22.04.2025 (heute fällig)" for n in range(150)]
    reply = Reply("Erinnerungen:\n" + "\n".join(lines), buttons=(Button("✅", "/erledigt 1"),))
    parts = split(reply, TelegramMessenger.max_chars)
    assert len(parts) == 3  # ~8,900 characters
    assert all(len(p.text) <= 4096 for p in parts)
    assert "\n".join(p.text for p in parts) == reply.text  # nothing lost, cut between lines
    assert parts[0].buttons == () and parts[-1].buttons == reply.buttons


def test_a_short_message_stays_whole_and_sections_combine() -> None:
    reply = combine([Reply("Erinnerung:\n• a"), Reply("Deine Fristen in KW 17:\n• b")])
    assert reply.text == "Erinnerung:\n• a\n\nDeine Fristen in KW 17:\n• b"
    assert split(reply, 4096) == [reply]
    assert split(Reply("x" * 9000), 4096)[2].text == "x" * 808


def test_the_idempotency_key_depends_on_the_first_claim_not_on_the_rows() -> None:
    first = Delivery(7, [1, 2], "tokenA", "tokenA", "main")
    retry = Delivery(7, [2], "tokenB", "tokenA", "main")  # after a crash, one row cancelled
    assert first.key() == retry.key() and first.key(1) != first.key()
    assert Delivery(7, [1], "tokenB", "tokenB", "main").key() != first.key()
