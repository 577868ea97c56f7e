"""A Telegram Bot API server for tests, written to https://core.telegram.org/bots/api.

Real Telegram cannot be reached from CI, and the npm `telegram-test-api` does not speak the
API as python-telegram-bot 22 expects it (see TEST-SERVERS.md). This aiohttp server answers
the methods koopbot uses with Telegram's JSON shapes and error texts, long-polls `getUpdates`
with `offset` acknowledgement, delivers to a webhook with the secret-token header, and answers
429 with `retry_after` past Telegram's flood limits. Tests and benchmarks use it as a library:

    async with TelegramTestServer() as server:
        mara = server.user("Mara")
        app = ApplicationBuilder().token(server.token).base_url(server.base_url)...
        replies = await server.say(mara, "/hilfe")
        assert "Das Wichtigste" in replies[0].text
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import secrets
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, web
from multidict import MultiDictProxy

DEFAULT_TOKEN = "4242424242:AAEkoopbotTESTtokenForTheLocalServer1"
MAX_TEXT = 4096  # characters after entity parsing
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_UPDATE_TYPES = ("message", "edited_message", "callback_query")


class ApiError(Exception):
    """An error answer in Telegram's shape."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class RateLimits:
    """Telegram's flood limits as PTB's constants encode them; None switches one off."""

    per_chat: int | None = 1
    per_chat_seconds: float = 1.0
    per_group: int | None = 20
    per_group_seconds: float = 60.0
    overall: int | None = 30
    overall_seconds: float = 1.0

    @classmethod
    def off(cls) -> RateLimits:
        return cls(per_chat=None, per_group=None, overall=None)


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    is_bot: bool = False
    blocked_bot: bool = False  # the person blocked the bot: sends answer 403

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if not self.is_bot:
            out["language_code"] = "de"
        return out


@dataclass
class Chat:
    id: int
    type: str  # "private", "group", "supergroup"
    title: str | None = None
    user: User | None = None  # the other side of a private chat

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.user is not None:
            out["first_name"] = self.user.first_name
            if self.user.username:
                out["username"] = self.user.username
        if self.title:
            out["title"] = self.title
        return out


