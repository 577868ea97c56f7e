"""Rooms and replies as Element shows them: direct chat vs. group, threads, reply quotes,
edits, `!` commands everywhere."""

from __future__ import annotations

import json
from urllib.parse import quote

from conftest import MatrixWorld

CASE = "HB-2026-007"


async def test_a_two_member_group_room_gets_the_pointer_to_the_direct_chat(
    world: MatrixWorld,
) -> None:
    await world.start_bot()
    mara, dm = await world.caseworker("MK")
    team = await mara.create_room(invite=[world.bot_id], direct=False, name="Team Nord (Gruppe)")
    await mara.wait_joined(team, world.bot_id)
    assert len(mara.client.rooms[team].users) == 2  # Mara and koopbot, and still a group

    for question in ("!fristen", f"!fall {CASE}"):
        pointer = await mara.ask(team, question, world.bot_id)
        assert "nur im persönlichen Chat" in pointer.body, pointer.body
        assert CASE not in pointer.body and "#" not in pointer.body  # no case data
        assert "!hilfe" in pointer.body and "/" not in pointer.body
    for question in ("!notfall", "/notfall"):  # Element lets "/notfall" through as text
        assert "Notfallkontakt jetzt" in (await mara.ask(team, question, world.bot_id)).body
    group_help = await mara.ask(team, "!hilfe", world.bot_id)
    assert "!ag78" in group_help.body and "/ag78" not in group_help.body
    assert "!fristen" not in group_help.body  # only what a group may ask

    # The same person in the direct chat gets her data.
    assert f"Fall {CASE}" in (await mara.ask(dm, f"!fall {CASE}", world.bot_id)).body
    detail = await mara.ask(dm, "!hilfe ag78", world.bot_id)
    assert "!ag78" in detail.body and "/ag78" not in detail.body
    assert detail.formatted_body is not None and "<code>!ag78</code>" in detail.formatted_body


async def test_answers_go_to_the_thread_and_quote_the_question(world: MatrixWorld) -> None:
    await world.start_bot()
    mara, room = await world.caseworker("MK")
    bot = world.bot_id

    root = await mara.say(room, "!ag78")
    await mara.wait(lambda: mara.answers_to(room, bot, root) != [], "the answer to the root")
    first = mara.answers_to(room, bot, root)[0]
    assert first.thread_root is None and first.body.startswith("AG 78")
    assert first.formatted_body is not None and first.formatted_body.startswith("<b>AG 78")

    in_thread = await mara.say(
        room,
        "!notfall",
        **{
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": first.event_id},
            }
        },
    )
    await mara.wait(lambda: mara.answers_to(room, bot, in_thread) != [], "the thread answer")
    answer = mara.answers_to(room, bot, in_thread)[0]
    assert answer.thread_root == root and "Notfallkontakt jetzt" in answer.body
    assert answer.content["m.mentions"] == {"user_ids": [mara.user_id]}

    # Element's reply to koopbot's message: the quoted fallback lines come first.
    quoted = await mara.say(
        room,
        f"> <{bot}> AG 78 – kommende Termine:\n> Fr 09.05.2025, 09:00–12:00\n\n!notfall",
        format="org.matrix.custom.html",
        formatted_body=f"<mx-reply><blockquote>{first.body}</blockquote></mx-reply>!notfall",
        **{"m.relates_to": {"m.in_reply_to": {"event_id": first.event_id}}},
    )
    await mara.wait(lambda: mara.answers_to(room, bot, quoted) != [], "the quoted reply")
    assert "Notfallkontakt jetzt" in mara.answers_to(room, bot, quoted)[0].body
    assert mara.undecryptable == []


async def test_an_edit_of_an_answered_command_gets_a_hint(world: MatrixWorld) -> None:
    running = await world.start_bot()
    mara, room = await world.caseworker("MK")
    bot = world.bot_id
    asked = await mara.say(room, "!ag78")
    await mara.wait(lambda: mara.answers_to(room, bot, asked) != [], "the answer")
    edit = await mara.edit(room, asked, "!notfall")
    await mara.wait(lambda: len(mara.answers_to(room, bot, asked)) == 2, "the hint")
    answer, hint = mara.answers_to(room, bot, asked)
    assert answer.body.startswith("AG 78") and hint.notice
    assert "bearbeitet" in hint.body and "Notfallkontakt" not in hint.body
    marker = await mara.ask(room, "!hilfe", bot)  # nothing else came before it
    assert mara.received(room, bot)[-3:] == [answer, hint, marker]
    assert edit not in {m.reply_to for m in mara.received(room, bot)}
    # The person may see the answer before koopbot has marked it answered: wait for the mark.
    await mara.wait(lambda: running.adapter.stats.answered >= 4, "the answer marked")
    assert running.adapter.stats.answered == 4  # /start, !ag78, the hint, !hilfe


async def test_an_edit_before_the_answer_runs_the_edited_text(world: MatrixWorld) -> None:
    first = await world.start_bot()
    mara, room = await world.caseworker("MK")
    bot = world.bot_id
    await first.stop()
    asked = await mara.say(room, "!ag78")
    await mara.edit(room, asked, "!notfall")  # a typo fixed while koopbot was down
    before = len(mara.received(room, bot))

    await world.start_bot()
    await mara.wait(lambda: mara.answers_to(room, bot, asked) != [], "the answer")
    marker = await mara.ask(room, "!hilfe", bot)
    later = mara.received(room, bot)[before:]
    assert [m.reply_to for m in later] == [asked, marker.reply_to]
    assert later[0].body.startswith("Notfallkontakt jetzt")  # the edited text, once


async def test_a_direct_chat_known_only_by_its_invite_stays_private(world: MatrixWorld) -> None:
    """An installation from before koopbot kept `m.direct`: the invite's is_direct decides."""
    first = await world.start_bot()
    mara, room = await world.caseworker("MK")
    await first.stop()
    store = world.tmp / "koopbot-matrix"
    token = json.loads((store / "credentials.json").read_text())["access_token"]
    path = f"/_matrix/client/v3/user/{quote(world.bot_id, safe='')}/account_data/m.direct"
    world.synapse.request("PUT", path, {}, token=token)

    await world.start_bot()
    answer = await mara.ask(room, "!fristen", world.bot_id)
    assert "Deine offenen Fristen" in answer.body, answer.body
    assert world.synapse.request("GET", path, token=token) == {mara.user_id: [room]}
