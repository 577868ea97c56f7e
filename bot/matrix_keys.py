"""Undecryptable messages: ask for the room key, tell the person after a short wait, answer
when the key arrives.

Key requests (`m.room_key_request`) go to koopbot's own devices, as matrix-nio does, and to
the sending device, which the spec allows to answer: matrix-rust-sdk (Element) re-shares a
session with a device it was shared with before, as an `m.forwarded_room_key`. nio accepts a
forwarded key only from its own verified devices; `KoopbotClient` also accepts one from the
device that created the session, which is as trustworthy as that device's `m.room_key`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nio import AsyncClient, Event, LocalProtocolError, MegolmEvent
from nio.crypto import Olm
from nio.event_builders import ToDeviceMessage

from bot.matrix_send import MatrixStats

log = logging.getLogger(__name__)

_PENDING_LIMIT = 1000  # undecryptable events kept in memory (all are in the database)


class _OwnerForwardsOlm(Olm):  # type: ignore[misc]
    """nio's Olm machine that also accepts a forwarded key from the session's creator."""

    def _should_accept_forward(self, sender: str, sender_key: str, event: Any) -> bool:
        if event.algorithm != Olm._megolm_algorithm:
            return False
        request = self.outgoing_key_requests.get(event.session_id)
        if request is None or (request.room_id, request.algorithm) != (
            event.room_id,
            event.algorithm,
        ):
            return False  # only keys koopbot asked for
        device = self.device_store.device_from_sender_key(event.sender, sender_key)
        if device is None:
            return False
        if device.user_id == self.user_id and device.verified:
            return True  # nio's own rule
        content = event.source.get("content", {})
        return bool(
            content.get("sender_key") == sender_key
            and not content.get("forwarding_curve25519_key_chain")
            and content.get("sender_claimed_ed25519_key") == device.ed25519
        )


class KoopbotClient(AsyncClient):  # type: ignore[misc]
    """matrix-nio's client with `_OwnerForwardsOlm` as its Olm machine."""

    def load_store(self) -> None:
        super().load_store()
        if self.olm is not None and type(self.olm) is Olm:
            # The same object and state, one more accepted case: no second store load.
            self.olm.__class__ = _OwnerForwardsOlm


@dataclass
class Pending:
    room_id: str
    event: MegolmEvent
    seen: float  # time.monotonic() when this process first saw it
    notice_sent: bool


class KeyRecovery:
    """The undecryptable events of this process and the key requests for them."""

    def __init__(self, client: Callable[[], AsyncClient], stats: MatrixStats, wait: float) -> None:
        self._client = client
        self.stats = stats
        self.wait = wait
        self.pending: dict[str, Pending] = {}
        self._asked: set[str] = set()  # session ids requested from their sender in this run

    def add(self, room_id: str, event: MegolmEvent, *, notice_sent: bool) -> bool:
        """Keep an event until its key arrives; False if the memory bound is reached."""
        if event.event_id in self.pending:
            return True
        if len(self.pending) >= _PENDING_LIMIT:
            return False
        event.room_id = room_id
        self.pending[event.event_id] = Pending(room_id, event, time.monotonic(), notice_sent)
        return True

    @staticmethod
    def parse(room_id: str, source: dict[str, Any]) -> MegolmEvent | None:
        """An encrypted event as stored, back as nio's MegolmEvent."""
        event = Event.parse_encrypted_event(source)
        if not isinstance(event, MegolmEvent):
            return None
        event.room_id = room_id
        return event

    async def request(self, event: MegolmEvent) -> None:
        """Ask koopbot's other devices and the sender's device for the session's key."""
        client = self._client()
        try:
            await client.request_room_key(event)  # own devices; nio remembers the request
            self.stats.key_requests += 1
        except LocalProtocolError:
            pass  # already requested (nio also asks the sender after mending an Olm session)
        if event.session_id in self._asked or client.device_id is None:
            return
        self._asked.add(event.session_id)
        message = event.as_key_request(
            event.sender, client.device_id, event.session_id, event.device_id or None
        )
        resp = await client.to_device(message)
        if isinstance(resp, Exception) or getattr(resp, "status_code", None):
            log.warning("matrix: key request to the sender failed: %s", resp)
            return
        self.stats.key_requests += 1

    def decryptable(self) -> list[tuple[str, Event]]:
        """Pending events whose key has arrived, decrypted, oldest first; no longer pending."""
        client = self._client()
        olm = client.olm
        if olm is None:
            return []
        found: list[tuple[str, Event]] = []
        for event_id, item in list(self.pending.items()):
            event = item.event
            # Looking first keeps nio from logging a warning for every event still waiting.
            if not olm.inbound_group_store.get(item.room_id, event.sender_key, event.session_id):
                continue
            try:
                decrypted = client.decrypt_event(event)
            except Exception as exc:  # a broken event: nio's own errors, logged once here
                log.warning("matrix: event in %s stays unreadable: %s", item.room_id, exc)
                continue
            del self.pending[event_id]
            found.append((item.room_id, decrypted))
            self._cancel_sender_request(event)
        return found

    def due(self) -> list[list[Pending]]:
        """Events waited for too long and not yet noticed, one group per room and sender."""
        now = time.monotonic()
        groups: dict[tuple[str, str], list[Pending]] = {}
        for item in self.pending.values():
            if not item.notice_sent and now - item.seen >= self.wait:
                groups.setdefault((item.room_id, item.event.sender), []).append(item)
        return list(groups.values())

    def forget(self, event_id: str) -> None:
        self.pending.pop(event_id, None)

    def _cancel_sender_request(self, event: MegolmEvent) -> None:
        client = self._client()
        if event.session_id not in self._asked or client.olm is None:
            return
        self._asked.discard(event.session_id)
        client.olm.outgoing_to_device_messages.append(
            ToDeviceMessage(
                "m.room_key_request",
                event.sender,
                event.device_id or "*",
                {
                    "action": "request_cancellation",
                    "request_id": event.session_id,
                    "requesting_device_id": client.device_id,
                },
            )
        )
