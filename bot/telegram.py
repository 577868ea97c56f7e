"""The Telegram adapter: python-telegram-bot 22 translating to and from the core.

Updates become `Incoming` messages for `bot.core.Bot`; its `Reply` becomes one or more
messages (split under Telegram's 4096 characters) with an inline keyboard for its buttons.
The adapter holds no business rules. The parts: `telegram_render` (pieces, keyboards, the
menu), `telegram_send` (the outgoing side), `telegram_rate_limiter`, `telegram_webhook`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import BotCommandScopeAllGroupChats, BotCommandScopeDefault, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot import texts
from bot.app import App, MessengerKind
from bot.core import Bot
from bot.messages import Incoming, Reply, Sender
from bot.registry import REGISTRY, Registry
from bot.telegram_rate_limiter import TelegramRateLimiter
from bot.telegram_render import CallbackTokens, menu
from bot.telegram_send import TRANSPORT, TelegramMessenger, send_reply
from bot.telegram_webhook import TelegramApp, add_webhook_route
from config.errors import ConfigError
from config.logs import FILTER, register_secret
from config.messengers import TelegramSettings
from scheduler import metrics

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]

BUTTON_EXPIRED = (
    "Diese Schaltfläche ist nicht mehr gültig (koopbot wurde neu gestartet). "
    "Bitte schick den Befehl noch einmal."
)
_ADDRESSED = re.compile(r"^/[A-Za-z0-9_]+@(?P<bot>[A-Za-z0-9_]+)")


# -- logging --------------------------------------------------------------------------------

# Bot API URLs carry the token: PTB logs them at DEBUG, httpx at INFO.
_URL_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "telegram.ext.Updater", "httpx")


def _redact_in_logs(token: str) -> None:
    """The token is masked by the central filter (config.logs, issue 11); on these loggers too,
    for an adapter running without the central set-up (tests, embedding)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    register_secret(token)
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)


# -- the adapter ----------------------------------------------------------------------------


