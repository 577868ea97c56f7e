"""What the services of one process share, and what a messenger brings to them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.core import Bot
from bot.messages import Reply
from config.settings import Settings
from scheduler.clock import Clock
from scheduler.ports import Messenger
from storage.db import Database


@dataclass
class App:
    """What every service shares: one settings object, one database, one clock, one core."""

    settings: Settings
    db: Database
    clock: Clock
    bot: Bot


Service = Callable[[App], Coroutine[Any, Any, None]]  # runs until done or cancelled


@dataclass(frozen=True)
class MessengerKind:
    """A messenger's two sides: its chat (a service of `koopbot run` that reads messages and
    answers through the core) and its outgoing side for the reminder engine."""

    chat: Service
    outgoing: Callable[[App], Awaitable[Messenger[Reply]]]
