"""Secret storage, recovery keys and cross-signing signatures: the rules of the spec."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import base58
import pytest

from bot.matrix_cross_signing import (
    CrossSigningError,
    CrossSigningKeys,
    SigningKey,
    public_key_of,
    verify_signature,
)
from bot.matrix_identity_store import IdentityError, IdentityStore, StoredIdentity
from bot.matrix_ssss import (
    EncryptedSecret,
    SecretStorageError,
    decode_recovery_key,
    decrypt,
    encode_recovery_key,
    encrypt,
    key_description,
    key_matches,
    new_key,
    read_secret,
    secret_content,
)

USER = "@koopbot:example.org"


def test_a_recovery_key_is_base58_of_prefix_key_and_parity_in_groups_of_four() -> None:
    key = bytes(range(32))
    text = encode_recovery_key(key)
    groups = text.split(" ")
    assert all(len(g) == 4 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 4
    raw = base58.b58decode(text.replace(" ", ""))
    assert raw[:2] == b"\x8b\x01" and raw[2:34] == key and len(raw) == 35
    parity = 0
    for byte in raw:
        parity ^= byte
    assert parity == 0
    assert decode_recovery_key(text) == key
    assert decode_recovery_key(text.replace(" ", "")) == key  # spaces are optional
    assert decode_recovery_key(f"  {text}\n") == key


def _typo(text: str) -> str:
    i = len(text) // 2
    if text[i] == " ":
        i += 1
    return text[:i] + ("2" if text[i] != "2" else "3") + text[i + 1 :]


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (_typo, "parity"),
        (lambda t: t + "A", "length"),
        (lambda t: t.replace(t[5], "0", 1), "base58"),  # 0 is not in the alphabet
        (
            lambda _t: base58.b58encode(b"\x8b\x02" + bytes(32) + bytes([0x8B ^ 0x02])).decode(),
            "prefix",
        ),
    ],
)
def test_a_bad_recovery_key_is_refused_without_echoing_it(mangle: object, reason: str) -> None:
    # A fixed key: a random one would pass the parity check after a typo once in 256 runs.
    text = mangle(encode_recovery_key(bytes(range(100, 132))))  # type: ignore[operator]
    with pytest.raises(SecretStorageError) as raised:
        decode_recovery_key(text)
    assert reason in str(raised.value)
    assert text.replace(" ", "")[:8] not in str(raised.value)


def test_secrets_round_trip_and_any_tampering_is_detected() -> None:
    key = new_key()
    secret = encrypt(key, "m.cross_signing.master", "private key text")
    assert decrypt(key, "m.cross_signing.master", secret) == "private key text"
    iv = base64.b64decode(secret.iv)
    assert len(iv) == 16 and iv[8] & 0x80 == 0  # bit 63 cleared
    with pytest.raises(SecretStorageError, match="MAC"):
        decrypt(new_key(), "m.cross_signing.master", secret)
    with pytest.raises(SecretStorageError, match="MAC"):
        decrypt(key, "m.cross_signing.self_signing", secret)  # the name is bound in
    flipped = bytearray(base64.b64decode(secret.ciphertext))
    flipped[0] ^= 1
    forged = EncryptedSecret(secret.iv, base64.b64encode(flipped).decode(), secret.mac)
    with pytest.raises(SecretStorageError, match="MAC"):
        decrypt(key, "m.cross_signing.master", forged)


def test_the_key_check_tells_the_right_key() -> None:
    key = new_key()
    description = key_description(key)
    assert description["algorithm"] == "m.secret_storage.v1.aes-hmac-sha2"
    assert key_matches(key, description)
    assert not key_matches(new_key(), description)
    assert not key_matches(key, {**description, "algorithm": "m.secret_storage.v2"})
    assert not key_matches(key, {"algorithm": description["algorithm"]})
    assert not key_matches(key, None)
    unpadded = {**description, "mac": description["mac"].rstrip("=")}
    assert key_matches(key, unpadded)  # both base64 forms are read


def test_read_secret_names_what_is_missing() -> None:
    key = new_key()
    content = secret_content("KEYID", key, "m.cross_signing.master", "abc")
    assert read_secret(content, "KEYID", key, "m.cross_signing.master") == "abc"
    with pytest.raises(SecretStorageError, match="not stored under key OTHER"):
        read_secret(content, "OTHER", key, "m.cross_signing.master")
    with pytest.raises(SecretStorageError, match="not in secret storage"):
        read_secret(None, "KEYID", key, "m.cross_signing.master")


def test_the_uploaded_keys_are_signed_by_the_master_key() -> None:
    keys = CrossSigningKeys.generate()
    body = keys.upload_body(USER)
    master = body["master_key"]
    assert master["usage"] == ["master"] and public_key_of(master) == keys.master.public
    for usage in ("self_signing", "user_signing"):
        obj = body[f"{usage}_key"]
        assert obj["usage"] == [usage]
        assert verify_signature(obj, USER, keys.master.key_id, keys.master.public)
        assert not verify_signature(obj, USER, keys.master.key_id, keys.self_signing.public)
    assert keys.matches(master, body["self_signing_key"])
    assert not keys.matches(master, body["user_signing_key"])


def test_a_device_signature_covers_the_device_keys_but_not_unsigned() -> None:
    keys = CrossSigningKeys.generate()
    device = {
        "user_id": USER,
        "device_id": "DEV",
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {"ed25519:DEV": "abc", "curve25519:DEV": "def"},
        "signatures": {USER: {"ed25519:DEV": "selfsig"}},
        "unsigned": {"device_display_name": "koopbot"},
    }
    signed = keys.sign_device(device, USER)
    ssk = keys.self_signing
    assert "unsigned" not in signed
    assert signed["signatures"][USER]["ed25519:DEV"] == "selfsig"  # the device's own stays
    assert verify_signature(signed, USER, ssk.key_id, ssk.public)
    assert verify_signature({**signed, "unsigned": {"x": 1}}, USER, ssk.key_id, ssk.public)
    tampered = {**signed, "keys": {"ed25519:DEV": "abd", "curve25519:DEV": "def"}}
    assert not verify_signature(tampered, USER, ssk.key_id, ssk.public)


def test_private_keys_never_show_in_a_repr() -> None:
    key = SigningKey.generate()
    keys = CrossSigningKeys(key, SigningKey.generate(), SigningKey.generate())
    assert key.secret not in repr(key) and key.secret not in repr(keys)
    assert key.public in repr(key)
    padded = base64.b64encode(key.seed).decode()
    assert SigningKey.from_secret(padded) == key  # Element writes padded base64
    with pytest.raises(CrossSigningError, match="32 bytes"):
        SigningKey.from_secret("AAAA")


def test_the_identity_store_is_private_and_round_trips(tmp_path: Path) -> None:
    store = IdentityStore(tmp_path / "matrix")
    assert store.load() == StoredIdentity()
    keys = CrossSigningKeys.generate()
    store.save(StoredIdentity(keys, "KEYID", new_key(), recovery_key_shown=False))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    loaded = store.load()
    assert loaded.keys == keys and loaded.ssss_key_id == "KEYID"
    assert loaded.ssss_key is not None and not loaded.recovery_key_shown
    assert repr(loaded.ssss_key) not in repr(loaded)
    store.path.write_text("{not json", encoding="utf-8")
    with pytest.raises(IdentityError, match="unreadable"):
        store.load()
    store.path.write_text('{"master": "!!"}', encoding="utf-8")
    with pytest.raises(IdentityError, match="damaged"):
        store.load()
