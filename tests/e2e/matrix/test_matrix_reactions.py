"""Where Telegram shows buttons, Matrix gets reactions: ✅ marks a deadline done, 💤 snoozes
it a day, only from the person the message was for."""

from __future__ import annotations

from conftest import MatrixWorld
from sqlmodel import select

from bot.matrix import MatrixMessenger
from bot.messages import Reply
from bot.reminder_texts import deadline_line, reminder
from config.enums import DeadlineStatus
from scheduler.ports import Recipient
from storage.cases import open_deadlines_for, side_of
from storage.models.cases import Deadline
from storage.models.outbox import OutboxEntry
from storage.staff import staff_by_handle

DONE, SNOOZE = "✅", "💤"


def reminder_of(world: MatrixWorld, number: int) -> Reply:
    today = world.bot.clock.now().date()
    with world.db.session() as session:
        deadline = session.get(Deadline, number)
        assert deadline is not None
        due = deadline.due
    line = deadline_line(number, "Fall Frist", due, today, escalation=False, responsible="")
    return reminder([line], late=False, now=world.bot.clock.now())


async def test_reactions_mark_done_and_snooze_for_the_right_person(world: MatrixWorld) -> None:
    running = await world.start_bot()
    mara, room = await world.caseworker("MK")
    bot = world.bot_id
    with world.db.session() as session:
        mk = staff_by_handle(session, "MK")
        assert mk is not None and mk.id is not None
        page = open_deadlines_for(
            session,
            mk,
            side_of(session, mk),
            today=world.bot.clock.now().date(),
            until=None,
            limit=5,
        )
        first, second = (d.id for d, _code in page.rows[:2])
    assert first is not None and second is not None
    messenger = MatrixMessenger(running.adapter)
    to_mara = Recipient(staff_id=mk.id, transport="matrix", external_id=mara.user_id)

    # A reminder of one deadline: koopbot offers ✅ and 💤 as reactions to tap.
    await messenger.send(to_mara, reminder_of(world, first), idempotency_key="test:r1")
    await mara.wait(lambda: len(mara.received(room, bot)) == 2, "the reminder")
    one = mara.received(room, bot)[-1]
    assert "Reagiere mit ✅" in one.body and f"!erledigt {first}" not in one.body
    await mara.wait(
        lambda: (
            {(r.sender, r.key) for r in mara.reactions if r.reacts_to == one.event_id}
            == {(bot, DONE), (bot, SNOOZE)}
        ),
        "koopbot's own ✅ and 💤",
    )
    await mara.react(room, one.event_id, DONE)
    await mara.wait(lambda: mara.answers_to(room, bot, one.event_id) != [], "done")
    assert mara.answers_to(room, bot, one.event_id)[0].body.startswith("Erledigt:")
    with world.db.session() as session:
        done = session.get(Deadline, first)
        assert done is not None and done.status is DeadlineStatus.done and done.done_by == mk.id

    await messenger.send(to_mara, reminder_of(world, second), idempotency_key="test:r2")
    await mara.wait(lambda: len(mara.received(room, bot)) == 4, "the second reminder")
    two = mara.received(room, bot)[-1]
    await mara.react(room, two.event_id, SNOOZE + "\ufe0f")  # as some keyboards send it
    await mara.wait(lambda: mara.answers_to(room, bot, two.event_id) != [], "snoozed")
    assert mara.answers_to(room, bot, two.event_id)[0].body.startswith(
        f"Okay, ich erinnere dich an #{second}"
    )
    with world.db.session() as session:
        snoozes = session.exec(
            select(OutboxEntry).where(OutboxEntry.item_id == second, OutboxEntry.staff_id == mk.id)
        ).all()
    assert any(e.stage.startswith("snz:") for e in snoozes)

    # !fristen with several deadlines: no reactions offered; one anyway asks which is meant.
    listing = await mara.ask(room, "!fristen", bot)
    await mara.react(room, listing.event_id, DONE)
    await mara.wait(lambda: mara.answers_to(room, bot, listing.event_id) != [], "the question")
    which = mara.answers_to(room, bot, listing.event_id)[0]
    assert which.notice and "mehrere Fristen" in which.body and "!erledigt" in which.body
    assert not [r for r in mara.reactions if r.reacts_to == listing.event_id and r.sender == bot]
    await mara.react(room, listing.event_id, "👍")  # just a reaction, not a command

    # A colleague in the room (now a group) cannot tick Mara's deadline.
    colleague = await world.person("colleague")
    await mara.client.room_invite(room, colleague.user_id)
    await colleague.accept_invite()
    await mara.wait_joined(room, colleague.user_id)
    await colleague.react(room, two.event_id, DONE)
    await mara.wait(lambda: len(mara.answers_to(room, bot, two.event_id)) == 2, "the hint")
    hint = mara.answers_to(room, bot, two.event_id)[1]
    assert hint.notice and "nur die Person" in hint.body
    with world.db.session() as session:
        still = session.get(Deadline, second)
        assert still is not None and still.status is DeadlineStatus.open

    marker = await mara.ask(room, "!notfall", bot)  # the 👍 got nothing before this
    assert mara.received(room, bot)[-2:] == [hint, marker]
