"""Matrix secret storage (SSSS) with `m.secret_storage.v1.aes-hmac-sha2`, and recovery keys.

The client-server spec, "Secret storage": a 32-byte key encrypts each secret with keys
derived by HKDF-SHA256 (zero salt, the secret's name as info) into an AES-256-CTR key and an
HMAC-SHA256 key. A key description in account data carries the encryption of 32 zero bytes
under the name "" so a client can check a key before using it. The recovery key an operator
writes down is the key in the spec's "cryptographic key representation": base58 of
0x8B 0x01, the 32 key bytes and a parity byte, in groups of four.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
import string
from dataclasses import dataclass
from typing import Any

import base58
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from config.logs import register_secret

ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2"
DEFAULT_KEY_TYPE = "m.secret_storage.default_key"
KEY_SIZE = 32
_PREFIX = b"\x8b\x01"
_ZERO_SALT = bytes(32)
_KEY_ID_ALPHABET = string.ascii_letters + string.digits


class SecretStorageError(Exception):
    """A recovery key or stored secret is malformed or does not match; says which."""


def key_type(key_id: str) -> str:
    """The account data type of one key description."""
    return f"m.secret_storage.key.{key_id}"


def new_key() -> bytes:
    return os.urandom(KEY_SIZE)


def new_key_id() -> str:
    return "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(32))


# -- recovery keys ----------------------------------------------------------------------------


def encode_recovery_key(key: bytes) -> str:
    """`EsTc 1234 …`: what the operator stores as `KOOPBOT_MATRIX__RECOVERY_KEY`."""
    if len(key) != KEY_SIZE:
        raise SecretStorageError(f"a secret storage key has {KEY_SIZE} bytes, not {len(key)}")
    raw = _PREFIX + key
    parity = 0
    for byte in raw:
        parity ^= byte
    text = base58.b58encode(raw + bytes([parity])).decode("ascii")
    shown = " ".join(text[i : i + 4] for i in range(0, len(text), 4))
    register_secret(shown)  # masked in every log (issue 11)
    return shown


def decode_recovery_key(text: str) -> bytes:
    """The 32 key bytes of a recovery key; whitespace is ignored. The error never echoes it."""
    compact = "".join(text.split())
    try:
        raw = base58.b58decode(compact)
    except ValueError:
        raise SecretStorageError("the recovery key contains characters outside base58") from None
    parity = 0
    for byte in raw:
        parity ^= byte
    if len(raw) != len(_PREFIX) + KEY_SIZE + 1:
        raise SecretStorageError("the recovery key has the wrong length")
    if not raw.startswith(_PREFIX):
        raise SecretStorageError("the recovery key has the wrong prefix (not a Matrix key)")
    if parity != 0:
        raise SecretStorageError("the recovery key's parity check fails (a typo?)")
    return raw[len(_PREFIX) : len(_PREFIX) + KEY_SIZE]


# -- encryption -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedSecret:
    """One secret under one key: the `encrypted.<key id>` object of its account data."""

    iv: str
    ciphertext: str
    mac: str

    def to_json(self) -> dict[str, str]:
        return {"iv": self.iv, "ciphertext": self.ciphertext, "mac": self.mac}

    @classmethod
    def from_json(cls, data: Any) -> EncryptedSecret:
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("iv", "ciphertext", "mac")
        ):
            raise SecretStorageError("an encrypted secret lacks iv, ciphertext or mac")
        return cls(data["iv"], data["ciphertext"], data["mac"])


def _derive(key: bytes, name: str) -> tuple[bytes, bytes]:
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=_ZERO_SALT, info=name.encode()).derive(
        key
    )
    return okm[:32], okm[32:]


def _mac(mac_key: bytes, data: bytes) -> bytes:
    h = HMAC(mac_key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def _ctr(aes_key: bytes, iv: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).encryptor()
    return cipher.update(data) + cipher.finalize()


def _b64(data: bytes) -> str:
    # Padded, as Element writes it; _unb64 reads both forms.
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SecretStorageError("a secret storage field is not base64") from None


def encrypt(key: bytes, name: str, plaintext: str, *, iv: bytes | None = None) -> EncryptedSecret:
    """Encrypt one secret (a string) under `key` for the secret `name`."""
    aes_key, mac_key = _derive(key, name)
    if iv is None:
        raw_iv = bytearray(os.urandom(16))
        # Bit 63 cleared, as the spec says, so the 64-bit counter half never wraps.
        raw_iv[8] &= 0x7F
        iv = bytes(raw_iv)
    ciphertext = _ctr(aes_key, iv, plaintext.encode())
    return EncryptedSecret(_b64(iv), _b64(ciphertext), _b64(_mac(mac_key, ciphertext)))


def decrypt(key: bytes, name: str, secret: EncryptedSecret) -> str:
    """The plaintext of one secret; SecretStorageError if the MAC does not match."""
    aes_key, mac_key = _derive(key, name)
    ciphertext = _unb64(secret.ciphertext)
    if not hmac.compare_digest(_mac(mac_key, ciphertext), _unb64(secret.mac)):
        raise SecretStorageError(f"the MAC of secret {name} does not match this key")
    try:
        return _ctr(aes_key, _unb64(secret.iv), ciphertext).decode()
    except UnicodeDecodeError:
        raise SecretStorageError(f"secret {name} does not decrypt to text") from None


# -- key descriptions -------------------------------------------------------------------------


def key_description(key: bytes, name: str = "koopbot recovery key") -> dict[str, Any]:
    """The `m.secret_storage.key.<id>` content for a new key."""
    check = encrypt(key, "", "\0" * KEY_SIZE)
    return {"algorithm": ALGORITHM, "name": name, "iv": check.iv, "mac": check.mac}


def key_matches(key: bytes, description: Any) -> bool:
    """Whether `key` is the key the description was made for (the zero-bytes check)."""
    if not isinstance(description, dict) or description.get("algorithm") != ALGORITHM:
        return False
    iv, mac = description.get("iv"), description.get("mac")
    if not isinstance(iv, str) or not isinstance(mac, str):
        return False
    try:
        expected = encrypt(key, "", "\0" * KEY_SIZE, iv=_unb64(iv))
        return hmac.compare_digest(_unb64(expected.mac), _unb64(mac))
    except SecretStorageError:
        return False


def secret_content(key_id: str, key: bytes, name: str, plaintext: str) -> dict[str, Any]:
    """The account data content of secret `name` stored under one key."""
    return {"encrypted": {key_id: encrypt(key, name, plaintext).to_json()}}


def read_secret(content: Any, key_id: str, key: bytes, name: str) -> str:
    """Decrypt secret `name` from its account data content."""
    if not isinstance(content, dict) or not isinstance(content.get("encrypted"), dict):
        raise SecretStorageError(f"secret {name} is not in secret storage")
    entry = content["encrypted"].get(key_id)
    if entry is None:
        raise SecretStorageError(f"secret {name} is not stored under key {key_id}")
    return decrypt(key, name, EncryptedSecret.from_json(entry))
