"""Every kind of answer the core gives, rendered for Matrix: well-formed HTML that shows what
the plain body says, with `!` commands (as Element users type them) and none with `/`."""

from __future__ import annotations

import pytest

from bot.core import Bot
from bot.matrix_render import render
from bot.messages import Incoming
from tests.conftest import ChatUser
from tests.unit.test_matrix_render import ELEMENT_TAGS, parse_html, plain_lines, text_of_html

COMMANDS = [
    "/hilfe",
    "/hilfe fristen",
    "/hilfe stunden",
    "/hilfe ag78",
    "/fristen",
    "/fristen alle",
    "/faelle",
    "/fall HB-2026-007",
    "/notfall",
    "/ag78",
    "/kalender",
    "/stunden",
    "/stunden 1,5 HB-2026-007",
    "/meinestunden",
    "/quartal",
    "/erledigt x",
    "/fall_neu",
    "/hpg",
    "/rufbereitschaft",
    "/unbekannt",
    "was?",
]


@pytest.mark.parametrize("text", COMMANDS)
def test_each_answer_renders_for_element(text: str, bot: Bot, demo: dict[str, ChatUser]) -> None:
    names = [n for cmd in bot.registry.commands for n in (cmd.name, *cmd.aliases)]
    reply = bot.handle(Incoming(demo["MK"].sender, "!room", text))
    content = render(reply, names)
    root = parse_html(content["formatted_body"])
    assert {node.tag for node in root.iter()} <= ELEMENT_TAGS
    assert text_of_html(content["formatted_body"]) == plain_lines(content["body"])
    words = {f"/{n}" for n in names}
    assert not [w for w in content["body"].split() if w.rstrip(".,:;)") in words]
