"""koopbot on a real Synapse, driven by a caseworker's nio client, end-to-end encrypted."""

from __future__ import annotations

import json
import re

import pytest
from conftest import MatrixWorld
from sqlmodel import select

from bot.matrix import MatrixMessenger
from bot.messages import Reply
from scheduler.ports import DeliveryError, FailureKind, Recipient
from storage.models.matrix import MatrixEvent
from storage.staff import link_identity, staff_by_handle

CASE = "HB-2025-117"


async def test_every_feature_from_an_encrypted_direct_chat(world: MatrixWorld) -> None:
    running = await world.start_bot()
    person, room = await world.caseworker("MK")
    bot = world.bot_id

    async def ask(text: str) -> str:
        answer = await person.ask(room, text, bot)
        assert answer.encrypted, f"{text!r} was answered unencrypted"
        return answer.body

    help_ = await person.ask(room, "!hilfe", bot)
    assert "Mara Koch (MK)" in help_.body
    # Element runs "/..." as its own commands, so the bot writes commands with "!".
    assert "!fristen" in help_.body and "/fristen" not in help_.body
    assert help_.formatted_body is not None and "<br>" in help_.formatted_body

    created = await ask(
        f"/fall_neu {CASE} §30 beginn=07.03.2025 traeger=JB asd=TB empfehlung=fk "
        "kinderschutz=nein bericht=3"
    )
    assert f"Fall {CASE} angelegt" in created and "Di 22.04.2025" in created  # D1 over Easter

    deadlines = await ask("fristen")  # no prefix in a direct chat
    number = re.search(rf"#(\d+) {CASE} Handlungsplan", deadlines)
    assert number, deadlines
    # Several deadlines: Telegram's buttons become the typed command, not reactions.
    assert "!erledigt NUMMER" in deadlines and "/erledigt" not in deadlines
    assert "erledigt" in (await ask(f"!erledigt {number[1]}")).lower()
    assert f"#{number[1]} {CASE} Handlungsplan" not in await ask("/fristen")

    assert "Do 17.04.2025" in await ask(f"!hpg {CASE} 02.06.2025 10:00")  # D3 before Easter
    assert "Abstimmungsgespräch – Mi 16.04.2025" in await ask(f"!abstimmung {CASE}")
    assert "1,5 Std. direkt am Klienten" in await ask(f"!stunden 1,5 {CASE}")
    assert "Summe: direkt am Klienten 1,5 Std." in await ask("!meinestunden")
    assert "Notfallkontakt jetzt" in await ask("!notfall")
    assert "AG 78" in await ask("!ag78")
    assert "höchstens 12 Std." in await ask(f"!stunden 13 {CASE}")  # bad input, German answer
    assert person.undecryptable == []
    await person.wait(lambda: running.adapter.stats.answered >= 13, "the last answer marked")
    assert running.adapter.stats.answered == 13


async def test_encrypted_group_room_answers_only_bang_commands(world: MatrixWorld) -> None:
    await world.start_bot()
    mara, _dm = await world.caseworker("MK")
    colleague = await world.person("colleague")
    room = await mara.create_room(invite=[world.bot_id, colleague.user_id], direct=False)
    await colleague.accept_invite()
    await mara.wait_joined(room, world.bot_id)
    await mara.wait_joined(room, colleague.user_id)

    await mara.say(room, "notfall ist heute wer?")  # talk among people: not for koopbot
    oncall = await mara.ask(room, "!notfall", world.bot_id)
    assert oncall.encrypted and "Notfallkontakt jetzt" in oncall.body
    assert len(mara.received(room, world.bot_id)) == 1
    private = await mara.ask(room, "!fristen", world.bot_id)
    assert "nur im persönlichen Chat" in private.body  # case data never in a group
    stranger = await colleague.ask(room, "!ag78", world.bot_id)
    assert "AG 78" not in stranger.body  # unregistered: one refusal, nothing else
    assert mara.undecryptable == [] and colleague.undecryptable == []


async def test_a_strangers_invite_is_declined(world: MatrixWorld) -> None:
    # A foreign server list, so even a direct chat (to register in) is not joined.
    running = await world.start_bot(registration_servers=["example.org"])
    stranger = await world.person("stranger")
    group = await stranger.create_room(invite=[world.bot_id], direct=False)
    direct = await stranger.create_room(invite=[world.bot_id], direct=True)
    await stranger.wait(lambda: running.adapter.stats.ignored_invites == 2, "two declines")
    for room in (group, direct):
        await stranger.wait(
            lambda r=room: stranger.membership(r, world.bot_id) == "none", "the bot to decline"
        )
    assert running.adapter.client is not None
    assert group not in running.adapter.client.rooms
    assert direct not in running.adapter.client.rooms


async def test_restart_answers_what_came_meanwhile_exactly_once(world: MatrixWorld) -> None:
    first = await world.start_bot()
    person, room = await world.caseworker("MK")
    device = first.adapter.client.device_id  # type: ignore[union-attr]
    await first.stop()

    asked = ["!notfall", "!ag78", "meinestunden"]
    for text in asked:
        await person.say(room, text)
    before = len(person.received(room, world.bot_id))

    second = await world.start_bot()  # same store: restore_login, no password login
    assert second.adapter.client.device_id == device  # type: ignore[union-attr]
    await person.wait(
        lambda: len(person.received(room, world.bot_id)) >= before + len(asked), "the backlog"
    )
    marker = await person.ask(room, "!hilfe", world.bot_id)  # anything doubled came before it
    answers = person.received(room, world.bot_id)[before:]
    assert [a.body.split("\n")[0] for a in answers[:3]] == [
        "Notfallkontakt jetzt:",
        "AG 78 – kommende Termine:",
        "Für diese Woche hast du noch keine Stunden erfasst.",
    ]
    assert answers[3] == marker and len(answers) == 4
    assert all(a.encrypted for a in answers) and person.undecryptable == []
    creds = json.loads((world.tmp / "koopbot-matrix" / "credentials.json").read_text())
    assert creds["device_id"] == device


