"""The Matrix adapter: matrix-nio with end-to-end encryption over the transport-neutral core.

It translates only: Matrix events become `Incoming`, a `Reply` becomes an HTML message.
Who may do what is the core's business; the adapter asks it (`Bot.is_registered`) before
joining a room. The parts: `matrix_login` (the device), `matrix_sync` (which events), `matrix_inbox` (answering each
exactly once), `matrix_keys` (undecryptable messages), `matrix_rooms` (invites, direct
chats), `matrix_send` and `matrix_render` (the messages as Element shows them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from pathlib import Path

from aiohttp import ClientError
from nio import AsyncClient, SyncError, SyncResponse

from bot.app import App, MessengerKind
from bot.core import Bot
from bot.matrix_answers import Answerer
from bot.matrix_inbox import TRANSPORT, Inbox
from bot.matrix_keys import KeyRecovery
from bot.matrix_login import DeviceLogin, MatrixStartError
from bot.matrix_render import deadline_ids, delivery_tx_id, render
from bot.matrix_rooms import RoomDirectory
from bot.matrix_send import Answer, MatrixSender, MatrixStats, backoff, is_rate_limited
from bot.matrix_sync import SYNC_FILTER, SyncPosition, new_events
from bot.messages import Reply, Sender
from config.messengers import MatrixSettings
from config.settings import Settings
from scheduler import metrics
from scheduler.ports import DeliveryError, FailureKind, Recipient
from storage import matrix_events
from storage.matrix_events import SentDeadline

log = logging.getLogger(__name__)

# matrix-nio logs one line per state event at INFO, and at DEBUG whole responses (with the
# access token); the SQL of its store (peewee) carries pickled key material.
_NIO_LOGGER, _STORE_LOGGER = "nio", "peewee"


def quiet_library_logs(level: str) -> None:
    """matrix-nio logs at `level` (WARNING unless debugging; never DEBUG), its store at WARNING."""
    logging.getLogger(_NIO_LOGGER).setLevel(max(logging.INFO, logging.getLevelName(level)))
    logging.getLogger(_STORE_LOGGER).setLevel(logging.WARNING)


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
        self._synced = asyncio.Condition()
        self.sender = MatrixSender(self._client, self.stats)
        self.rooms = RoomDirectory(self._client, self.user_id, store_dir, self.stats, self._synced)
        self.keys = KeyRecovery(self._client, self.stats, config.undecryptable_notice_seconds)
        self.answers = Answerer(
            bot=bot, sender=self.sender, stats=self.stats, budget=config.max_rate_limit_waits
        )
        self.inbox = Inbox(
            client=self._client,
            user_id=self.user_id,
            rooms=self.rooms,
            keys=self.keys,
            answers=self.answers,
        )
        self.position = SyncPosition(bot, self.user_id)

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
        device = DeviceLogin(
            self.config, self.store_dir, homeserver=self.homeserver, user_id=self.user_id
        )
        self.client = client = device.client()
        await device.log_in(client)
        return client

    # -- the sync loop -----------------------------------------------------------------------

    async def run(self) -> None:
        """Log in if needed and sync until cancelled."""
        quiet_library_logs(self.config.nio_log_level)
        client = self.client or await self.login()
        since = await asyncio.to_thread(self.position.load, client)
        first_ever = since is None
        attempt = 0
        while not await self.rooms.load():  # without m.direct every chat would be a group
            attempt += 1
            await asyncio.sleep(backoff(attempt, None))
        notices = asyncio.create_task(self._notice_loop(), name="matrix-notices")
        metrics.METRICS.expect_messenger("matrix")
        try:
            await self._sync_forever(client, since, first_ever=first_ever)
        finally:
            notices.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await notices

    async def _sync_forever(
        self, client: AsyncClient, since: str | None, *, first_ever: bool
    ) -> None:
        failures = 0
        first = True
        while True:
            try:
                resp = await client.sync(
                    timeout=0 if first else self.config.sync_timeout_ms,
                    sync_filter=SYNC_FILTER,
                    since=since,
                    # Room state is not stored by nio: the first sync of every run fetches it.
                    full_state=True if first else None,
                )
            except (ClientError, TimeoutError) as exc:
                resp = SyncError(f"network: {exc.__class__.__name__}")
            if isinstance(resp, SyncError):
                failures += 1
                wait = backoff(failures, resp.retry_after_ms)
                if is_rate_limited(resp):
                    self.stats.rate_limit_waits += 1
                log.warning("matrix sync failed (%s); retrying in %.1f s", resp, wait)
                await asyncio.sleep(wait)
                continue
            try:
                await self._keys_housekeeping()
                if first:
                    await self.inbox.resume()
                news = await self._process(resp, since=since, history=first and first_ever)
                await self._keys_housekeeping()  # key requests queued while handling
            except (ClientError, TimeoutError) as exc:
                # What was handled is recorded; the same batch comes again from `since`.
                failures += 1
                wait = backoff(failures, None)
                log.warning("matrix: handling a sync failed (%s); again in %.1f s", exc, wait)
                await asyncio.sleep(wait)
                continue
            failures = 0
            metrics.record_sync()
            since = resp.next_batch
            if news or first:  # a batch of koopbot's own echoes need not be kept
                await self.answers.db(partial(self.position.save, token=since))
            first = False
            self.ready.set()
            async with self._synced:
                self._synced.notify_all()

    async def _keys_housekeeping(self) -> None:
        client = self._client()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    async def _process(self, resp: SyncResponse, *, since: str | None, history: bool) -> bool:
        """Handle one sync; True if it held anything from others (invites, events)."""
        client = self._client()
        news = bool(resp.rooms.invite)
        self.rooms.on_account_data(resp.account_data_events)
        for room_id, invite in resp.rooms.invite.items():
            await self.rooms.on_invite(room_id, invite.invite_state, self._may_join)
        await self.inbox.after_sync()
        for room_id, info in resp.rooms.join.items():
            room = client.rooms.get(room_id)
            if room is None:
                continue
            await self.rooms.on_own_membership(room_id, [*info.state, *info.timeline.events])
            if history:
                continue  # before koopbot's first start: history is not answered
            events = await new_events(client, self.user_id, room_id, info, since)
            events = [e for e in events if getattr(e, "sender", self.user_id) != self.user_id]
            news = news or bool(events)
            if events:
                await self.inbox.on_events(room, events)
        return news

    async def _may_join(self, inviter: str, direct: bool) -> bool:
        registered = await asyncio.to_thread(self.bot.is_registered, Sender(TRANSPORT, inviter))
        return registered or (direct and self._may_register(inviter))

    def _may_register(self, user_id: str) -> bool:
        servers = self.config.registration_servers or [self.own_server]
        return user_id.partition(":")[2] in servers

    async def _notice_loop(self) -> None:
        """Every second or so: notices for messages that stayed unreadable past the wait."""
        tick = min(1.0, max(0.1, self.config.undecryptable_notice_seconds / 5))
        while True:
            await asyncio.sleep(tick)
            if not self.ready.is_set():
                continue
            try:
                await self.inbox.send_notices()
            except Exception:
                log.exception("matrix: sending notices failed")

    # -- sending (reminders) ----------------------------------------------------------------------

    async def direct_room(self, user_id: str) -> str:
        return await self.rooms.direct_room(user_id)

    async def send_reply(
        self,
        room_id: str,
        reply: Reply,
        *,
        tx_id: str,
        for_user: str,
        max_waits: int | None = None,
    ) -> str:
        """Send one Reply (no incoming event behind it); returns the event id.

        The deadlines it carries are remembered, so ✅ and 💤 on it act for `for_user`."""
        answer = Answer(
            room_id=room_id,
            tx_id=tx_id,
            content=render(reply, self.answers.command_names()),
            for_user=for_user,
            deadlines=list(deadline_ids(reply)),
            files=[Answer.file(a) for a in reply.attachments],
        )
        budget = self.config.max_rate_limit_waits if max_waits is None else max_waits
        event_id = await self.sender.deliver(answer, budget=budget)
        if answer.deadlines:
            sent = [SentDeadline(event_id, n, room_id, for_user, None) for n in answer.deadlines]
            await asyncio.to_thread(self._remember_sent, sent)
        return event_id

    def _remember_sent(self, sent: list[SentDeadline]) -> None:
        with self.bot.db.session() as session:
            matrix_events.record_sent_deadlines(session, sent, self.bot.clock.now())

    def _client(self) -> AsyncClient:
        if self.client is None:
            raise MatrixStartError("matrix: not logged in")
        return self.client

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


class MatrixMessenger:
    """`scheduler.ports.Messenger` for Matrix: a Reply into the person's encrypted direct chat."""

    transport = TRANSPORT
    max_chars = 30_000  # far below the 64 KiB event limit, also once encrypted

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
            for_user=recipient.external_id,
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


async def outgoing(app: App) -> MatrixMessenger:
    # The device of the `matrix` service (same crypto store, same transaction ids).
    return MatrixMessenger(shared_adapter(app))


MESSENGER = MessengerKind(run_matrix, outgoing)
