"""`koopbot matrix status`: the bot's identity as the homeserver and the store see it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.matrix_cross_signing import public_key_of, verify_signature
from bot.matrix_identity import default_key
from bot.matrix_identity_store import IdentityStore
from bot.matrix_keys_api import KeysApi
from bot.matrix_ssss import key_matches


@dataclass
class IdentityStatus:
    """What `koopbot matrix status` prints."""

    device_id: str
    cross_signing_on_server: bool
    master_key: str | None
    store_has_keys: bool  # the store's private keys are the published ones
    device_signed: bool
    secret_storage: bool
    recovery_key: str  # "matches", "does not match" or "not configured"


async def identity_status(
    api: KeysApi, store: IdentityStore, device_id: str, recovery_key: bytes | None
) -> IdentityStatus:
    """The identity as the homeserver and the store see it."""
    server = await api.own_keys()
    stored = store.load()
    master_public = public_key_of(server.master)
    ssk_public = public_key_of(server.self_signing)
    device_keys = server.devices.get(device_id, {})
    signed = bool(
        ssk_public
        and verify_signature(device_keys, api.user_id, f"ed25519:{ssk_public}", ssk_public)
        and server.self_signing
        and master_public
        and verify_signature(
            server.self_signing, api.user_id, f"ed25519:{master_public}", master_public
        )
    )
    key_id, description = await default_key(api)
    if recovery_key is None:
        match = "not configured"
    else:
        match = "matches" if key_matches(recovery_key, description) else "does not match"
    return IdentityStatus(
        device_id,
        server.master is not None and server.self_signing is not None,
        master_public,
        stored.keys is not None and stored.keys.matches(server.master, server.self_signing),
        signed,
        key_id is not None and description is not None,
        match,
    )