@dataclass
class SentMessage:
    """A message as the chat shows it; `from_bot` for what the bot sent."""

    message_id: int
    chat: Chat
    sender: User
    date: int
    text: str | None = None
    caption: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    edit_date: int | None = None

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard's buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.json(),
            "chat": self.chat.json(),
            "date": self.date,
        }
        if self.text is not None:
            out["text"] = self.text
            if self.text.startswith("/") and not self.from_bot:
                length = len(self.text.split(maxsplit=1)[0])
                out["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        for key in ("caption", "reply_markup", "document", "photo", "edit_date"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str


@dataclass
class _Window:
    """Sliding-window counter of accepted sends."""

    limit: int | None
    seconds: float
    stamps: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        if self.limit is None:
            return 0.0
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return 0.0
        return self.stamps[0] + self.seconds - now

    def add(self, now: float) -> None:
        if self.limit is not None:
            self.stamps.append(now)


class TelegramTestServer:
    """The Bot API for one bot, on a free 127.0.0.1 port, plus a small world of users and chats."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "koopbot_test_bot",
        limits: RateLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.limits = limits or RateLimits()
        self._clock = clock
        self.bot = User(
            id=int(token.split(":", 1)[0]), first_name="koopbot", username=bot_username, is_bot=True
        )
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every method the bot called
        self.errors: list[tuple[str, ApiError]] = []  # every error answer given
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_statuses: list[int] = []  # HTTP status of each webhook delivery
        self.files: dict[str, StoredFile] = {}
        self._faults: dict[str, deque[ApiError | str]] = {}
        self._outages: dict[str, ApiError | str] = {}  # method -> fault, until `recover`
        self._chats: dict[int, Chat] = {}
        self._messages: dict[int, list[SentMessage]] = {}  # per chat, in order
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._user_ids = itertools.count(7_000_001)
        self._group_ids = itertools.count(-1_000_001, -1)
        self._update_ids = itertools.count(500_000)
        self._updates: deque[dict[str, Any]] = deque()
        self._pending_callbacks: set[str] = set()
        self._changed = asyncio.Condition()
        self._poll_generation = 0
        self._allowed_updates: tuple[str, ...] = _UPDATE_TYPES
        self._windows_chat: dict[int, _Window] = {}
        self._windows_group: dict[int, _Window] = {}
        self._window_all = _Window(self.limits.overall, self.limits.overall_seconds)
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._client: ClientSession | None = None
        self.port = 0

    # -- life cycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> TelegramTestServer:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._host = host
        return self

    async def stop(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
            self._webhook_task = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        async with self._changed:
            self._poll_generation += 1
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramTestServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)`."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # -- the world ------------------------------------------------------------------------

    def user(self, first_name: str, *, last_name: str | None = None) -> User:
        """A new Telegram account with a private chat to the bot (chat id = user id)."""
        person = User(id=next(self._user_ids), first_name=first_name, last_name=last_name)
        self._chats[person.id] = Chat(id=person.id, type="private", user=person)
        return person

    def group(self, title: str, *, supergroup: bool = False) -> Chat:
        chat_id = next(self._group_ids)
        if supergroup:
            chat_id = -1_000_000_000_000 + chat_id
        chat = Chat(id=chat_id, type="supergroup" if supergroup else "group", title=title)
        self._chats[chat.id] = chat
        return chat

    def chat(self, chat_id: int) -> Chat:
        return self._chats[chat_id]

    # -- what users do --------------------------------------------------------------------

    def send_text(self, user: User, text: str, *, chat: Chat | None = None) -> SentMessage:
        """`user` writes `text` into `chat` (default: the private chat with the bot)."""
        target = chat or self._chats[user.id]
        message = self._store(target, user, text=text)
        self._push({"message": message.json()})
        return message

    def press(self, user: User, message: SentMessage, button: str | int = 0) -> str:
        """`user` presses a button (by index or label substring); returns the query id."""
        choice = self._button(message, button)
        query_id = str(secrets.randbelow(10**18))
        self._pending_callbacks.add(query_id)
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.json(),
                    "message": message.json(),
                    "chat_instance": str(abs(message.chat.id) * 7919),
                    "data": choice["callback_data"],
                }
            }
        )
        return query_id

    async def say(
        self,
        user: User,
        text: str,
        *,
        chat: Chat | None = None,
        replies: int = 1,
        timeout: float = 15.0,
    ) -> list[SentMessage]:
        """Send `text` and wait for the bot's next `replies` messages in that chat."""
        target = chat or self._chats[user.id]
        before = len(self.sent_to(target.id))
        self.send_text(user, text, chat=target)
        sent = await self.wait_sent(target.id, before + replies, timeout=timeout)
        return sent[before:]

    async def click(
        self,
        user: User,
        message: SentMessage,
        button: str | int = 0,
        *,
        replies: int = 1,
        timeout: float = 15.0,
    ) -> list[SentMessage]:
        """Press a button and wait until it is answered and the bot's next messages arrived."""
        before = len(self.sent_to(message.chat.id))
        query_id = self.press(user, message, button)
        sent = await self.wait_sent(message.chat.id, before + replies, timeout=timeout)
        await self.wait_for(lambda: query_id in self.answered_callbacks, timeout=timeout)
        return sent[before:]

    def set_limits(self, limits: RateLimits) -> None:
        """Change the flood limits; counting starts afresh."""
        self.limits = limits
        self._windows_chat.clear()
        self._windows_group.clear()
        self._window_all = _Window(limits.overall, limits.overall_seconds)

    def fail_next(self, method: str, fault: ApiError | str) -> None:
        """Answer the next call of `method` with an error, or "disconnect" to drop the
        connection without an answer (a network failure)."""
        self._faults.setdefault(method.lower(), deque()).append(fault)

    def fail_all(self, method: str, fault: ApiError | str) -> None:
        """Answer every call of `method` with `fault` (as `fail_next`) until `recover`."""
        self._outages[method.lower()] = fault

    def recover(self, method: str) -> None:
        self._outages.pop(method.lower(), None)

    # -- what tests read ------------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Everything the bot sent into a chat, in order (edits change messages in place)."""
        return [m for m in self._messages.get(chat_id, []) if m.from_bot]

    def pending_updates(self) -> int:
        return len(self._updates)

    async def wait_sent(
        self, chat_id: int, count: int, *, timeout: float = 15.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least `count` messages into the chat; return them all."""
        await self.wait_for(lambda: len(self.sent_to(chat_id)) >= count, timeout=timeout)
        return self.sent_to(chat_id)

    async def wait_for(self, condition: Callable[[], bool], *, timeout: float = 15.0) -> None:
        """Wait until `condition()` holds; every API call and injected update re-checks it."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    # -- internals ------------------------------------------------------------------------

    def _store(self, chat: Chat, sender: User, **content: Any) -> SentMessage:
        ids = self._message_ids.setdefault(chat.id, itertools.count(1))
        message = SentMessage(
            message_id=next(ids), chat=chat, sender=sender, date=int(time.time()), **content
        )
        self._messages.setdefault(chat.id, []).append(message)
        return message

    def _push(self, update: dict[str, Any]) -> None:
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    @staticmethod
    def _button(message: SentMessage, button: str | int) -> dict[str, Any]:
        buttons = message.buttons
        if isinstance(button, int):
            return buttons[button]
        for candidate in buttons:
            if button in candidate["text"]:
                return candidate
        raise LookupError(f"no button {button!r} in {[b['text'] for b in buttons]}")

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"].lower()
        handler = getattr(self, f"_m_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            params, uploads = await _params(request)
            self.calls.append((request.match_info["method"], params))
            faults = self._faults.get(method)
            outage = self._outages.get(method)
            if faults or outage is not None:
                fault = faults.popleft() if faults else outage
                assert fault is not None
                if isinstance(fault, ApiError):
                    raise fault
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=500)
            result = await handler(params, uploads)
        except ApiError as exc:
            self.errors.append((request.match_info["method"], exc))
            await self._notify()
            return web.json_response(exc.body(), status=exc.code)
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        for stored in self.files.values():
            if stored.file_path == request.match_info["path"]:
                return web.Response(body=stored.data)
        return web.Response(status=404)

    def _target(self, params: dict[str, Any]) -> Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        try:
            chat = self._chats.get(int(raw))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise _bad("chat not found")
        if chat.user is not None and chat.user.blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _throttle(self, chat: Chat) -> None:
        now = self._clock()
        lim = self.limits
        windows = [
            self._windows_chat.setdefault(chat.id, _Window(lim.per_chat, lim.per_chat_seconds)),
            self._window_all,
        ]
        if chat.type != "private":
            windows.append(
                self._windows_group.setdefault(
                    chat.id, _Window(lim.per_group, lim.per_group_seconds)
                )
            )
        wait = max(w.wait(now) for w in windows)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        for window in windows:
            window.add(now)

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = _json_param(params, "reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise _bad(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise _bad("BUTTON_DATA_INVALID")
        return markup

    # -- methods --------------------------------------------------------------------------

    async def _m_getme(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        return {
            **self.bot.json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getupdates(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = _json_param(params, "allowed_updates")
        if allowed:
            self._allowed_updates = tuple(allowed)
        elif allowed == []:
            self._allowed_updates = _UPDATE_TYPES
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()  # confirmed: never returned again
        async with self._changed:
            self._poll_generation += 1
            generation = self._poll_generation
            self._changed.notify_all()  # an older long poll ends with 409 below
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            ready = self._visible(offset)
            if ready or timeout <= 0:
                return ready[:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return []
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
            if self._poll_generation != generation:
                if self._runner is None:
                    return []
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )

    def _visible(self, offset: int) -> list[dict[str, Any]]:
        updates = list(self._updates)
        if offset < 0:
            updates = updates[offset:]
        return [u for u in updates if any(k in u for k in self._allowed_updates)]

    async def _m_sendmessage(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        chat = self._target(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT:
            raise _bad("message is too long")
        markup = self._markup(params)
        self._throttle(chat)
        return self._store(chat, self.bot, text=text, reply_markup=markup).json()

    async def _m_editmessagetext(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            raise _bad("inline messages are not supported by this test server")
        chat = self._target(params)
        message_id = int(params.get("message_id") or 0)
        found = [m for m in self.sent_to(chat.id) if m.message_id == message_id]
        if not found:
            raise _bad("message to edit not found")
        text = str(params.get("text") or "")
        if not text.strip():
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT:
            raise _bad("MESSAGE_TOO_LONG")
        markup = self._markup(params)
        message = found[0]
        if message.text == text and message.reply_markup == markup:
            raise _bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.text, message.reply_markup, message.edit_date = text, markup, int(time.time())
        return message.json()

    async def _m_answercallbackquery(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._pending_callbacks:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._pending_callbacks.discard(query_id)
        self.answered_callbacks[query_id] = params
        return True

    async def _m_setmycommands(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        commands = _json_param(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not _COMMAND_NAME.match(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._scope_key(params)] = commands
        return True

    async def _m_getmycommands(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        return self.commands.get(self._scope_key(params), [])

    async def _m_deletemycommands(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        self.commands.pop(self._scope_key(params), None)
        return True

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = _json_param(params, "scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _m_deletewebhook(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        if _bool(params.get("drop_pending_updates")):
            self._updates.clear()
        self.webhook = None
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        return True

    async def _m_setwebhook(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return await self._m_deletewebhook(params, uploads)
        # Real Telegram demands https on ports 443, 80, 88 or 8443; this server delivers to
        # local http endpoints only, the one place tests can listen.
        if not re.match(r"^https?://(127\.0\.0\.1|localhost)(:\d+)?/", url):
            raise _bad("bad webhook: this test server delivers to http://127.0.0.1 only")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.match(str(secret)):
            raise _bad("secret token contains unallowed characters")
        if _bool(params.get("drop_pending_updates")):
            self._updates.clear()
        allowed = _json_param(params, "allowed_updates")
        if allowed:
            self._allowed_updates = tuple(allowed)
        self.webhook = {"url": url, "secret_token": secret}
        async with self._changed:
            self._poll_generation += 1  # a running long poll ends
            self._changed.notify_all()
        if self._webhook_task is None:
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver())
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _deliver(self) -> None:
        """Push updates to the webhook one by one; a non-2xx answer is retried later."""
        self._client = self._client or ClientSession(timeout=ClientTimeout(total=10))
        while self.webhook is not None:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._visible(0)) or self.webhook is None)
            hook = self.webhook
            if hook is None:
                return
            update = self._visible(0)[0]
            headers = {"Content-Type": "application/json"}
            if hook["secret_token"]:
                headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
            try:
                async with self._client.post(
                    hook["url"], data=json.dumps(update), headers=headers
                ) as r:
                    status = r.status
            except OSError:
                status = 0
            self.webhook_statuses.append(status)
            await self._notify()
            if 200 <= status < 300:
                if self._updates and self._updates[0] is update:
                    self._updates.popleft()
            else:
                await asyncio.sleep(0.5)

    async def _send_file(
        self, params: dict[str, Any], uploads: dict[str, Any], field_name: str
    ) -> SentMessage:
        chat = self._target(params)
        upload = uploads.get(field_name)
        value = params.get(field_name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
        if upload is None and isinstance(value, str) and value in self.files:
            stored = self.files[value]
            upload = (stored.file_path.rsplit("/", 1)[-1], "application/octet-stream", stored.data)
        if upload is None:
            raise _bad(f"there is no {field_name} in the request")
        caption = params.get("caption")
        if caption is not None and len(str(caption)) > MAX_CAPTION:
            raise _bad("message caption is too long")
        filename, content_type, data = upload
        if not data:
            raise _bad("file must be non-empty")
        markup = self._markup(params)
        self._throttle(chat)
        unique = secrets.token_hex(8)
        file_id = f"{field_name[:3].upper()}{secrets.token_urlsafe(24)}"
        folder = "photos" if field_name == "photo" else "documents"
        stored = StoredFile(file_id, unique, data, f"{folder}/file_{len(self.files)}_{filename}")
        self.files[file_id] = stored
        content: dict[str, Any] = {"caption": caption, "reply_markup": markup}
        if field_name == "photo":
            width, height = _image_size(data)
            content["photo"] = [
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "width": width,
                    "height": height,
                    "file_size": len(data),
                }
            ]
        else:
            content["document"] = {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_name": filename,
                "mime_type": content_type,
                "file_size": len(data),
            }
        return self._store(chat, self.bot, **content)

    async def _m_senddocument(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        return (await self._send_file(params, uploads, "document")).json()

    async def _m_sendphoto(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        return (await self._send_file(params, uploads, "photo")).json()

    async def _m_getfile(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


async def _params(request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parameters from the query string and a JSON, url-encoded or multipart body."""
    params: dict[str, Any] = dict(request.query)
    uploads: dict[str, tuple[str, str, bytes]] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise _bad("request body must be a JSON object")
            params.update(body)
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                data = bytes(await part.read())
                if part.filename:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    uploads[part.name] = (part.filename, content_type, data)
                else:
                    params[part.name] = data.decode()
        else:
            form: MultiDictProxy[Any] = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params, uploads


def _json_param(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise _bad(f"can't parse {name} JSON object") from exc
    return value


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG; anything else is refused as Telegram does."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                break
            marker, length = data[index + 1], struct.unpack(">H", data[index + 2 : index + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + length
    raise _bad("IMAGE_PROCESS_FAILED")


def texts_of(messages: Iterable[SentMessage]) -> str:
    """The texts of several messages joined, for assertions."""
    return "\n".join(m.text or m.caption or "" for m in messages)
