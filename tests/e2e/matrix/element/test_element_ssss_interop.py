"""koopbot's secret storage and recovery keys against Element's own code (matrix-js-sdk's
`decodeRecoveryKey`, `calculateKeyCheck`, AES secret storage items), both directions."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from element_client import ElementClient

from bot.matrix_cross_signing import CrossSigningKeys
from bot.matrix_ssss import (
    EncryptedSecret,
    decode_recovery_key,
    decrypt,
    encode_recovery_key,
    key_description,
    key_matches,
    new_key,
    secret_content,
)


@pytest.fixture
async def js(tmp_path: Path) -> AsyncIterator[ElementClient]:
    client = ElementClient(tmp_path / "element.log")
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def test_element_reads_what_koopbot_writes(js: ElementClient) -> None:
    key = new_key()
    secrets = CrossSigningKeys.generate().secrets()
    answer = await js.call(
        "recoveryKeyCheck",
        recoveryKey=encode_recovery_key(key),
        keyInfo=key_description(key),
        secrets={n: secret_content("k", key, n, s)["encrypted"]["k"] for n, s in secrets.items()},
    )
    assert answer["macMatches"]
    assert answer["plain"] == secrets
    assert answer["encoded"] == encode_recovery_key(key)  # same text, same grouping


async def test_koopbot_reads_what_element_writes(js: ElementClient) -> None:
    key = new_key()
    secrets = {"m.cross_signing.master": "c2VjcmV0", "m.megolm_backup.v1": "ÄÖÜ ß"}
    answer = await js.call("ssssEncrypt", key=base64.b64encode(key).decode(), secrets=secrets)
    assert decode_recovery_key(answer["recoveryKey"]) == key
    assert key_matches(key, answer["keyInfo"])
    assert not key_matches(new_key(), answer["keyInfo"])
    for name, plain in secrets.items():
        assert decrypt(key, name, EncryptedSecret.from_json(answer["encrypted"][name])) == plain
