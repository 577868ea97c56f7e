"""The other side of the chat: a person with a real nio client (end-to-end encryption on),
and koopbot's Matrix adapter running as an asyncio task beside the test."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RoomCreateError,
    RoomKeyRequest,
    RoomMessageNotice,
    RoomMessageText,
    RoomPreset,
    RoomSendError,
    SyncResponse,
    ToDeviceError,
)
from nio.event_builders import EnableEncryptionBuilder
from synapse_server import Account

from bot.matrix import MatrixAdapter

WAIT = 30.0  # seconds; a reply takes well under one, key sharing and joins a few


@dataclass(frozen=True)
class Message:
    room_id: str
    sender: str
    body: str
    formatted_body: str | None
    event_id: str
    encrypted: bool
    content: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def notice(self) -> bool:
        return self.content.get("msgtype") == "m.notice"

    @property
    def reply_to(self) -> str | None:
        """The event this message answers (m.in_reply_to), if any."""
        rel = self.content.get("m.relates_to") or {}
        return (rel.get("m.in_reply_to") or {}).get("event_id")

    @property
    def thread_root(self) -> str | None:
        rel = self.content.get("m.relates_to") or {}
        return rel.get("event_id") if rel.get("rel_type") == "m.thread" else None


@dataclass(frozen=True)
class Reaction:
    room_id: str
    sender: str
    reacts_to: str
    key: str


class Person:
    """A caseworker (or a stranger) at an Element-like client."""

    def __init__(self, homeserver: str, account: Account, store_dir: Path) -> None:
        store_dir.mkdir(parents=True, exist_ok=True)
        self.account = account
        self.user_id = account.user_id
        self.client = AsyncClient(
            homeserver,
            account.user_id,
            device_id=account.device_id,
            store_path=str(store_dir),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        self.inbox: list[Message] = []
        self.reactions: list[Reaction] = []
        self.undecryptable: list[MegolmEvent] = []
        self.key_requests: list[RoomKeyRequest] = []  # addressed to this person's device
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.client.restore_login(self.user_id, self.account.device_id, self.account.access_token)
        self.client.add_event_callback(
            self._on_message,  # type: ignore[arg-type]
            (RoomMessageText, RoomMessageNotice, MegolmEvent),
        )
        self.client.add_event_callback(self._on_reaction, ReactionEvent)  # type: ignore[arg-type]
        self.client.add_response_callback(self._on_sync, SyncResponse)  # type: ignore[arg-type]
        await self.client.keys_upload()
        self._task = asyncio.create_task(self.client.sync_forever(timeout=30_000, full_state=True))
        await self.wait(lambda: self.client.next_batch is not None, "first sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()

    async def _on_sync(self, response: SyncResponse) -> None:
        # nio hands key requests to no callback; the sync response still lists them.
        self.key_requests += [e for e in response.to_device_events if isinstance(e, RoomKeyRequest)]
        self._changed.set()

    async def _on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        self.reactions.append(Reaction(room.room_id, event.sender, event.reacts_to, event.key))
        self._changed.set()

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText | MegolmEvent) -> None:
        if isinstance(event, MegolmEvent):
            self.undecryptable.append(event)
        else:
            content = event.source.get("content", {})
            self.inbox.append(
                Message(
                    room.room_id,
                    event.sender,
                    event.body,
                    content.get("formatted_body"),
                    event.event_id,
                    bool(event.decrypted),
                    content,
                )
            )
        self._changed.set()

    async def wait(self, condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.user_id}: timed out waiting for {what}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))

    # -- rooms -------------------------------------------------------------------------------

    async def create_room(
        self, *, invite: list[str], direct: bool, encrypted: bool = True, name: str | None = None
    ) -> str:
        resp = await self.client.room_create(
            name=name,
            is_direct=direct,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat,
            invite=invite,
            initial_state=[EnableEncryptionBuilder().as_dict()] if encrypted else [],
        )
        assert not isinstance(resp, RoomCreateError), resp
        room_id = str(resp.room_id)
        await self.wait(lambda: room_id in self.client.rooms, f"room {room_id}")
        return room_id

    def membership(self, room_id: str, user_id: str) -> str:
        room = self.client.rooms.get(room_id)
        if room is None or user_id not in room.users:
            return "none"
        return "invite" if room.users[user_id].invited else "join"

    async def wait_joined(self, room_id: str, user_id: str) -> None:
        await self.wait(lambda: self.membership(room_id, user_id) == "join", f"{user_id} to join")

    async def accept_invite(self, timeout: float = WAIT) -> str:
        """Join the next room this person is invited to; returns its id."""
        await self.wait(lambda: bool(self.client.invited_rooms), "an invite", timeout)
        room_id = next(iter(self.client.invited_rooms))
        await self.client.join(room_id)
        await self.wait(lambda: room_id in self.client.rooms, f"joined {room_id}")
        return room_id

    # -- messages ----------------------------------------------------------------------------

    async def say(self, room_id: str, text: str, **extra: Any) -> str:
        """Send a text message (with extra content such as `m.relates_to`); its event id."""
        return await self.send(room_id, {"msgtype": "m.text", "body": text, **extra})

    async def send(
        self, room_id: str, content: dict[str, Any], kind: str = "m.room.message"
    ) -> str:
        if self.client.should_query_keys:
            await self.client.keys_query()  # devices that appeared since the last sync
        resp = await self.client.room_send(room_id, kind, content, ignore_unverified_devices=True)
        assert not isinstance(resp, RoomSendError), resp
        return str(resp.event_id)

    async def edit(self, room_id: str, event_id: str, text: str) -> str:
        """Edit a message as Element does: `* text` plus `m.new_content`."""
        return await self.say(
            room_id,
            f"* {text}",
            **{
                "m.new_content": {"msgtype": "m.text", "body": text},
                "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
            },
        )

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return await self.send(room_id, content, "m.reaction")

    async def forward_session(
        self, room_id: str, session_id: str, to_user: str, to_device: str
    ) -> None:
        """Share a room session with one device as matrix-rust-sdk answers a key request
        from another user's device: an `m.forwarded_room_key` over Olm."""
        olm = self.client.olm
        assert olm is not None
        session = olm.inbound_group_store.get(
            room_id, olm.account.identity_keys["curve25519"], session_id
        )
        assert session is not None, "no such session of ours"
        device = olm.device_store[to_user][to_device]
        channel = olm.session_store.get(device.curve25519)
        assert channel is not None, f"no Olm session with {to_device}"
        message = olm._encrypt_forwarding_key(room_id, session, channel, device)
        resp = await self.client.to_device(message)
        assert not isinstance(resp, ToDeviceError), resp

    def answers_to(self, room_id: str, sender: str, event_id: str) -> list[Message]:
        """`sender`'s messages in the room that reply to `event_id`."""
        return [m for m in self.received(room_id, sender) if m.reply_to == event_id]

    def received(self, room_id: str, sender: str) -> list[Message]:
        return [m for m in self.inbox if m.room_id == room_id and m.sender == sender]

    async def ask(self, room_id: str, text: str, bot: str, timeout: float = WAIT) -> Message:
        """Send one line and return the bot's next message in that room."""
        before = len(self.received(room_id, bot))
        await self.say(room_id, text)
        await self.wait(
            lambda: len(self.received(room_id, bot)) > before, f"answer to {text!r}", timeout
        )
        return self.received(room_id, bot)[before]


class RunningBot:
    """koopbot's Matrix adapter as a task; `stop()` is a clean shutdown, as on SIGTERM."""

    def __init__(self, adapter: MatrixAdapter) -> None:
        self.adapter = adapter
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.adapter.run())
        ready = asyncio.create_task(self.adapter.ready.wait())
        done, _ = await asyncio.wait(
            {self.task, ready}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED
        )
        if self.task in done:
            ready.cancel()
            self.task.result()  # raises the start-up error
        if ready not in done:
            ready.cancel()
            raise AssertionError("koopbot's first sync did not finish")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        await self.adapter.close()
