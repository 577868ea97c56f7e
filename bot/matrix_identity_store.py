"""Where the bot's cross-signing private keys and secret storage key live: the store file
`<store>/cross_signing.json`, written atomically with mode 0600 and never logged."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.matrix_cross_signing import CrossSigningError, CrossSigningKeys, SigningKey
from config.settings import Settings

STORE_FILE = "cross_signing.json"


class IdentityError(Exception):
    """The identity cannot be set up; one line that says what the operator must do."""


@dataclass
class StoredIdentity:
    """The private half, as kept in the store; every field may still be missing."""

    keys: CrossSigningKeys | None = None
    ssss_key_id: str | None = None
    ssss_key: bytes | None = field(default=None, repr=False)
    recovery_key_shown: bool = False


class IdentityStore:
    """`<store>/cross_signing.json`, written atomically with mode 0600."""

    def __init__(self, store_dir: Path) -> None:
        self.path = store_dir / STORE_FILE

    def load(self) -> StoredIdentity:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return StoredIdentity()
        except (OSError, ValueError) as exc:
            raise IdentityError(
                f"matrix: {self.path} is unreadable ({exc.__class__.__name__})"
            ) from None
        try:
            keys = None
            if data.get("master"):
                keys = CrossSigningKeys(
                    *(
                        SigningKey.from_secret(data[u])
                        for u in ("master", "self_signing", "user_signing")
                    )
                )
            ssss_key = base64.b64decode(data["ssss_key"]) if data.get("ssss_key") else None
        except (KeyError, ValueError, CrossSigningError):
            raise IdentityError(
                f"matrix: {self.path} is damaged; restore it or the recovery key"
            ) from None
        return StoredIdentity(
            keys, data.get("ssss_key_id"), ssss_key, bool(data.get("recovery_key_shown"))
        )

    def save(self, identity: StoredIdentity) -> None:
        data: dict[str, Any] = {
            "ssss_key_id": identity.ssss_key_id,
            "ssss_key": base64.b64encode(identity.ssss_key).decode() if identity.ssss_key else None,
            "recovery_key_shown": identity.recovery_key_shown,
        }
        if identity.keys is not None:
            for usage in ("master", "self_signing", "user_signing"):
                data[usage] = identity.keys.by_usage(usage).secret
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)


def identity_store_dir(settings: Settings) -> Path:
    """Where the adapter keeps its store (see `MatrixAdapter.from_settings`)."""
    return settings.matrix.store_dir or settings.data_dir / "matrix"
