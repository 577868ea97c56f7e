"""koopbot as an Element user meets it: matrix-js-sdk with Rust crypto excluding insecure
devices (MSC4153). Every answer must decrypt without a shield, on first contact, after a
restart and after the bot's store was lost and its identity restored from the recovery key."""

from __future__ import annotations

import json
import logging
import re
import shutil

import pytest
from conftest import MatrixWorld
from element_world import assert_trusted, element_people, koopbot_cli, register_in_dm

from bot.matrix_identity_store import IdentityError

RECOVERY_KEY = re.compile(r"^    ((?:\w{4} ){11}\w{1,4})$", re.MULTILINE)


async def test_element_user_trusts_every_answer_across_restart_and_restore(
    world: MatrixWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot")
    running = await world.start_bot()
    store = running.adapter.store_dir
    first_device = running.adapter._client().device_id
    async with element_people(world) as person:
        mara, account = await person("mara")
        room = await register_in_dm(world, mara, "MK")
        bot = world.bot_id

        async def ask(text: str, expected: str) -> None:
            answer = await mara.ask(room, text, bot)
            assert_trusted(answer, text)
            assert answer.body is not None and expected in answer.body, (text, answer.body)

        await ask("!hilfe", "Mara Koch (MK)")
        await ask("!notfall", "Notfallkontakt jetzt")
        await ask("fristen", "Frist")
        await ask("!ag78", "AG 78")
        devices = await mara.devices(bot)
        assert devices["devices"] == [{"deviceId": first_device, "signedByOwner": True}]

        # The operator takes the recovery key, once.
        shown = koopbot_cli(world, store, "recovery-key")
        assert shown.returncode == 0, shown.stderr
        match = RECOVERY_KEY.search(shown.stdout)
        assert match, shown.stdout
        recovery_key = match[1]
        assert "Geheimnis" in shown.stdout and "secret" in shown.stdout
        again = koopbot_cli(world, store, "recovery-key")
        assert again.returncode == 1 and recovery_key not in again.stdout + again.stderr

        # A restart keeps device and identity.
        await running.stop()
        running = await world.start_bot()
        assert running.adapter._client().device_id == first_device
        await ask("!hilfe", "Mara Koch (MK)")
        await ask("!notfall", "Notfallkontakt jetzt")

        # The store is lost; the recovery key restores the identity on a new device.
        await running.stop()
        shutil.rmtree(store)
        running = await world.start_bot(recovery_key=recovery_key)
        new_device = running.adapter._client().device_id
        assert new_device != first_device
        await ask("!hilfe", "Mara Koch (MK)")  # still registered: same Matrix account
        await ask("!notfall", "Notfallkontakt jetzt")
        await ask("!meinestunden", "Stunden")
        devices = await mara.devices(bot)
        signed = {d["deviceId"]: d["signedByOwner"] for d in devices["devices"]}
        assert signed == {first_device: True, new_device: True}
        assert devices["known"] and not devices["needsUserApproval"]  # no "identity reset"

        status = koopbot_cli(
            world, store, "status", env={"KOOPBOT_MATRIX__RECOVERY_KEY": recovery_key}
        )
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"Gerät:                             {new_device}" in status.stdout
        assert "Gerät vom Bot signiert:            ja" in status.stdout
        assert "Wiederherstellungsschlüssel:       passt" in status.stdout
        wrong = koopbot_cli(
            world,
            store,
            "status",
            env={"KOOPBOT_MATRIX__RECOVERY_KEY": recovery_key[:-1] + _other(recovery_key[-1])},
        )
        assert wrong.returncode == 2 and recovery_key not in wrong.stderr  # parity check

        # No secret in any log: the bot's, the client's, the CLI's.
        logs = caplog.text + "".join(
            p.read_text(errors="replace") for p in world.tmp.glob("element-*.log")
        )
        logs += status.stdout + status.stderr + again.stderr + wrong.stderr
        logs += "".join(p.read_text() for p in (world.tmp / "cli-data").glob("*.log"))
        assert world.bot_account is not None
        creds = json.loads((store / "credentials.json").read_text())
        private = json.loads((store / "cross_signing.json").read_text())
        for secret in (
            recovery_key,
            recovery_key.replace(" ", ""),
            world.bot_account.password,
            account.password,
            creds["access_token"],
            private["master"],
            private["self_signing"],
            private["ssss_key"],
        ):
            assert secret not in logs
        assert (store / "cross_signing.json").stat().st_mode & 0o077 == 0


def _other(char: str) -> str:
    return "2" if char != "2" else "3"


async def test_lost_store_without_recovery_key_is_refused_then_reset_with_the_password(
    world: MatrixWorld,
) -> None:
    running = await world.start_bot()
    store = running.adapter.store_dir
    async with element_people(world) as person:
        mara, _ = await person("mara")
        room = await register_in_dm(world, mara, "MK")
        await running.stop()
        shutil.rmtree(store)
        adapter = world.adapter()
        try:
            with pytest.raises(IdentityError) as raised:
                await adapter.login()
        finally:
            await adapter.close()
        message = str(raised.value)
        assert "\n" not in message
        assert "KOOPBOT_MATRIX__RECOVERY_KEY" in message and "exists on the server" in message

        unconfirmed = koopbot_cli(world, store, "reset-identity")
        assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
        no_password = koopbot_cli(world, store, "reset-identity", "--yes")
        assert no_password.returncode == 2
        assert no_password.stderr.count("\n") == 1  # one line
        assert "needs its password" in no_password.stderr
        assert "KOOPBOT_MATRIX__PASSWORD" in no_password.stderr
        assert world.bot_account is not None
        wrong = koopbot_cli(
            world,
            store,
            "reset-identity",
            "--yes",
            env={"KOOPBOT_MATRIX__PASSWORD": "not-the-password"},
        )
        assert wrong.returncode == 2 and "refused the bot's password" in wrong.stderr
        reset = koopbot_cli(
            world,
            store,
            "reset-identity",
            "--yes",
            env={"KOOPBOT_MATRIX__PASSWORD": world.bot_account.password},
        )
        assert reset.returncode == 0, reset.stderr
        recovery_key = RECOVERY_KEY.search(reset.stdout)
        assert recovery_key, reset.stdout

        running = await world.start_bot()
        answer = await mara.ask(room, "!notfall", world.bot_id)
        assert answer.body is not None and "Notfallkontakt jetzt" in answer.body
        assert answer.decrypted and not answer.ever_failed
        # Unlike a restore, Element now sees the identity change (and would show a warning).
        assert (await mara.devices(world.bot_id))["needsUserApproval"]
        status = koopbot_cli(
            world, store, "status", env={"KOOPBOT_MATRIX__RECOVERY_KEY": recovery_key[1]}
        )
        assert (
            status.returncode == 0 and "Wiederherstellungsschlüssel:       passt" in status.stdout
        )


async def test_a_recovery_key_made_before_the_first_start_is_the_one_used(
    world: MatrixWorld,
) -> None:
    world.register_bot()
    store = world.tmp / "koopbot-matrix"
    made = koopbot_cli(world, store, "recovery-key")
    assert made.returncode == 0, made.stderr
    match = RECOVERY_KEY.search(made.stdout)
    assert match
    assert koopbot_cli(world, store, "status").returncode == 2  # no device yet: says so
    await world.start_bot()
    status = koopbot_cli(world, store, "status", env={"KOOPBOT_MATRIX__RECOVERY_KEY": match[1]})
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Wiederherstellungsschlüssel:       passt" in status.stdout
    assert koopbot_cli(world, store, "recovery-key").returncode == 1  # shown once only