class TelegramAdapter:
    """One PTB Application running beside other asyncio services."""

    def __init__(
        self,
        core: Bot,
        config: TelegramSettings,
        *,
        token: str | None = None,
        registry: Registry = REGISTRY,
    ) -> None:
        self.core = core
        self.config = config
        self.registry = registry
        self.tokens = CallbackTokens()
        secret = token or config.read_token()
        _redact_in_logs(secret)
        self.application: TelegramApp = (
            ApplicationBuilder()
            .token(secret)
            .base_url(config.base_url)
            .base_file_url(config.base_file_url)
            .rate_limiter(TelegramRateLimiter(config.max_retries))
            .build()
        )
        self.application.add_handler(
            CallbackQueryHandler(self._on_callback),
        )
        self.application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, self._on_message)
        )
        self.application.add_error_handler(self._on_error)
        self.messenger = TelegramMessenger(self.application.bot, self.tokens)
        self._web: web.AppRunner | None = None
        self.webhook_port: int | None = None  # the port actually bound in webhook mode
        self.username = ""

    async def start(self) -> None:
        """Initialize, publish the menu, then fetch updates by long polling or webhook."""
        app = self.application
        await app.initialize()
        self.username = app.bot.username
        await self._publish_menu()
        if self.config.mode == "webhook":
            assert self.config.webhook_url and self.config.webhook_secret
            secret = self.config.webhook_secret.get_secret_value()
            web_app = web.Application()
            add_webhook_route(web_app, app, secret, self.config.webhook_path)
            self._web = web.AppRunner(web_app, access_log=None)
            await self._web.setup()
            site = web.TCPSite(self._web, self.config.webhook_listen, self.config.webhook_port)
            await site.start()
            self.webhook_port = int(self._web.addresses[0][1])
            await app.start()
            await app.bot.set_webhook(
                self.config.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
        else:
            assert app.updater is not None
            await app.start()
            metrics.METRICS.expect_messenger("telegram")
            await app.updater.start_polling(
                timeout=timedelta(seconds=self.config.poll_timeout),
                allowed_updates=ALLOWED_UPDATES,
            )
        log.info("Telegram: @%s is running (%s)", self.username, self.config.mode)

    async def _publish_menu(self) -> None:
        """The command menu is a convenience: if Telegram refuses it, koopbot runs without
        (the scheduler and Matrix must not stop over it) and tries again at the next start."""
        bot = self.application.bot
        try:
            await bot.set_my_commands(
                menu(self.registry, group=False), scope=BotCommandScopeDefault()
            )
            await bot.set_my_commands(
                menu(self.registry, group=True), scope=BotCommandScopeAllGroupChats()
            )
        except TelegramError as exc:
            log.warning(
                "Telegram setMyCommands failed (%s): %s; running without the command menu",
                type(exc).__name__,
                exc.message,
            )

    async def stop(self) -> None:
        """Stop fetching, finish the updates in hand, release the connections."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        await app.shutdown()

    async def run(self) -> None:
        """Run until cancelled (the `telegram` service of `koopbot run`)."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # -- handlers -------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message becomes an Incoming for the core; the Reply goes back into the chat."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or user.is_bot:
            return
        text = message.text or ""
        private = chat.type == ChatType.PRIVATE
        if not private:
            # In groups only commands addressed to us (or to no bot in particular) count,
            # not the members' conversation.
            addressed = _ADDRESSED.match(text)
            if not text.startswith("/") or (
                addressed and addressed["bot"].lower() != self.username.lower()
            ):
                return
        await self._answer(chat.id, user.id, user.first_name, text, private)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed button: its command as a new message from the presser."""
        query = update.callback_query
        if query is None:
            return
        await query.answer()  # stops the button's spinner at once
        command = self.tokens.decode(query.data or "")
        chat = query.message.chat if query.message is not None else None
        chat_id = chat.id if chat is not None else query.from_user.id
        private = chat is None or chat.type == ChatType.PRIVATE
        if command is None:
            await send_reply(context.bot, chat_id, Reply(BUTTON_EXPIRED), self.tokens)
            return
        await self._answer(
            chat_id, query.from_user.id, query.from_user.first_name, command, private
        )

    async def _answer(
        self, chat_id: int, user_id: int, first_name: str, text: str, private: bool
    ) -> None:
        incoming = Incoming(
            sender=Sender(TRANSPORT, str(user_id), first_name),
            chat_id=str(chat_id),
            text=text,
            private=private,
        )
        reply = await asyncio.to_thread(self.core.handle, incoming)
        await send_reply(self.application.bot, chat_id, reply, self.tokens)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one place errors end: logged once; the person gets a short apology."""
        error = context.error
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            log.warning("Telegram network problem: %s", error)  # PTB retries polling itself
            return
        log.error("Telegram update failed", exc_info=error)
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await self.application.bot.send_message(update.effective_chat.id, texts.SORRY)
            except TelegramError as exc:
                log.error("could not send the apology: %s", exc)


async def chat_service(app: App) -> None:
    """The Telegram adapter (python-telegram-bot, long polling or webhook)."""
    adapter = TelegramAdapter(app.bot, app.settings.telegram)
    try:
        await adapter.run()
    except InvalidToken:
        # A well-formed token that Telegram does not know: a setting, not a bug (issue 12).
        raise ConfigError(
            "telegram.token: Telegram hat das Token abgelehnt (InvalidToken)"
        ) from None


async def outgoing(app: App) -> TelegramMessenger:
    config = app.settings.telegram
    # max_retries=0: a 429 comes back to the dispatcher, which requeues the reminder.
    bot: ExtBot[dict[str, Any]] = ExtBot(
        config.read_token(),
        base_url=config.base_url,
        base_file_url=config.base_file_url,
        rate_limiter=TelegramRateLimiter(max_retries=0),
    )
    await bot.initialize()
    return TelegramMessenger(bot)


MESSENGER = MessengerKind(chat_service, outgoing)
