"""The Telegram adapter: python-telegram-bot 22 translating to and from the core.

Updates become `Incoming` messages for `bot.core.Bot`; its `Reply` becomes one or more
messages (split under Telegram's 4096 characters) with an inline keyboard for its buttons.
The adapter holds no business rules.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
import warnings
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from bot import texts
from bot.app import App, MessengerKind
from bot.core import Bot
from bot.messages import Button, Incoming, Reply, Sender
from bot.registry import REGISTRY, Registry
from config.errors import ConfigError
from config.logs import FILTER, register_secret
from config.messengers import TelegramSettings
from scheduler import metrics
from scheduler.ports import DeliveryError, FailureKind, Recipient

log = logging.getLogger(__name__)

TRANSPORT = "telegram"
MAX_TEXT = 4096  # Telegram's limit per message (characters after entity parsing)
MAX_CALLBACK_DATA = 64  # bytes
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
# Telegram's flood limits as PTB encodes them: 30 messages/s overall, 20/min into one group.
OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20

BUTTON_EXPIRED = (
    "Diese Schaltfläche ist nicht mehr gültig (koopbot wurde neu gestartet). "
    "Bitte schick den Befehl noch einmal."
)
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_ADDRESSED = re.compile(r"^/[A-Za-z0-9_]+@(?P<bot>[A-Za-z0-9_]+)")

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


# -- translation helpers --------------------------------------------------------------------


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


def _retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter's wait; PTB 22 warns that the attribute will become a timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# -- rate limits ----------------------------------------------------------------------------


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
                delay = _retry_seconds(exc)
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


# -- sending --------------------------------------------------------------------------------


async def send_reply(
    bot: ExtBot[Any],
    chat_id: int,
    reply: Reply,
    tokens: CallbackTokens,
    *,
    rate_limit_args: dict[str, Any] | None = None,
) -> None:
    """Send a Reply as one or more messages; the keyboard goes with the last piece."""
    pieces = split_text(reply.text)
    markup = keyboard(reply.buttons, tokens)
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        await bot.send_message(
            chat_id,
            piece,
            reply_markup=markup if last else None,
            rate_limit_args=rate_limit_args,
        )
    failed: list[str] = []
    for attachment in reply.attachments:
        # Charts as pictures, files (XLSX, CSV) as documents; captions are limited to 1024.
        file = InputFile(attachment.data, filename=attachment.filename)
        caption = attachment.caption[:1024] or None
        photo = attachment.mime_type == "image/png"
        try:
            if photo:
                await bot.send_photo(
                    chat_id, file, caption=caption, rate_limit_args=rate_limit_args
                )
            else:
                await bot.send_document(
                    chat_id, file, caption=caption, rate_limit_args=rate_limit_args
                )
        except TelegramError as exc:
            # The text has arrived; the person learns the file is missing instead of guessing.
            method = "sendPhoto" if photo else "sendDocument"
            log.warning("Telegram %s failed (%s): %s", method, type(exc).__name__, exc.message)
            failed.append(texts.ATTACHMENT_CHART if photo else f"die Datei {attachment.filename}")
    if failed:
        await bot.send_message(
            chat_id, texts.attachments_failed(failed), rate_limit_args=rate_limit_args
        )


class TelegramMessenger:
    """The outgoing side for the reminder engine: a Reply into a person's private chat."""

    transport = TRANSPORT
    max_chars = MAX_TEXT

    def __init__(self, bot: ExtBot[Any], tokens: CallbackTokens | None = None) -> None:
        self._bot = bot
        self._tokens = tokens or CallbackTokens()

    async def send(self, recipient: Recipient, reply: Reply, *, idempotency_key: str) -> None:
        """Send or raise DeliveryError; the Bot API has no idempotency keys, so a retry after
        a lost answer may post twice (the key is logged to trace it)."""
        try:
            chat_id = int(recipient.external_id)
        except ValueError as exc:
            raise DeliveryError(FailureKind.unknown_user, "not a Telegram user id") from exc
        try:
            # No retries here: the reminder engine schedules them with the retry_after given.
            await send_reply(
                self._bot, chat_id, reply, self._tokens, rate_limit_args={"max_retries": 0}
            )
        except Forbidden as exc:
            text = exc.message.lower()
            if "initiate conversation" in text or "deactivated" in text:
                raise DeliveryError(FailureKind.unknown_user, exc.message) from exc
            raise DeliveryError(FailureKind.blocked, exc.message) from exc
        except RetryAfter as exc:
            raise DeliveryError(
                FailureKind.rate_limited, exc.message, retry_after=_retry_seconds(exc)
            ) from exc
        except BadRequest as exc:
            text = exc.message.lower()
            if "chat not found" in text or "user not found" in text or "peer_id_invalid" in text:
                raise DeliveryError(FailureKind.unknown_user, exc.message) from exc
            raise
        except NetworkError as exc:  # includes TimedOut; BadRequest is handled above
            raise DeliveryError(FailureKind.network, exc.message) from exc
        log.debug("delivered %s to staff %s via Telegram", idempotency_key, recipient.staff_id)


# -- webhook --------------------------------------------------------------------------------


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
