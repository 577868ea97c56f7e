"""No silent drop: a message koopbot cannot decrypt gets its key requested from the sender's
device, a notice after a short wait, and its answer once the key arrives, also across a
restart in between."""

from __future__ import annotations

from conftest import MatrixWorld
from people import Person

WAIT = 1.0  # seconds until the notice (the setting; 30 by default)


def withhold_from(person: Person, room: str, bot: str, bot_device: str) -> None:
    """The person's next messages in `room` use a new session the bot's device does not get."""
    person.client.blacklist_device(person.client.device_store[bot][bot_device])
    person.client.invalidate_outbound_session(room)


async def test_unreadable_message_gets_a_notice_and_later_its_answer(world: MatrixWorld) -> None:
    running = await world.start_bot(undecryptable_notice_seconds=WAIT)
    mara, room = await world.caseworker("MK")
    bot = world.bot_id
    assert running.adapter.client is not None
    device = running.adapter.client.device_id
    withhold_from(mara, room, bot, device)

    asked = await mara.say(room, "!notfall")
    olm = mara.client.olm
    assert olm is not None
    session_id = olm.outbound_group_sessions[room].id
    # The request goes to the device that sent the message, not only to koopbot's own.
    await mara.wait(
        lambda: any(r.sender == bot and r.session_id == session_id for r in mara.key_requests),
        "koopbot's key request",
    )
    await mara.wait(lambda: mara.answers_to(room, bot, asked) != [], "the notice")
    (notice,) = mara.answers_to(room, bot, asked)
    assert notice.notice and notice.encrypted
    assert "nicht lesen" in notice.body and "noch einmal" in notice.body
    assert "notfall" not in notice.body.lower()  # nothing of the message itself

    await mara.forward_session(room, session_id, bot, device)  # the key, late
    await mara.wait(lambda: len(mara.answers_to(room, bot, asked)) == 2, "the answer")
    answer = mara.answers_to(room, bot, asked)[1]
    assert answer.body.startswith("Notfallkontakt jetzt") and not answer.notice

    mara.client.unblacklist_device(mara.client.device_store[bot][device])
    marker = await mara.ask(room, "!hilfe", bot)
    assert mara.received(room, bot)[-3:] == [notice, answer, marker]
    assert running.adapter.stats.notices == 1 and running.adapter.stats.key_requests >= 1


async def test_a_key_that_arrives_while_koopbot_is_down_is_used_after_the_restart(
    world: MatrixWorld,
) -> None:
    first = await world.start_bot(undecryptable_notice_seconds=WAIT)
    mara, room = await world.caseworker("MK")
    bot = world.bot_id
    assert first.adapter.client is not None
    device = first.adapter.client.device_id
    withhold_from(mara, room, bot, device)
    asked = await mara.say(room, "!ag78")
    olm = mara.client.olm
    assert olm is not None
    session_id = olm.outbound_group_sessions[room].id
    await mara.wait(lambda: mara.answers_to(room, bot, asked) != [], "the notice")
    await first.stop()

    await mara.forward_session(room, session_id, bot, device)
    second = await world.start_bot(undecryptable_notice_seconds=WAIT)
    await mara.wait(lambda: len(mara.answers_to(room, bot, asked)) == 2, "the answer")
    notice, answer = mara.answers_to(room, bot, asked)
    assert notice.notice and answer.body.startswith("AG 78")
    mara.client.unblacklist_device(mara.client.device_store[bot][device])
    marker = await mara.ask(room, "!hilfe", bot)
    assert mara.received(room, bot)[-3:] == [notice, answer, marker]
    assert second.adapter.stats.notices == 0  # no second notice after the restart
