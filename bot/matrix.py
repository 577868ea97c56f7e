"""The Matrix adapter: matrix-nio with end-to-end encryption over the transport-neutral core.

It translates only: Matrix events become `Incoming`, a `Reply` becomes an HTML message.
Who may do what is the core's business; the adapter asks it (`Bot.is_registered`) before
joining a room.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
import json
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    LocalProtocolError,
    LoginError,
    MatrixRoom,
    MegolmEvent,
    ProfileGetError,
    RoomCreateError,
    RoomMemberEvent,
    RoomMessagesError,
    RoomMessageText,
    RoomPreset,
    RoomSendError,
    SendRetryError,
    SyncError,
    SyncResponse,
    UploadResponse,
    WhoamiError,
)
from nio.event_builders import EnableEncryptionBuilder

from bot.core import Bot
from bot.matrix_identity import establish_identity
from bot.messages import Attachment, Incoming, Reply, Sender
from bot.outgoing import DeliveryError, FailureKind, Recipient
from config.settings import MatrixSettings, Settings

if TYPE_CHECKING:
    from bot.runner import App

log = logging.getLogger(__name__)

TRANSPORT = "matrix"
# A timeline of this many events per room and sync covers a normal downtime; longer gaps
# are filled from /messages so that nothing sent while koopbot was down is missed.
_TIMELINE_LIMIT = 50
_SYNC_FILTER: dict[str, Any] = {"room": {"timeline": {"limit": _TIMELINE_LIMIT}}}
_MAX_BACKOFF = 60.0
_PENDING_LIMIT = 200  # undecryptable events kept while their room key is requested
_COMMAND_WORD = re.compile(r"(?<![\w/:.])/([A-Za-zÄÖÜäöüß_]+)\b")


class MatrixStartError(Exception):
    """The adapter cannot start (login, stored credentials); the message names the reason."""


@dataclass
class Credentials:
    """What the first password login yields; kept in the store directory, mode 0600."""

    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    @classmethod
    def load(cls, path: Path) -> Credentials | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise MatrixStartError(f"matrix credentials file {path} is unreadable: {exc}") from exc
        try:
            return cls(
                **{k: str(data[k]) for k in ("homeserver", "user_id", "device_id")},
                access_token=str(data["access_token"]),
            )
        except KeyError as exc:
            raise MatrixStartError(f"matrix credentials file {path} lacks {exc}") from exc

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh)
        tmp.replace(path)


def reply_tx_id(event_id: str) -> str:
    """The transaction id of the answer to one incoming event: a resend never posts twice."""
    return "koopbot-re-" + hashlib.sha256(event_id.encode()).hexdigest()[:32]


def delivery_tx_id(idempotency_key: str) -> str:
    return "koopbot-out-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def render(reply: Reply, command_names: Iterable[str] = ()) -> dict[str, Any]:
    """An Element-friendly message: plain `body` plus escaped HTML with line breaks.

    Element runs text starting with "/" as a client command, so commands the core writes as
    `/fristen` are shown as `!fristen`, which koopbot accepts everywhere on Matrix.
    """
    names = {n.lower() for n in command_names}

    def bang(text: str) -> str:
        return _COMMAND_WORD.sub(lambda m: f"!{m[1]}" if m[1].lower() in names else m[0], text)

    text = bang(reply.text)
    if reply.buttons:
        text += "\n\n" + "\n".join(f"• {b.label}: {bang(b.command)}" for b in reply.buttons)
    formatted = "<br>".join(html.escape(line) for line in text.split("\n"))
    return {
        "msgtype": "m.text",
        "body": text,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted,
    }


def _is_rate_limited(resp: Any) -> bool:
    return isinstance(resp, ErrorResponse) and resp.status_code == "M_LIMIT_EXCEEDED"


@dataclass
class MatrixStats:
    """Counters for tests and the benchmark."""

    answered: int = 0
    rate_limit_waits: int = 0
    key_requests: int = 0
    ignored_invites: int = 0
    handle_seconds: list[float] = field(default_factory=list)


class MatrixAdapter:
    """One logged-in koopbot device: syncs, answers commands, sends direct messages."""

    def __init__(self, config: MatrixSettings, bot: Bot, store_dir: Path) -> None:
        if not config.homeserver or not config.user_id:
            raise MatrixStartError("matrix.homeserver and matrix.user_id must be set")
        self.config = config
        self.bot = bot
        self.store_dir = store_dir
        self.homeserver = config.homeserver.rstrip("/")
        self.user_id = config.user_id
        self.stats = MatrixStats()
        self.client: AsyncClient | None = None
        self.ready = asyncio.Event()
        self._pending: dict[str, list[tuple[str, MegolmEvent]]] = {}
        self._direct_path = store_dir / "direct_rooms.json"
        self._direct: dict[str, str] = {}
        self._dm_lock = asyncio.Lock()
        self._synced = asyncio.Condition()

    @classmethod
    def from_settings(cls, settings: Settings, bot: Bot) -> MatrixAdapter:
        store_dir = settings.matrix.store_dir or settings.data_dir / "matrix"
        return cls(settings.matrix, bot, store_dir)

    @property
    def own_server(self) -> str:
        return self.user_id.partition(":")[2]

    # -- start-up ----------------------------------------------------------------------------

    async def login(self) -> AsyncClient:
        """Restore the saved device, or log in with the password once and save the device."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.store_dir, 0o700)
        creds_path = self.store_dir / "credentials.json"
        creds = Credentials.load(creds_path)
        if creds is not None and creds.user_id != self.user_id:
            raise MatrixStartError(
                f"{creds_path} belongs to {creds.user_id}, not matrix.user_id {self.user_id}"
            )
        config = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=True,
            max_limit_exceeded=0,  # M_LIMIT_EXCEEDED comes back to us: see _send_with_backoff
            max_timeouts=2,
        )
        client = AsyncClient(
            self.homeserver,
            self.user_id,
            device_id=creds.device_id if creds else None,
            store_path=str(self.store_dir),
            config=config,
        )
        self.client = client
        if creds is not None:
            client.restore_login(creds.user_id, creds.device_id, creds.access_token)
            who = await client.whoami()
            if isinstance(who, WhoamiError):
                if who.status_code != "M_UNKNOWN_TOKEN" or self.config.password is None:
                    raise MatrixStartError(f"matrix: the saved access token fails: {who}")
                # Same device id: the crypto store stays valid, history stays decryptable.
                await self._password_login(client, creds_path)
        else:
            if self.config.password is None:
                raise MatrixStartError(
                    "matrix: first start needs a password (KOOPBOT_MATRIX__PASSWORD)"
                )
            await self._password_login(client, creds_path)
        await establish_identity(client, self.config, self.store_dir)  # cross-signed, see there
        self._direct = self._load_direct()
        return client

    async def _password_login(self, client: AsyncClient, creds_path: Path) -> None:
        assert self.config.password is not None
        resp = await client.login(
            self.config.password.get_secret_value(), device_name=self.config.device_name
        )
        if isinstance(resp, LoginError):
            # The message is the server's; it never contains the password.
            raise MatrixStartError(f"matrix login as {self.user_id} failed: {resp.message}")
        Credentials(self.homeserver, resp.user_id, resp.device_id, resp.access_token).save(
            creds_path
        )
        log.info("matrix: logged in as %s, device %s", resp.user_id, resp.device_id)

    # -- the sync loop -----------------------------------------------------------------------

    async def run(self) -> None:
        """Log in if needed and sync until cancelled."""
        client = self.client or await self.login()
        first_ever = not client.loaded_sync_token
        since: str | None = client.loaded_sync_token or None
        failures = 0
        first = True
        while True:
            try:
                resp = await client.sync(
                    timeout=0 if first else self.config.sync_timeout_ms,
                    sync_filter=_SYNC_FILTER,
                    since=since,
                    # Room state is not stored by nio: the first sync of every run fetches it.
                    full_state=True if first else None,
                )
            except (ClientError, TimeoutError) as exc:
                resp = SyncError(f"network: {exc.__class__.__name__}")
            if isinstance(resp, SyncError):
                failures += 1
                wait = self._backoff(failures, resp.retry_after_ms)
                if _is_rate_limited(resp):
                    self.stats.rate_limit_waits += 1
                log.warning("matrix sync failed (%s); retrying in %.1f s", resp, wait)
                await asyncio.sleep(wait)
                continue
            failures = 0
            await self._keys_housekeeping()
            await self._process(resp, since=since, history=first and first_ever)
            since = resp.next_batch
            first = False
            self.ready.set()
            async with self._synced:
                self._synced.notify_all()

    @staticmethod
    def _backoff(attempt: int, retry_after_ms: int | None) -> float:
        exponential = min(_MAX_BACKOFF, 0.5 * 2.0 ** min(attempt - 1, 10))
        if retry_after_ms:
            return min(_MAX_BACKOFF, max(float(retry_after_ms) / 1000, 0.05))
        return float(exponential)

    async def _keys_housekeeping(self) -> None:
        client = self._client()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    async def _process(self, resp: SyncResponse, *, since: str | None, history: bool) -> None:
        client = self._client()
        for room_id, invite in resp.rooms.invite.items():
            await self._on_invite(room_id, invite.invite_state)
        await self._retry_pending()
        for room_id, info in resp.rooms.join.items():
            room = client.rooms.get(room_id)
            if room is None or history:
                continue  # before koopbot's first start: history is not answered
            events = list(info.timeline.events)
            joined_at = self._own_join_index(events)
            if joined_at is not None:
                events = events[joined_at + 1 :]  # history from before koopbot joined
            elif info.timeline.limited and since and info.timeline.prev_batch:
                events = await self._gap(room_id, info.timeline.prev_batch, since) + events
            for event in events:
                await self._on_event(room, event)

    def _own_join_index(self, events: list[Any]) -> int | None:
        found = None
        for i, event in enumerate(events):
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.user_id
                and event.membership == "join"
                and event.prev_membership != "join"
            ):
                found = i
        return found

    async def _gap(self, room_id: str, prev_batch: str, since: str) -> list[Any]:
        """Events a limited timeline left out, oldest first (a long downtime)."""
        client = self._client()
        older: list[Any] = []
        start = prev_batch
        for _ in range(20):  # at most 2,000 events
            page = await client.room_messages(room_id, start=start, end=since, limit=100)
            if isinstance(page, RoomMessagesError) or not page.chunk:
                break
            older.extend(page.chunk)
            if not page.end or page.end == start:
                break
            start = page.end
        older.reverse()
        joined_at = self._own_join_index(older)
        return older if joined_at is None else older[joined_at + 1 :]

    async def _on_invite(self, room_id: str, invite_state: list[Any]) -> None:
        """Join on an invite from registered staff, or a direct chat to register in."""
        client = self._client()
        own = next(
            (
                e
                for e in invite_state
                if isinstance(e, InviteMemberEvent)
                and e.state_key == self.user_id
                and e.membership == "invite"
            ),
            None,
        )
        if own is None:
            return
        inviter = own.sender
        direct = bool(own.content.get("is_direct"))
        registered = await asyncio.to_thread(self.bot.is_registered, Sender(TRANSPORT, inviter))
        if registered or (direct and self._may_register(inviter)):
            resp = await client.join(room_id)
            if isinstance(resp, ErrorResponse):
                log.warning("matrix: could not join %s: %s", room_id, resp)
            return
        self.stats.ignored_invites += 1
        log.info("matrix: declined an invite to %s by an unregistered account", room_id)
        await client.room_leave(room_id)

    def _may_register(self, user_id: str) -> bool:
        servers = self.config.registration_servers or [self.own_server]
        return user_id.partition(":")[2] in servers

    async def _on_event(self, room: MatrixRoom, event: Any) -> None:
        if isinstance(event, MegolmEvent):
            await self._request_key(room.room_id, event)
            return
        if not isinstance(event, RoomMessageText) or event.sender == self.user_id:
            return
        relates = event.source.get("content", {}).get("m.relates_to", {})
        if relates.get("rel_type") == "m.replace":
            return  # an edit; the original was answered
        text = event.body.strip()
        private = room.member_count <= 2
        if not private and not text.startswith("!"):
            return  # people talking in the room, not to koopbot
        incoming = Incoming(
            sender=Sender(TRANSPORT, event.sender, room.user_name(event.sender)),
            chat_id=room.room_id,
            text=text,
            private=private,
        )
        reply = await asyncio.to_thread(self._handle, incoming)
        try:
            await self.send_reply(room.room_id, reply, tx_id=reply_tx_id(event.event_id))
        except DeliveryError as exc:
            log.error("matrix: answer in %s not delivered: %s", room.room_id, exc)
            return
        self.stats.answered += 1

    def _handle(self, incoming: Incoming) -> Reply:
        started = time.perf_counter()
        try:
            return self.bot.handle(incoming)
        finally:
            self.stats.handle_seconds.append(time.perf_counter() - started)

    async def _request_key(self, room_id: str, event: MegolmEvent) -> None:
        """Ask the sender's devices for a missing room key and retry when it arrives."""
        if event.sender == self.user_id:
            return
        queue = self._pending.setdefault(event.session_id, [])
        if sum(len(v) for v in self._pending.values()) < _PENDING_LIMIT:
            queue.append((room_id, event))
        try:
            await self._client().request_room_key(event)
            self.stats.key_requests += 1
        except LocalProtocolError:
            pass  # already requested for this session

    async def _retry_pending(self) -> None:
        client = self._client()
        for session_id in list(self._pending):
            still: list[tuple[str, MegolmEvent]] = []
            for room_id, event in self._pending[session_id]:
                room = client.rooms.get(room_id)
                try:
                    decrypted = client.decrypt_event(event)
                except Exception:  # the key is still missing
                    still.append((room_id, event))
                    continue
                if room is not None:
                    await self._on_event(room, decrypted)
            if still:
                self._pending[session_id] = still
            else:
                del self._pending[session_id]

    # -- sending -----------------------------------------------------------------------------

    def command_names(self) -> list[str]:
        return [name for cmd in self.bot.registry.commands for name in (cmd.name, *cmd.aliases)]

    async def send_reply(
        self, room_id: str, reply: Reply, *, tx_id: str, max_waits: int | None = None
    ) -> str:
        """Send one Reply; waits out M_LIMIT_EXCEEDED with backoff; returns the event id."""
        content = render(reply, self.command_names())
        budget = self.config.max_rate_limit_waits if max_waits is None else max_waits
        event_id = await self._send_content(room_id, content, tx_id=tx_id, budget=budget)
        for index, attachment in enumerate(reply.attachments):
            file_content = await self._upload(room_id, attachment)
            await self._send_content(
                room_id, file_content, tx_id=f"{tx_id}-a{index}", budget=budget
            )
        return event_id

    async def _upload(self, room_id: str, attachment: Attachment) -> dict[str, Any]:
        """Upload a chart or export; encrypted (the `file` key) in encrypted rooms."""
        client = self._client()
        room = client.rooms.get(room_id)
        encrypted = bool(room is not None and room.encrypted)
        try:
            resp, keys = await client.upload(
                io.BytesIO(attachment.data),
                content_type=attachment.mime_type,
                filename=attachment.filename,
                encrypt=encrypted,
                filesize=len(attachment.data),
            )
        except (ClientError, TimeoutError) as exc:
            raise DeliveryError(FailureKind.network, exc.__class__.__name__) from exc
        if not isinstance(resp, UploadResponse):
            raise DeliveryError(FailureKind.network, f"upload failed: {resp}")
        image = attachment.mime_type.startswith("image/")
        content: dict[str, Any] = {
            "msgtype": "m.image" if image else "m.file",
            "body": attachment.caption or attachment.filename,
            "filename": attachment.filename,
            "info": {"mimetype": attachment.mime_type, "size": len(attachment.data)},
        }
        if keys is not None:
            content["file"] = {**keys, "url": resp.content_uri}
        else:
            content["url"] = resp.content_uri
        return content

    async def _send_content(
        self, room_id: str, content: dict[str, Any], *, tx_id: str, budget: int
    ) -> str:
        client = self._client()
        attempt = 0
        while True:
            try:
                resp = await client.room_send(
                    room_id,
                    "m.room.message",
                    content,
                    tx_id=tx_id,
                    ignore_unverified_devices=True,
                )
            except (ClientError, TimeoutError, SendRetryError) as exc:
                raise DeliveryError(FailureKind.network, exc.__class__.__name__) from exc
            except LocalProtocolError as exc:
                raise DeliveryError(FailureKind.network, str(exc)) from exc
            if not isinstance(resp, RoomSendError):
                return str(resp.event_id)
            if _is_rate_limited(resp):
                attempt += 1
                wait = self._backoff(attempt, resp.retry_after_ms)
                if attempt > budget:
                    raise DeliveryError(FailureKind.rate_limited, str(resp), retry_after=wait)
                self.stats.rate_limit_waits += 1
                log.info("matrix: rate limited, waiting %.1f s (attempt %d)", wait, attempt)
                await asyncio.sleep(wait)
                continue
            if resp.status_code == "M_FORBIDDEN":
                raise DeliveryError(FailureKind.blocked, str(resp))
            raise DeliveryError(FailureKind.network, str(resp))

    async def direct_room(self, user_id: str) -> str:
        """The encrypted direct chat with this person, created (and invited) when missing."""
        async with self._dm_lock:
            client = self._client()
            known = self._direct.get(user_id)
            if known is not None and known in client.rooms:
                if user_id not in client.rooms[known].users:
                    raise DeliveryError(FailureKind.blocked, "left the direct chat")
                return known
            for room in client.rooms.values():
                if set(room.users) == {self.user_id, user_id}:
                    self._remember_direct(user_id, room.room_id)
                    return str(room.room_id)
            profile = await client.get_profile(user_id)
            if isinstance(profile, ProfileGetError):
                kind = (
                    FailureKind.unknown_user
                    if profile.status_code in ("M_NOT_FOUND", "M_UNKNOWN", "M_INVALID_PARAM")
                    else FailureKind.network
                )
                raise DeliveryError(kind, str(profile))
            created = await client.room_create(
                is_direct=True,
                preset=RoomPreset.trusted_private_chat,
                invite=[user_id],
                initial_state=[EnableEncryptionBuilder().as_dict()],
            )
            if isinstance(created, RoomCreateError):
                if _is_rate_limited(created):
                    raise DeliveryError(
                        FailureKind.rate_limited,
                        str(created),
                        retry_after=(created.retry_after_ms or 1000) / 1000,
                    )
                raise DeliveryError(FailureKind.network, str(created))
            room_id = str(created.room_id)
            await self._wait_for_room(room_id, user_id)
            self._remember_direct(user_id, room_id)
            return room_id

    async def _wait_for_room(self, room_id: str, user_id: str, timeout: float = 20.0) -> None:
        """A new room is usable once a sync brought its state (encryption, the invitee)."""
        client = self._client()

        def usable() -> bool:
            room = client.rooms.get(room_id)
            return room is not None and room.encrypted and user_id in room.users

        async with self._synced:
            try:
                await asyncio.wait_for(self._synced.wait_for(usable), timeout)
            except TimeoutError as exc:
                raise DeliveryError(FailureKind.network, "new direct chat not synced") from exc

    def _load_direct(self) -> dict[str, str]:
        try:
            data = json.loads(self._direct_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def _remember_direct(self, user_id: str, room_id: str) -> None:
        self._direct[user_id] = room_id
        tmp = self._direct_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._direct), encoding="utf-8")
        tmp.replace(self._direct_path)

    def _client(self) -> AsyncClient:
        if self.client is None:
            raise MatrixStartError("matrix: not logged in")
        return self.client

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


