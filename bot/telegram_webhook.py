"""Telegram's webhook: an aiohttp handler feeding its posts into the PTB application."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


def webhook_handler(
    application: TelegramApp, secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler feeding Telegram's webhook posts into the application."""
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("webhook call without the right secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not an update")
        await application.update_queue.put(update)
        return web.Response(status=200)

    return handle


def add_webhook_route(
    web_app: web.Application, application: TelegramApp, secret: str, path: str
) -> None:
    """Mount the webhook on an existing aiohttp application (e.g. the web service)."""
    web_app.router.add_post(path, webhook_handler(application, secret))
