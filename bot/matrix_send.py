"""Sending on Matrix: an answer (text, files, reactions) under stable transaction ids, with
`M_LIMIT_EXCEEDED` waited out."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    ErrorResponse,
    LocalProtocolError,
    RoomSendError,
    SendRetryError,
    UploadResponse,
)

from bot.matrix_render import DONE, SNOOZE
from bot.messages import Attachment
from scheduler.ports import DeliveryError, FailureKind

log = logging.getLogger(__name__)

_MAX_BACKOFF = 60.0


@dataclass
class MatrixStats:
    """Counters for tests and the benchmark."""

    answered: int = 0
    rate_limit_waits: int = 0
    key_requests: int = 0
    notices: int = 0
    ignored_invites: int = 0
    handle_seconds: list[float] = field(default_factory=list)  # inside Bot.handle
    store_seconds: list[float] = field(default_factory=list)  # the adapter's own bookkeeping


def is_rate_limited(resp: Any) -> bool:
    return isinstance(resp, ErrorResponse) and resp.status_code == "M_LIMIT_EXCEEDED"


def backoff(attempt: int, retry_after_ms: int | None) -> float:
    if retry_after_ms:
        return min(_MAX_BACKOFF, max(float(retry_after_ms) / 1000, 0.05))
    return float(min(_MAX_BACKOFF, 0.5 * 2.0 ** min(attempt - 1, 10)))


@dataclass
class Answer:
    """One message koopbot is to send, complete enough to be stored and sent again as it is."""

    room_id: str
    tx_id: str
    content: dict[str, Any]  # the m.room.message content of the text
    for_user: str  # whom it answers or reminds: the only one whose reactions count
    thread_root: str | None = None
    deadlines: list[int] = field(default_factory=list)
    files: list[dict[str, str]] = field(default_factory=list)  # name, type, caption, base64 data

    @staticmethod
    def file(attachment: Attachment) -> dict[str, str]:
        return {
            "filename": attachment.filename,
            "mime_type": attachment.mime_type,
            "caption": attachment.caption,
            "data": base64.b64encode(attachment.data).decode("ascii"),
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        return cls(**data)


class MatrixSender:
    """Sends through one logged-in client; every send has a transaction id of its own."""

    def __init__(self, client: Callable[[], AsyncClient], stats: MatrixStats) -> None:
        self._client = client
        self.stats = stats

    async def deliver(self, answer: Answer, *, budget: int) -> str:
        """Send the text, then its files; pre-seed ✅ and 💤 on a single-deadline message.

        Returns the text's event id. Sending again with the same Answer posts nothing new."""
        event_id = await self.send_content(
            answer.room_id, answer.content, tx_id=answer.tx_id, budget=budget
        )
        for index, spec in enumerate(answer.files):
            attachment = Attachment(
                spec["filename"], spec["mime_type"], base64.b64decode(spec["data"]), spec["caption"]
            )
            file_content = await self.upload(answer.room_id, attachment)
            if answer.thread_root is not None:
                file_content["m.relates_to"] = {
                    "rel_type": "m.thread",
                    "event_id": answer.thread_root,
                    "is_falling_back": True,
                    "m.in_reply_to": {"event_id": event_id},
                }
            await self.send_content(
                answer.room_id, file_content, tx_id=f"{answer.tx_id}-a{index}", budget=budget
            )
        if len(answer.deadlines) == 1:
            for index, key in enumerate((DONE, SNOOZE)):
                await self.react(
                    answer.room_id, event_id, key, tx_id=f"{answer.tx_id}-r{index}", budget=budget
                )
        return event_id

    async def react(
        self, room_id: str, event_id: str, key: str, *, tx_id: str, budget: int
    ) -> None:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        await self.send_content(room_id, content, tx_id=tx_id, budget=budget, kind="m.reaction")

    async def upload(self, room_id: str, attachment: Attachment) -> dict[str, Any]:
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
        content: dict[str, Any] = {
            "msgtype": "m.image" if attachment.is_image else "m.file",
            "body": attachment.caption or attachment.filename,
            "filename": attachment.filename,
            "info": {"mimetype": attachment.mime_type, "size": len(attachment.data)},
        }
        if keys is not None:
            content["file"] = {**keys, "url": resp.content_uri}
        else:
            content["url"] = resp.content_uri
        return content

    async def send_content(
        self,
        room_id: str,
        content: dict[str, Any],
        *,
        tx_id: str,
        budget: int,
        kind: str = "m.room.message",
    ) -> str:
        """One event; M_LIMIT_EXCEEDED is waited out up to `budget` times."""
        client = self._client()
        attempt = 0
        while True:
            try:
                resp = await client.room_send(
                    room_id, kind, content, tx_id=tx_id, ignore_unverified_devices=True
                )
            except (ClientError, TimeoutError, SendRetryError) as exc:
                raise DeliveryError(FailureKind.network, exc.__class__.__name__) from exc
            except LocalProtocolError as exc:
                raise DeliveryError(FailureKind.network, str(exc)) from exc
            if not isinstance(resp, RoomSendError):
                return str(resp.event_id)
            if is_rate_limited(resp):
                attempt += 1
                wait = backoff(attempt, resp.retry_after_ms)
                if attempt > budget:
                    raise DeliveryError(FailureKind.rate_limited, str(resp), retry_after=wait)
                self.stats.rate_limit_waits += 1
                log.info("matrix: rate limited, waiting %.1f s (attempt %d)", wait, attempt)
                await asyncio.sleep(wait)
                continue
            if resp.status_code == "M_FORBIDDEN":
                raise DeliveryError(FailureKind.blocked, str(resp))
            raise DeliveryError(FailureKind.network, str(resp))
