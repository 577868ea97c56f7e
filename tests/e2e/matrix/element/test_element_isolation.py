"""The Element-grade client really excludes insecure devices, so the identity tests can fail:
a device its owner has not cross-signed (a plain matrix-nio client, as koopbot was before
issue 10) gets no room key, and what it sends does not decrypt (UNSIGNED_SENDER_DEVICE); with
exclusion switched off it decrypts under a red shield (UNSIGNED_DEVICE)."""

from __future__ import annotations

from conftest import MatrixWorld
from element_world import assert_trusted, element_people


async def test_a_device_without_cross_signing_is_excluded(world: MatrixWorld) -> None:
    unsigned = await world.person("nio")  # matrix-nio 0.26: no cross-signing at all
    async with element_people(world) as person:
        strict, _ = await person("strict")  # OnlySignedDevicesIsolationMode, as Element
        lax, _ = await person("lax", isolation="all")  # "exclude insecure devices" off
        room = await strict.create_group([unsigned.user_id, lax.user_id])
        assert await unsigned.accept_invite() == room
        await lax.join(room)
        await strict.wait_joined(room, [unsigned.user_id, lax.user_id])
        await unsigned.wait_joined(room, lax.user_id)

        await strict.send(room, "Nur für geprüfte Geräte")
        _, seen_by_lax = await lax.messages(room, strict.user_id, 1)
        assert_trusted(seen_by_lax[0], "cross-signed to cross-signed")
        await unsigned.wait(lambda: bool(unsigned.undecryptable), "the encrypted event")
        assert unsigned.received(room, strict.user_id) == []  # no room key for it

        await unsigned.say(room, "Hallo von einem ungeprüften Gerät")
        _, seen_by_strict = await strict.messages(room, unsigned.user_id, 1)
        assert seen_by_strict[0].decryption_failure
        assert seen_by_strict[0].failure_reason == "UNSIGNED_SENDER_DEVICE"
        _, seen_by_lax = await lax.messages(room, unsigned.user_id, 1)
        assert seen_by_lax[0].decrypted and seen_by_lax[0].body is not None
        assert (seen_by_lax[0].shield_colour, seen_by_lax[0].shield_reason) == (
            "RED",
            "UNSIGNED_DEVICE",
        )
