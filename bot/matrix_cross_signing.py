"""Cross-signing keys (master, self-signing, user-signing) and signed JSON, as the Matrix
client-server spec describes them ("Cross-signing", "Signing JSON").

Pure: no network, no files. Canonical JSON comes from matrix-org's `canonicaljson`, Ed25519
from `cryptography`.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

from canonicaljson import encode_canonical_json
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from unpaddedbase64 import decode_base64, encode_base64

USAGES = ("master", "self_signing", "user_signing")
SECRET_NAMES = {usage: f"m.cross_signing.{usage}" for usage in USAGES}


class CrossSigningError(Exception):
    """A key or signature is malformed; the message never contains private key material."""


def signable(obj: dict[str, Any]) -> bytes:
    """The bytes a signature covers: canonical JSON without `signatures` and `unsigned`."""
    return encode_canonical_json(
        {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    )


def verify_signature(obj: dict[str, Any], user_id: str, key_id: str, public_key: str) -> bool:
    """Whether `obj` carries a valid signature by `user_id`'s Ed25519 key `key_id`."""
    signature = obj.get("signatures", {}).get(user_id, {}).get(key_id)
    if not isinstance(signature, str):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(decode_base64(public_key)).verify(
            decode_base64(signature), signable(obj)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def with_signature(
    obj: dict[str, Any], user_id: str, key_id: str, signature: str
) -> dict[str, Any]:
    """A copy of `obj` (without `unsigned`) with one more signature."""
    signed = copy.deepcopy({k: v for k, v in obj.items() if k != "unsigned"})
    signed.setdefault("signatures", {}).setdefault(user_id, {})[key_id] = signature
    return signed


def public_key_of(key_object: dict[str, Any] | None) -> str | None:
    """The Ed25519 public key of a cross-signing key object from `/keys/query`."""
    if not key_object:
        return None
    keys = key_object.get("keys", {})
    for key_id, value in keys.items():
        if key_id.startswith("ed25519:") and isinstance(value, str):
            return value
    return None


@dataclass(frozen=True)
class SigningKey:
    """One Ed25519 cross-signing key; `seed` is the 32-byte private key."""

    seed: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(32))

    @classmethod
    def from_secret(cls, text: str) -> SigningKey:
        """From its secret storage form: the private key in (unpadded) base64."""
        try:
            seed = decode_base64(text.strip())
        except ValueError:
            raise CrossSigningError("a cross-signing private key is not base64") from None
        if len(seed) != 32:
            raise CrossSigningError("a cross-signing private key must have 32 bytes")
        return cls(seed)

    def __repr__(self) -> str:  # never the seed, also not in a traceback
        return f"SigningKey(public={self.public})"

    @property
    def secret(self) -> str:
        return encode_base64(self.seed)

    @property
    def public(self) -> str:
        raw = self._private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return encode_base64(raw)

    @property
    def key_id(self) -> str:
        return f"ed25519:{self.public}"

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def sign(self, obj: dict[str, Any]) -> str:
        """The signature of a JSON object, unpadded base64."""
        return encode_base64(self._private().sign(signable(obj)))


@dataclass(frozen=True)
class CrossSigningKeys:
    """The three private keys of one user's cross-signing identity."""

    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(SigningKey.generate(), SigningKey.generate(), SigningKey.generate())

    def by_usage(self, usage: str) -> SigningKey:
        key: SigningKey = getattr(self, usage)
        return key

    def key_object(self, usage: str, user_id: str) -> dict[str, Any]:
        """The public key object as uploaded; the other two are signed by the master key."""
        key = self.by_usage(usage)
        obj: dict[str, Any] = {
            "user_id": user_id,
            "usage": [usage],
            "keys": {key.key_id: key.public},
        }
        if usage != "master":
            obj = with_signature(obj, user_id, self.master.key_id, self.master.sign(obj))
        return obj

    def upload_body(self, user_id: str) -> dict[str, Any]:
        """The body of `POST /keys/device_signing/upload` (without `auth`)."""
        return {f"{usage}_key": self.key_object(usage, user_id) for usage in USAGES}

    def sign_device(self, device_keys: dict[str, Any], user_id: str) -> dict[str, Any]:
        """The device's key object with the self-signing key's signature added."""
        key = self.self_signing
        return with_signature(device_keys, user_id, key.key_id, key.sign(device_keys))

    def matches(self, master: dict[str, Any] | None, self_signing: dict[str, Any] | None) -> bool:
        """Whether the server's published keys are these keys."""
        return (
            public_key_of(master) == self.master.public
            and public_key_of(self_signing) == self.self_signing.public
        )

    def secrets(self) -> dict[str, str]:
        """Secret storage name -> private key in base64."""
        return {SECRET_NAMES[usage]: self.by_usage(usage).secret for usage in USAGES}

    @classmethod
    def from_secrets(cls, secrets: dict[str, str]) -> CrossSigningKeys:
        try:
            return cls(*(SigningKey.from_secret(secrets[SECRET_NAMES[u]]) for u in USAGES))
        except KeyError as exc:
            raise CrossSigningError(f"secret {exc} is missing") from None
