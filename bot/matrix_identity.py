"""koopbot's cross-signed Matrix identity: created on the first start, kept in the store,
backed up in secret storage, restored from the recovery key after a lost store.

Since MSC4153 Element shares no room keys with a device its owner has not cross-signed and
hides what such a device sends. So the bot publishes master, self-signing and user-signing
keys, signs its own device with the self-signing key, and keeps the private keys in
`<store>/cross_signing.json` (mode 0600) and, encrypted, in secret storage (SSSS). A lost store
plus the recovery key gives the same identity back: a new device signed by it, no "identity
reset" for the people who talk to the bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from nio import AsyncClient, KeysUploadError

from bot.matrix_cross_signing import (
    SECRET_NAMES,
    CrossSigningError,
    CrossSigningKeys,
    signable,
    verify_signature,
    with_signature,
)
from bot.matrix_identity_store import IdentityError, IdentityStore, StoredIdentity
from bot.matrix_keys_api import AuthRequired, KeysApi, KeysApiError, OwnKeys
from bot.matrix_ssss import (
    DEFAULT_KEY_TYPE,
    SecretStorageError,
    decode_recovery_key,
    key_description,
    key_matches,
    key_type,
    new_key,
    new_key_id,
    read_secret,
    secret_content,
)
from config.messengers import MatrixSettings

log = logging.getLogger(__name__)

RESTORE_HINT = "KOOPBOT_MATRIX__RECOVERY_KEY or matrix.recovery_key_file"


class DeviceSigner(Protocol):
    """The bot device's own Ed25519 key (in nio's Olm account)."""

    @property
    def ed25519(self) -> str: ...

    def sign(self, message: bytes) -> str: ...


@dataclass
class IdentityOutcome:
    """What `ensure_identity` did, for the log line and the tests."""

    identity: str  # "created", "restored" or "kept"
    device_signed_now: bool
    secret_storage: str  # "created", "updated" or "kept", or "unchecked" (no key at hand)
    master_key: str


async def ensure_identity(
    api: KeysApi,
    store: IdentityStore,
    *,
    device_id: str,
    device: DeviceSigner,
    password: str | None,
    recovery_key: bytes | None,
) -> IdentityOutcome:
    """Create, keep or restore the identity; then make sure this device is signed by it."""
    server = await api.own_keys()
    stored = store.load()
    if stored.keys is not None and stored.keys.matches(server.master, server.self_signing):
        keys, how = stored.keys, "kept"
    elif server.master is not None:
        # Published keys the store does not hold: the store was lost (or replaced).
        keys, key_id, key = await _restore(api, server, recovery_key or stored.ssss_key)
        stored = StoredIdentity(keys, key_id, key, recovery_key_shown=True)
        store.save(stored)
        how = "restored"
    else:
        if stored.keys is None:
            stored.keys = CrossSigningKeys.generate()
            store.save(stored)  # before the upload: a crash in between re-uploads the same keys
        keys = stored.keys
        await _upload_keys(api, keys, password)
        how = "created"
    ssss = await _ensure_secret_storage(api, store, stored, keys, recovery_key)
    signed_now = await _sign_device(api, server, keys, device_id, device)
    return IdentityOutcome(how, signed_now, ssss, keys.master.public)


async def _upload_keys(api: KeysApi, keys: CrossSigningKeys, password: str | None) -> None:
    body = keys.upload_body(api.user_id)
    try:
        await api.upload_cross_signing(body)
        return
    except AuthRequired as uia:
        challenge = uia
    if password is None:
        raise IdentityError(
            "matrix: uploading the bot's cross-signing keys needs its password for "
            "user-interactive auth: set KOOPBOT_MATRIX__PASSWORD"
        )
    if not challenge.offers("m.login.password"):
        raise IdentityError(
            f"matrix: the homeserver offers no password auth for the cross-signing upload "
            f"(flows: {challenge.flows})"
        )
    auth = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": api.user_id},
        "password": password,
        "session": challenge.session,
    }
    try:
        await api.upload_cross_signing(body, auth)
    except AuthRequired:
        raise IdentityError(
            "matrix: the homeserver refused the bot's password for the cross-signing upload"
        ) from None


async def _restore(
    api: KeysApi, server: OwnKeys, key: bytes | None
) -> tuple[CrossSigningKeys, str, bytes]:
    if key is None:
        raise IdentityError(
            f"matrix: the bot's cross-signing identity exists on the server but not in the "
            f"store; set the recovery key ({RESTORE_HINT}) to restore it, or run "
            f"`koopbot matrix reset-identity` for a new one"
        )
    key_id, description = await default_key(api)
    if key_id is None:
        raise IdentityError(
            "matrix: the account has no secret storage to restore the identity from"
        )
    if not key_matches(key, description):
        raise IdentityError(
            f"matrix: the recovery key does not match the account's secret storage ({RESTORE_HINT})"
        )
    try:
        secrets = {
            name: read_secret(await api.account_data(name), key_id, key, name)
            for name in SECRET_NAMES.values()
        }
        keys = CrossSigningKeys.from_secrets(secrets)
    except (SecretStorageError, CrossSigningError) as exc:
        raise IdentityError(f"matrix: restoring the identity failed: {exc}") from None
    if not keys.matches(server.master, server.self_signing):
        raise IdentityError(
            "matrix: the keys in secret storage are not the bot's published cross-signing keys"
        )
    log.info("matrix: cross-signing identity restored from secret storage")
    return keys, key_id, key


async def default_key(api: KeysApi) -> tuple[str | None, dict[str, Any] | None]:
    """The id and description of the default secret storage key, (None, None) if unset."""
    default = await api.account_data(DEFAULT_KEY_TYPE)
    key_id = default.get("key") if default else None
    if not isinstance(key_id, str):
        return None, None
    return key_id, await api.account_data(key_type(key_id))


async def _ensure_secret_storage(
    api: KeysApi,
    store: IdentityStore,
    stored: StoredIdentity,
    keys: CrossSigningKeys,
    configured: bytes | None,
) -> str:
    key_id, description = await default_key(api)
    if key_id is not None and description is not None:
        if configured is not None and not key_matches(configured, description):
            log.warning(
                "matrix: the configured recovery key does not match the account's secret "
                "storage key (replaced by `koopbot matrix recovery-key --new`?)"
            )
        candidates = (configured, stored.ssss_key)
        key = next((k for k in candidates if k and key_matches(k, description)), None)
        if key is None:
            return "unchecked"
        changed = await _write_missing_secrets(api, key_id, key, keys)
        if stored.ssss_key != key or stored.ssss_key_id != key_id:
            stored.ssss_key_id, stored.ssss_key = key_id, key
            stored.recovery_key_shown = stored.recovery_key_shown or key == configured
            store.save(stored)
        return "updated" if changed else "kept"
    # No secret storage yet: the configured key, one `koopbot matrix recovery-key` made, or new.
    key = configured or stored.ssss_key or new_key()
    key_id = await _new_secret_storage(api, keys, key)
    shown = stored.recovery_key_shown or key == configured
    stored.ssss_key_id, stored.ssss_key, stored.recovery_key_shown = key_id, key, shown
    store.save(stored)
    if not shown:
        log.warning(
            "matrix: secret storage created; run `koopbot matrix recovery-key` once and keep "
            "the recovery key as a secret (it restores the bot's identity)"
        )
    return "created"


async def _new_secret_storage(api: KeysApi, keys: CrossSigningKeys, key: bytes) -> str:
    key_id = new_key_id()
    await api.put_account_data(key_type(key_id), key_description(key))
    for name, secret in keys.secrets().items():
        await api.put_account_data(name, secret_content(key_id, key, name, secret))
    await api.put_account_data(DEFAULT_KEY_TYPE, {"key": key_id})  # last: only when complete
    return key_id


async def rotate_secret_storage(api: KeysApi, store: IdentityStore) -> bytes:
    """A new secret storage key holding the stored identity; the old recovery key stops working."""
    stored = store.load()
    if stored.keys is None:
        raise IdentityError("matrix: the store holds no cross-signing keys; start koopbot first")
    server = await api.own_keys()
    if not stored.keys.matches(server.master, server.self_signing):
        raise IdentityError("matrix: the store's cross-signing keys are not the published ones")
    key = new_key()
    stored.ssss_key_id = await _new_secret_storage(api, stored.keys, key)
    stored.ssss_key, stored.recovery_key_shown = key, True
    store.save(stored)
    return key


async def reset_identity(
    api: KeysApi, store: IdentityStore, device_id: str, password: str | None
) -> bytes:
    """New cross-signing keys and secret storage in place of the published ones (people see
    an identity change); for a lost store without its recovery key. Returns the new key."""
    keys = CrossSigningKeys.generate()
    await _upload_keys(api, keys, password)
    # Saved only once published: a refused password must not cost the keys the store holds.
    store.save(StoredIdentity(keys, recovery_key_shown=True))
    key = new_key()
    key_id = await _new_secret_storage(api, keys, key)
    store.save(StoredIdentity(keys, key_id, key, recovery_key_shown=True))
    await _sign_device(api, None, keys, device_id, None)
    log.warning("matrix: cross-signing identity replaced (master key %s)", keys.master.public)
    return key


async def _write_missing_secrets(
    api: KeysApi, key_id: str, key: bytes, keys: CrossSigningKeys
) -> bool:
    changed = False
    for name, secret in keys.secrets().items():
        content = await api.account_data(name)
        try:
            if read_secret(content, key_id, key, name) == secret:
                continue
        except SecretStorageError:
            pass
        await api.put_account_data(name, secret_content(key_id, key, name, secret))
        changed = True
    return changed


async def _sign_device(
    api: KeysApi,
    server: OwnKeys | None,
    keys: CrossSigningKeys,
    device_id: str,
    device: DeviceSigner | None,
) -> bool:
    user_id = api.user_id
    own = server if server is not None and server.master is not None else await api.own_keys()
    device_keys = own.devices.get(device_id)
    if device_keys is None:
        raise IdentityError(f"matrix: the keys of device {device_id} are not on the homeserver")
    ed25519 = device_keys.get("keys", {}).get(f"ed25519:{device_id}")
    if device is not None and ed25519 != device.ed25519:
        raise IdentityError(f"matrix: the homeserver holds other keys for device {device_id}")
    ssk = keys.self_signing
    if verify_signature(device_keys, user_id, ssk.key_id, ssk.public):
        return False
    body: dict[str, dict[str, Any]] = {device_id: keys.sign_device(device_keys, user_id)}
    master = own.master or keys.key_object("master", user_id)
    device_key_id = f"ed25519:{device_id}"
    if device is not None and not verify_signature(master, user_id, device_key_id, device.ed25519):
        # The device vouches for the master key too, as Element's devices do.
        body[keys.master.public] = with_signature(
            master, user_id, device_key_id, device.sign(signable(master))
        )
    try:
        await api.upload_signatures(body)
    except KeysApiError as exc:
        raise IdentityError(f"matrix: signing device {device_id} failed: {exc}") from None
    log.info("matrix: device %s signed by the bot's self-signing key", device_id)
    return True


class _OlmDevice:
    """nio's Olm account as a DeviceSigner."""

    def __init__(self, account: Any) -> None:
        self._account = account

    @property
    def ed25519(self) -> str:
        return str(self._account.identity_keys["ed25519"])

    def sign(self, message: bytes) -> str:
        return str(self._account.sign(message.decode()))


