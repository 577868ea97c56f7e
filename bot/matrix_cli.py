"""`koopbot matrix status|recovery-key`: the bot's cross-signed identity, for the operator."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import aiohttp

from bot.matrix_identity import configured_recovery_key, reset_identity, rotate_secret_storage
from bot.matrix_identity_status import IdentityStatus, identity_status
from bot.matrix_identity_store import IdentityError, IdentityStore, identity_store_dir
from bot.matrix_keys_api import KeysApi, KeysApiError
from bot.matrix_login import CREDENTIALS_FILE, Credentials
from bot.matrix_ssss import encode_recovery_key, new_key
from config.errors import ConfigError
from config.settings import Settings

HINT = (
    "DE: Bewahren Sie diesen Schlüssel als Geheimnis auf, z. B. in KOOPBOT_MATRIX__RECOVERY_KEY\n"
    "    oder in der Datei von matrix.recovery_key_file. Geht der Matrix-Speicher verloren,\n"
    "    stellt koopbot mit ihm dieselbe Identität wieder her. Er wird nur dieses eine Mal\n"
    "    angezeigt.\n"
    "EN: Keep this key as a secret, e.g. in KOOPBOT_MATRIX__RECOVERY_KEY or in the file named\n"
    "    by matrix.recovery_key_file. If the Matrix store is lost, koopbot restores the same\n"
    "    identity with it. It is shown only this once."
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    matrix = sub.add_parser("matrix", help="the Matrix bot's identity: status, recovery key")
    matrix_sub = matrix.add_subparsers(dest="matrix_command", required=True)
    matrix_sub.add_parser(
        "status", help="device, cross-signing keys, device signature, recovery key check"
    )
    recovery = matrix_sub.add_parser(
        "recovery-key", help="create (once) and show the recovery key of secret storage"
    )
    recovery.add_argument(
        "--new", action="store_true", help="replace it by a new one (the old one stops working)"
    )
    reset = matrix_sub.add_parser(
        "reset-identity",
        help="new cross-signing keys after a lost store without recovery key (needs the password)",
    )
    reset.add_argument(
        "--yes", action="store_true", help="yes: everyone who talks to the bot sees a new identity"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `koopbot matrix ...`; 0 when all is well."""
    try:
        if args.matrix_command == "status":
            return asyncio.run(_status(settings))
        if args.matrix_command == "reset-identity":
            return asyncio.run(_reset(settings, confirmed=args.yes))
        return asyncio.run(_recovery_key(settings, new=args.new))
    except (IdentityError, ConfigError) as exc:
        print(f"koopbot: {exc}", file=sys.stderr)
        return 2
    except (KeysApiError, aiohttp.ClientError, TimeoutError) as exc:
        print(f"koopbot: der Homeserver war nicht zu erreichen: {exc}", file=sys.stderr)
        return 2


def _credentials(settings: Settings) -> tuple[Path, str, str, str]:
    """(store dir, homeserver, device id, access token) of the bot's saved device."""
    config = settings.matrix
    if not config.configured:
        raise ConfigError("matrix.homeserver und matrix.user_id müssen gesetzt sein")
    store_dir = identity_store_dir(settings)
    creds = Credentials.load(store_dir / CREDENTIALS_FILE)
    if creds is None:
        raise IdentityError(
            f"matrix: noch kein Gerät in {store_dir}; bitte koopbot einmal starten (koopbot run)"
        )
    return store_dir, creds.homeserver, creds.device_id, creds.access_token


async def _status(settings: Settings) -> int:
    store_dir, homeserver, device_id, token = _credentials(settings)
    assert settings.matrix.user_id is not None
    recovery_key = configured_recovery_key(settings.matrix)
    async with aiohttp.ClientSession() as session:
        api = KeysApi(session, homeserver, settings.matrix.user_id, token)
        status = await identity_status(api, IdentityStore(store_dir), device_id, recovery_key)
    print(render_status(settings.matrix.user_id, status))
    healthy = status.cross_signing_on_server and status.device_signed
    return 0 if healthy and status.recovery_key != "does not match" else 1


def render_status(user_id: str, s: IdentityStatus) -> str:
    def yes(flag: bool) -> str:
        return "ja" if flag else "nein"

    keys = f"ja (Master-Schlüssel {s.master_key})" if s.cross_signing_on_server else "nein"
    signed = yes(s.device_signed) + ("" if s.device_signed else " – Element antwortet ihm nicht")
    recovery = {
        "matches": "passt",
        "does not match": "passt nicht",
        "not configured": "nicht eingerichtet",
    }.get(s.recovery_key, s.recovery_key)
    rows = [
        ("Gerät", s.device_id),
        ("Cross-Signing-Schlüssel am Server", keys),
        ("private Schlüssel im Speicher", yes(s.store_has_keys)),
        ("Gerät vom Bot signiert", signed),
        ("Secret Storage", yes(s.secret_storage)),
        ("Wiederherstellungsschlüssel", recovery),
    ]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"  {(label + ':').ljust(width)}{value}" for label, value in rows]
    return "\n".join([f"Matrix-Identität von {user_id}", *lines])


async def _reset(settings: Settings, *, confirmed: bool) -> int:
    if not confirmed:
        print(
            "koopbot: reset-identity gibt dem Bot neue Cross-Signing-Schlüssel; alle, die mit "
            "ihm schreiben, sehen eine geänderte Identität. Mit dem Wiederherstellungsschlüssel "
            "besser wiederherstellen (KOOPBOT_MATRIX__RECOVERY_KEY). Zum Zurücksetzen --yes "
            "angeben.",
            file=sys.stderr,
        )
        return 2
    store_dir, homeserver, device_id, token = _credentials(settings)
    assert settings.matrix.user_id is not None
    password = settings.matrix.password
    async with aiohttp.ClientSession() as session:
        api = KeysApi(session, homeserver, settings.matrix.user_id, token)
        key = await reset_identity(
            api,
            IdentityStore(store_dir),
            device_id,
            password.get_secret_value() if password else None,
        )
    print(
        f"Neue Identität für {settings.matrix.user_id}; der neue Wiederherstellungsschlüssel:\n\n"
        f"    {encode_recovery_key(key)}\n\n{HINT}"
    )
    return 0


async def _recovery_key(settings: Settings, *, new: bool) -> int:
    store_dir = identity_store_dir(settings)
    store = IdentityStore(store_dir)
    stored = store.load()
    user_id = settings.matrix.user_id or "koopbot"
    if new:
        _, homeserver, _, token = _credentials(settings)
        assert settings.matrix.user_id is not None
        async with aiohttp.ClientSession() as session:
            api = KeysApi(session, homeserver, settings.matrix.user_id, token)
            key = await rotate_secret_storage(api, store)
    elif stored.ssss_key is not None and stored.recovery_key_shown:
        print(
            "koopbot: der Wiederherstellungsschlüssel wurde schon einmal angezeigt (oder stammt "
            "aus den Einstellungen); `koopbot matrix recovery-key --new` ersetzt ihn",
            file=sys.stderr,
        )
        return 1
    elif stored.ssss_key is not None:
        key = stored.ssss_key
    else:
        # Before the first start: koopbot sets up secret storage with this key.
        key = new_key()
        stored.ssss_key = key
    stored = store.load() if new else stored
    stored.recovery_key_shown = True
    store.save(stored)
    print(f"Wiederherstellungsschlüssel für {user_id}:\n\n    {encode_recovery_key(key)}\n\n{HINT}")
    return 0
