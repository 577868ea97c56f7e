"""Element-grade people in a MatrixWorld, and koopbot's CLI as the operator runs it."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from conftest import MatrixWorld
from element_client import ElementClient, Received
from synapse_server import Account

_names = itertools.count(1)
KOOPBOT = Path(sys.executable).with_name("koopbot")


@asynccontextmanager
async def element_people(
    world: MatrixWorld,
) -> AsyncIterator[Callable[..., Coroutine[Any, Any, tuple[ElementClient, Account]]]]:
    """A factory of logged-in Element-grade clients, all stopped at the end."""
    clients: list[ElementClient] = []

    async def make(name: str, **login: Any) -> tuple[ElementClient, Account]:
        account = world.synapse.register(f"{name}{next(_names)}e")
        world.synapse.exempt_from_rate_limit(account.user_id)
        client = ElementClient(world.tmp / f"element-{account.user_id}.log")
        clients.append(client)
        await client.start()
        await client.login(world.synapse.url, account.user_id, account.password, **login)
        return client, account

    try:
        yield make
    finally:
        for client in clients:
            await client.stop()


async def register_in_dm(world: MatrixWorld, client: ElementClient, handle: str) -> str:
    """Open an encrypted direct chat with koopbot and register with the demo code."""
    if not world.codes:
        world.load_demo()
    room = await client.create_dm(world.bot_id)
    welcome = await client.ask(room, f"/start {world.codes[handle]}", world.bot_id)
    assert_trusted(welcome, "/start")
    assert welcome.body is not None and "Willkommen" in welcome.body, welcome
    return room


def assert_trusted(message: Received, what: str) -> None:
    """Decrypted, never undecryptable, no shield: what an Element user reads without warning."""
    assert message.encrypted, f"{what}: answered unencrypted"
    assert not message.ever_failed, f"{what}: decryption failed ({message.failure_reasons})"
    assert message.decrypted, f"{what}: not decrypted ({message.failure_reason})"
    assert message.shield_reason is None, f"{what}: shield reason {message.shield_reason}"
    assert message.shield_colour == "NONE", f"{what}: shield {message.shield_colour}"


def koopbot_cli(
    world: MatrixWorld, store_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`koopbot matrix ...` as the operator runs it: settings from the environment."""
    assert world.bot_account is not None
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "KOOPBOT_DATA_DIR": str(world.tmp / "cli-data"),
        "KOOPBOT_SERVICES": "[]",
        "KOOPBOT_MATRIX__HOMESERVER": world.synapse.url,
        "KOOPBOT_MATRIX__USER_ID": world.bot_account.user_id,
        "KOOPBOT_MATRIX__STORE_DIR": str(store_dir),
        **(env or {}),
    }
    return subprocess.run(
        [str(KOOPBOT), "matrix", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