def configured_recovery_key(config: MatrixSettings) -> bytes | None:
    """The recovery key from the settings, decoded; IdentityError (not echoing it) if bad."""
    text = config.read_recovery_key()
    if text is None:
        return None
    try:
        return decode_recovery_key(text)
    except SecretStorageError as exc:
        raise IdentityError(f"matrix: {exc} ({RESTORE_HINT})") from None


async def establish_identity(
    client: AsyncClient, config: MatrixSettings, store_dir: Path
) -> IdentityOutcome:
    """The start-up step after login: a cross-signed device, or IdentityError saying why not."""
    if client.olm is None:
        raise IdentityError("matrix: the encryption store is not loaded")
    recovery_key = configured_recovery_key(config)
    try:
        if client.should_upload_keys:
            # A device is signed only once its keys are published.
            uploaded = await client.keys_upload()
            if isinstance(uploaded, KeysUploadError):
                raise IdentityError(f"matrix: uploading the device keys failed: {uploaded.message}")
        async with aiohttp.ClientSession() as session:
            api = KeysApi(session, client.homeserver, client.user_id, client.access_token)
            outcome = await ensure_identity(
                api,
                IdentityStore(store_dir),
                device_id=client.device_id,
                device=_OlmDevice(client.olm.account),
                password=config.password.get_secret_value() if config.password else None,
                recovery_key=recovery_key,
            )
    except (KeysApiError, aiohttp.ClientError, TimeoutError) as exc:
        raise IdentityError(
            f"matrix: setting up the cross-signing identity failed: {exc.__class__.__name__} {exc}"
        ) from None
    log.info(
        "matrix: cross-signing identity %s (master key %s), device %s %s, secret storage %s",
        outcome.identity,
        outcome.master_key,
        client.device_id,
        "signed now" if outcome.device_signed_now else "already signed",
        outcome.secret_storage,
    )
    return outcome
