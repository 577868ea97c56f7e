"""Telegram's flood limits: throttling ahead of them and waiting out each 429."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from scheduler import metrics

log = logging.getLogger(__name__)

# Telegram's flood limits as PTB encodes them: 30 messages/s overall, 20/min into one group.
OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter's wait; PTB 22 warns that the attribute will become a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Throttles ahead of Telegram's limits (30/s overall, 20/min per group) and waits out
    every 429 before trying again, so a message is not lost; other sends into the same chat
    wait as well. `rate_limit_args={"max_retries": 0}` hands the 429 to the caller instead."""

    def __init__(self, max_retries: int = 5) -> None:
        self.max_retries = max_retries
        self._overall: deque[float] = deque()
        self._groups: dict[int, deque[float]] = {}
        self._blocked_until: dict[int | None, float] = {}
        self._lock = asyncio.Lock()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Call `callback` within the limits; retry after each RetryAfter."""
        retries = (rate_limit_args or {}).get("max_retries", self.max_retries)
        chat = _chat_id(data.get("chat_id"))
        attempt = 0
        while True:
            await self._wait_turn(chat, sending="chat_id" in data)
            try:
                result = await callback(*args, **kwargs)
                if endpoint == "getUpdates":
                    metrics.record_poll()  # /readyz and the polling age (issue 16)
                return result
            except RetryAfter as exc:
                delay = retry_seconds(exc)
                loop = asyncio.get_running_loop()
                self._blocked_until[chat] = max(
                    self._blocked_until.get(chat, 0.0), loop.time() + delay
                )
                if attempt >= retries:
                    raise
                attempt += 1
                log.info("%s: Telegram asks to wait %.0f s (attempt %d)", endpoint, delay, attempt)

    async def _wait_turn(self, chat: int | None, *, sending: bool) -> None:
        loop = asyncio.get_running_loop()
        while (pause := self._blocked_until.get(chat, 0.0) - loop.time()) > 0:
            await asyncio.sleep(pause)
        if not sending:
            return
        async with self._lock:
            windows = [(self._overall, OVERALL_PER_SECOND, 1.0)]
            if chat is not None and chat < 0:  # groups and channels have negative ids
                windows.append((self._groups.setdefault(chat, deque()), GROUP_PER_MINUTE, 60.0))
            for stamps, limit, seconds in windows:
                while True:
                    now = loop.time()
                    while stamps and stamps[0] <= now - seconds:
                        stamps.popleft()
                    if len(stamps) < limit:
                        break
                    await asyncio.sleep(stamps[0] + seconds - now)
            now = loop.time()
            for stamps, _, _ in windows:
                stamps.append(now)


def _chat_id(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None
