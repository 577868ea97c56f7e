"""Property: whatever anyone types, as every role and as a stranger, in private or in a group:

- it never reaches the internal-error path (no apology, nothing logged as an error);
- no reply contains a name-like word of the input (outside a free text stored on purpose);
- a refusal changes nothing in the database.

The commands come from the registry, so a new command is covered as soon as it registers.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.commands  # noqa: F401  (registers the commands)
from bot import texts
from bot.registry import REGISTRY, Command
from tests.property.strategies import PRIVATE, Line, command_line, free_line
from tests.property.world import World

WHO = ("MK", "JB", "LW", "TS", "EL", "TB", "stranger")


def check(world: World, who: str, line: Line, private: bool) -> None:
    world.restore()
    world.errors.records.clear()
    before = world.state()
    reply = world.say(who, line.text, private=private)
    assert reply.text != texts.SORRY, line.text
    assert not world.errors.records, [r.getMessage() for r in world.errors.records]
    shown = " ".join([reply.text, *(f"{b.label} {b.command}" for b in reply.buttons)]).lower()
    for name in line.names:
        assert name.lower() not in shown, (name, line.text, reply)
    if reply.refused:
        assert world.state() == before, (line.text, reply.text)
    if who == "stranger" and not line.text.lstrip("/!").lower().startswith("start"):
        assert reply.text == texts.STRANGER, (line.text, reply.text)


@pytest.mark.parametrize("command", REGISTRY.commands, ids=lambda c: c.name)
def test_every_command_as_everyone(world: World, command: Command) -> None:
    @given(line=command_line(command), who=st.sampled_from(WHO), private=PRIVATE)
    def run(line: Line, who: str, private: bool) -> None:
        check(world, who, line, private)

    run()


@given(line=free_line(), who=st.sampled_from(WHO), private=PRIVATE)
def test_any_text_as_everyone(world: World, line: Line, who: str, private: bool) -> None:
    check(world, who, line, private)