class MatrixMessenger:
    """`bot.outgoing.Messenger` for Matrix: a Reply into the person's encrypted direct chat."""

    transport = TRANSPORT

    def __init__(
        self, adapter: MatrixAdapter, *, max_rate_limit_waits: int = 2, ready_timeout: float = 60
    ) -> None:
        self.adapter = adapter
        self.max_rate_limit_waits = max_rate_limit_waits
        self.ready_timeout = ready_timeout

    async def send(self, recipient: Recipient, reply: Reply, *, idempotency_key: str) -> None:
        """Deliver once per idempotency key: the key becomes the Matrix transaction id."""
        if recipient.transport != TRANSPORT:
            raise ValueError(f"recipient is on {recipient.transport}, not {TRANSPORT}")
        try:
            await asyncio.wait_for(self.adapter.ready.wait(), self.ready_timeout)
        except TimeoutError as exc:
            raise DeliveryError(FailureKind.network, "the matrix service is not syncing") from exc
        room_id = await self.adapter.direct_room(recipient.external_id)
        await self.adapter.send_reply(
            room_id,
            reply,
            tx_id=delivery_tx_id(idempotency_key),
            max_waits=self.max_rate_limit_waits,
        )


def shared_adapter(app: App) -> MatrixAdapter:
    """The one Matrix device of this process, shared by the sync loop and the messenger
    (two clients on one crypto store would corrupt its Olm sessions)."""
    adapter = getattr(app, "_matrix_adapter", None)
    if not isinstance(adapter, MatrixAdapter):
        adapter = MatrixAdapter.from_settings(app.settings, app.bot)
        setattr(app, "_matrix_adapter", adapter)  # noqa: B010
    return adapter


async def run_matrix(app: App) -> None:
    """The `matrix` service of `koopbot run`."""
    adapter = shared_adapter(app)
    try:
        await adapter.run()
    finally:
        await adapter.close()
