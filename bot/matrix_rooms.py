"""Rooms: which invites koopbot accepts, which rooms are direct chats, and the direct chat a
reminder goes to.

Private means a direct chat: a room marked direct (koopbot's `m.direct` account data, or the
`is_direct` flag of the invite that brought koopbot in) with exactly two members, the person
and koopbot. Every other room is a group, whatever its size, so case data never lands in a
two-person team room.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import ClientError
from nio import (
    AsyncClient,
    ErrorResponse,
    InviteMemberEvent,
    MatrixRoom,
    ProfileGetError,
    RoomCreateError,
    RoomMemberEvent,
    RoomPreset,
    UnknownAccountDataEvent,
)
from nio.event_builders import EnableEncryptionBuilder

from bot.matrix_send import MatrixStats, is_rate_limited
from scheduler.ports import DeliveryError, FailureKind

log = logging.getLogger(__name__)

MayJoin = Callable[[str, bool], Awaitable[bool]]  # (inviter, is_direct) -> join?


class RoomDirectory:
    """koopbot's rooms as the adapter needs them; `m.direct` is kept on the server."""

    def __init__(
        self,
        client: Callable[[], AsyncClient],
        user_id: str,
        store_dir: Path,
        stats: MatrixStats,
        synced: asyncio.Condition,
    ) -> None:
        self._client = client
        self.user_id = user_id
        self.stats = stats
        self._synced = synced
        self._legacy_path = store_dir / "direct_rooms.json"
        self._direct: dict[str, list[str]] = {}  # m.direct: person -> rooms, newest last
        self._direct_ids: set[str] = set()
        self._dm_lock = asyncio.Lock()

    # -- which rooms are direct ---------------------------------------------------------------

    async def load(self) -> bool:
        """Read koopbot's `m.direct`; adopt the direct chats an older version kept locally.

        False if the server could not be asked (then nothing counts as direct yet)."""
        client = self._client()
        try:
            resp = await client.send(
                "GET",
                self._direct_path(),
                headers={"Authorization": f"Bearer {client.access_token}"},
            )
            status = resp.status
            if status == 200:
                self._set_direct(await resp.json())
            resp.release()
        except (ClientError, TimeoutError, ValueError) as exc:
            log.warning("matrix: could not read m.direct (%s)", type(exc).__name__)
            return False
        if status not in (200, 404):  # 404: koopbot has no direct chats yet
            log.warning("matrix: could not read m.direct (HTTP %s)", status)
            return False
        legacy = self._load_legacy()
        missing = [(u, r) for u, r in legacy.items() if r not in self._direct_ids]
        for user, room_id in missing:
            await self.mark_direct(room_id, user)
        return True

    def on_account_data(self, events: Iterable[Any]) -> None:
        for event in events:
            if isinstance(event, UnknownAccountDataEvent) and event.type == "m.direct":
                self._set_direct(event.content)

    async def on_own_membership(self, room_id: str, events: Iterable[Any]) -> None:
        """A join whose invite said `is_direct` (state of a full sync) marks a direct chat."""
        for event in events:
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.user_id
                and room_id not in self._direct_ids
                and (
                    event.content.get("is_direct") is True
                    or (event.prev_content or {}).get("is_direct") is True
                )
            ):
                inviter = event.sender if event.sender != self.user_id else None
                room = self._client().rooms.get(room_id)
                others = [u for u in (room.users if room else {}) if u != self.user_id]
                person = inviter or (others[0] if len(others) == 1 else None)
                if person is not None:
                    await self.mark_direct(room_id, person)

    async def mark_direct(self, room_id: str, person: str) -> None:
        """Record a direct chat with `person` in koopbot's `m.direct` (once)."""
        rooms = self._direct.setdefault(person, [])
        if room_id in rooms:
            return
        rooms.append(room_id)
        self._direct_ids.add(room_id)
        client = self._client()
        try:
            resp = await client.send(
                "PUT",
                self._direct_path(),
                json.dumps(self._direct),
                headers={
                    "Authorization": f"Bearer {client.access_token}",
                    "Content-Type": "application/json",
                },
            )
        except (ClientError, TimeoutError) as exc:
            log.warning("matrix: m.direct not saved (%s); kept for this run", type(exc).__name__)
            return
        if resp.status != 200:
            log.warning("matrix: m.direct not saved (HTTP %s); kept for this run", resp.status)
        resp.release()

    def is_private(self, room: MatrixRoom, sender: str) -> bool:
        """A direct chat of exactly this person and koopbot."""
        return room.room_id in self._direct_ids and set(room.users) == {self.user_id, sender}

    def _set_direct(self, content: Any) -> None:
        if not isinstance(content, dict):
            return
        self._direct = {
            str(user): [str(r) for r in rooms]
            for user, rooms in content.items()
            if isinstance(rooms, list)
        }
        self._direct_ids = {r for rooms in self._direct.values() for r in rooms}

    def _direct_path(self) -> str:
        return f"/_matrix/client/v3/user/{quote(self.user_id, safe='')}/account_data/m.direct"

    def _load_legacy(self) -> dict[str, str]:
        try:
            data = json.loads(self._legacy_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    # -- invites -------------------------------------------------------------------------------

    async def on_invite(self, room_id: str, invite_state: list[Any], may_join: MayJoin) -> None:
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
        direct = own.content.get("is_direct") is True
        if await may_join(inviter, direct):
            resp = await client.join(room_id)
            if isinstance(resp, ErrorResponse):
                log.warning("matrix: could not join %s: %s", room_id, resp)
            elif direct:
                await self.mark_direct(room_id, inviter)
            return
        self.stats.ignored_invites += 1
        log.info("matrix: declined an invite to %s by an unregistered account", room_id)
        await client.room_leave(room_id)

    # -- the direct chat of a reminder ------------------------------------------------------------

    async def direct_room(self, user_id: str) -> str:
        """The encrypted direct chat with this person, created (and invited) when missing."""
        async with self._dm_lock:
            client = self._client()
            for room_id in reversed(self._direct.get(user_id, [])):
                room = client.rooms.get(room_id)
                if room is None:
                    continue
                if user_id not in room.users:
                    raise DeliveryError(FailureKind.blocked, "left the direct chat")
                return room_id
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
                if is_rate_limited(created):
                    raise DeliveryError(
                        FailureKind.rate_limited,
                        str(created),
                        retry_after=(created.retry_after_ms or 1000) / 1000,
                    )
                raise DeliveryError(FailureKind.network, str(created))
            room_id = str(created.room_id)
            await self.mark_direct(room_id, user_id)
            await self._wait_for_room(room_id, user_id)
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