async def test_history_before_joining_is_not_answered(world: MatrixWorld) -> None:
    world.load_demo()
    await (await world.start_bot()).stop()  # koopbot's device exists, koopbot is down
    person = await world.person("early")
    room = await person.create_room(invite=[world.bot_id], direct=True)
    await person.say(room, "!hilfe")  # before koopbot joined: history, not a question to it
    await world.start_bot()
    await person.wait_joined(room, world.bot_id)
    first = await person.ask(room, f"/start {world.codes['JB']}", world.bot_id)
    assert "Willkommen, Jonas Berg" in first.body
    assert len(person.received(room, world.bot_id)) == 1


async def test_messenger_opens_an_encrypted_direct_chat_once_per_key(world: MatrixWorld) -> None:
    running = await world.start_bot()
    world.load_demo()
    person = await world.person("lea")
    with world.db.session() as session:
        lea = staff_by_handle(session, "LW")
        assert lea is not None and lea.id is not None
        link_identity(session, lea, "matrix", person.user_id, world.bot.clock.now())
    messenger = MatrixMessenger(running.adapter)
    to_lea = Recipient(staff_id=lea.id, transport="matrix", external_id=person.user_id)
    reminder = Reply("Erinnerung: Bericht HB-2026-007 ist morgen fällig.")

    await messenger.send(to_lea, reminder, idempotency_key="deadline:4:2025-04-07")
    room = await person.accept_invite()
    assert person.client.rooms[room].encrypted
    await person.wait(lambda: len(person.received(room, world.bot_id)) == 1, "the reminder")
    got = person.received(room, world.bot_id)[0]
    assert got.encrypted and got.body == reminder.text

    # A resend after a crash carries the same transaction id: no second message.
    await messenger.send(to_lea, reminder, idempotency_key="deadline:4:2025-04-07")
    await messenger.send(to_lea, Reply("Zweite Erinnerung"), idempotency_key="deadline:4:b")
    await person.wait(lambda: len(person.received(room, world.bot_id)) >= 2, "the second")
    assert [m.body for m in person.received(room, world.bot_id)] == [
        reminder.text,
        "Zweite Erinnerung",
    ]

    nobody = Recipient(staff_id=99, transport="matrix", external_id="@nobody:localhost")
    with pytest.raises(DeliveryError) as unknown:
        await messenger.send(nobody, reminder, idempotency_key="x")
    assert unknown.value.kind is FailureKind.unknown_user

    await person.client.room_leave(room)
    await person.wait(
        lambda: person.user_id not in running.adapter.client.rooms[room].users,  # type: ignore[union-attr]
        "koopbot to see the leave",
    )
    with pytest.raises(DeliveryError) as left:
        await messenger.send(to_lea, reminder, idempotency_key="deadline:4:c")
    assert left.value.kind is FailureKind.blocked


async def test_rate_limit_with_synapse_defaults_is_waited_out(world: MatrixWorld) -> None:
    world.register_bot(rate_limited=True)  # Synapse's default rc_message: 0.2/s, burst 10
    running = await world.start_bot()
    person, room = await world.caseworker("JB")  # that answer is one of the burst
    count = 11  # with the registration answer: two past the burst of 10
    for _ in range(count):
        await person.say(room, "!notfall")
    await person.wait(
        lambda: len(person.received(room, world.bot_id)) >= count + 1, "all answers", timeout=90
    )
    assert len(person.received(room, world.bot_id)) == count + 1
    assert running.adapter.stats.rate_limit_waits >= 1
    await person.wait(lambda: running.adapter.stats.answered >= count + 1, "the last answer marked")
    assert running.adapter.stats.answered == count + 1


async def test_answers_held_back_by_the_rate_limit_go_out_after_a_restart(
    world: MatrixWorld,
) -> None:
    """No waiting allowed: answers past Synapse's burst stay stored (`answering`) and go out
    later, after a restart too, each exactly once."""
    world.register_bot(rate_limited=True)  # Synapse's default rc_message: 0.2/s, burst 10
    first = await world.start_bot(max_rate_limit_waits=0)
    person, room = await world.caseworker("JB")
    asked = [await person.say(room, "!notfall") for _ in range(12)]

    def held() -> bool:
        with world.db.session() as session:
            rows = session.exec(select(MatrixEvent).where(MatrixEvent.status == "answering"))
            return rows.first() is not None

    await person.wait(held, "an answer the rate limit holds back")
    await first.stop()

    await world.start_bot(max_rate_limit_waits=0)
    await person.wait(
        lambda: all(person.answers_to(room, world.bot_id, e) for e in asked), "all", timeout=120
    )
    assert [len(person.answers_to(room, world.bot_id, e)) for e in asked] == [1] * len(asked)
    assert len(person.received(room, world.bot_id)) == len(asked) + 1  # and the welcome
