"""How a Reply looks on Telegram: text pieces within its limit, inline keyboards with their
callback data, and the command menu."""

from __future__ import annotations

import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Sequence

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from bot.messages import Button
from bot.registry import Registry

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # Telegram's limit per message (characters after entity parsing)
MAX_CALLBACK_DATA = 64  # bytes
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


def _units(text: str) -> int:
    """Length in UTF-16 code units, never less than Telegram's character count."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut `text` into pieces within `limit`, at line boundaries where a line fits."""
    if not text.strip():
        return ["…"]  # Telegram refuses empty messages
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if _units(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while _units(line) > limit:  # one line longer than a message: cut at a space if any
            head = _prefix(line, limit)
            cut = head.rfind(" ")
            head = head[:cut] if cut > limit // 2 else head
            pieces.append(head)
            line = line[len(head) :].lstrip(" ")
        current = line
    if current.strip():
        pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()] or ["…"]


def _prefix(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 units."""
    out, used = [], 0
    for char in text:
        size = _units(char)
        if used + size > limit:
            break
        out.append(char)
        used += size
    return "".join(out)


class CallbackTokens:
    """Callback data for button commands: the command itself when it fits into Telegram's
    64 bytes, otherwise a short token remembered here (the newest `capacity` ones)."""

    PREFIX = "t:"

    def __init__(self, capacity: int = 10_000) -> None:
        self._commands: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def encode(self, command: str) -> str:
        if len(command.encode()) <= MAX_CALLBACK_DATA and not command.startswith(self.PREFIX):
            return command
        token = self.PREFIX + secrets.token_urlsafe(12)
        self._commands[token] = command
        while len(self._commands) > self._capacity:
            self._commands.popitem(last=False)
        return token

    def decode(self, data: str) -> str | None:
        """The command a button stands for; None for a token this process no longer knows."""
        if data.startswith(self.PREFIX):
            return self._commands.get(data)
        return data


def keyboard(buttons: Sequence[Button], tokens: CallbackTokens) -> InlineKeyboardMarkup | None:
    """One button per row: the labels are short sentences, not single words."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label[:64], callback_data=tokens.encode(b.command))]
            for b in buttons
        ]
    )


def menu(registry: Registry, *, group: bool) -> list[BotCommand]:
    """The German command menu; in groups only the group-safe commands."""
    out = []
    for command in registry.commands:
        if command.name == "start" or (group and not command.group_safe):
            continue
        if not _COMMAND_NAME.match(command.name):
            log.warning("command %r cannot appear in Telegram's menu", command.name)
            continue
        out.append(BotCommand(command.name, command.summary[:256]))
    return out
