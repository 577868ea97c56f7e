"""The one table of the messengers koopbot speaks (issue 17).

A messenger is a module of `bot/` with a `MESSENGER: MessengerKind` and one line here. The
modules are imported when a messenger is used, so a process pays only for the messengers it
runs (python-telegram-bot and matrix-nio take about a third of a second each to import).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from bot.app import MessengerKind
from config.settings import Settings


@dataclass(frozen=True)
class Listed:
    module: str  # defines MESSENGER
    # Whether its credentials are configured: then `koopbot run` starts it unasked.
    configured: Callable[[Settings], bool] = lambda settings: False


MESSENGERS: dict[str, Listed] = {
    "console": Listed("bot.console"),
    "telegram": Listed("bot.telegram", lambda settings: settings.telegram.configured),
    "matrix": Listed("bot.matrix", lambda settings: settings.matrix.configured),
}


def messenger(name: str) -> MessengerKind:
    """The messenger listed as `name` (KeyError if none is)."""
    kind = getattr(importlib.import_module(MESSENGERS[name].module), "MESSENGER", None)
    if not isinstance(kind, MessengerKind):
        raise TypeError(f"{MESSENGERS[name].module} defines no MESSENGER (a bot.app.MessengerKind)")
    return kind


def configured(settings: Settings) -> list[str]:
    """The messengers whose credentials are configured."""
    return [name for name, listed in MESSENGERS.items() if listed.configured(settings)]
