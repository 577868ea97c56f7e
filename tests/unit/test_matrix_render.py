"""The Matrix adapter's pure translation: HTML rendering, relations, the text of incoming
events, transaction ids, stored credentials."""

from __future__ import annotations

import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.matrix_login import Credentials, MatrixStartError
from bot.matrix_render import (
    Relation,
    command_text,
    deadline_ids,
    delivery_tx_id,
    relation,
    relation_of,
    render,
    reply_tx_id,
    strip_reply_fallback,
    to_html,
)
from bot.messages import Button, Reply
from config.errors import ConfigError
from config.loading import load_settings
from config.messengers import MatrixSettings

NAMES = ["fristen", "erledigt", "hilfe", "ag78", "spaeter", "stunden", "notfall", "fall"]
ELEMENT_TAGS = {"div", "b", "code", "ul", "li", "br", "p", "a"}


def parse_html(formatted: str) -> ET.Element:
    """Parse as XML (balanced tags, valid entities); `<br>` is HTML's only void tag here."""
    return ET.fromstring(f"<div>{formatted.replace('<br>', '<br/>')}</div>")


def text_of_html(formatted: str) -> str:
    """What Element shows of the HTML, as lines: list items and paragraphs on lines of their own."""
    root = parse_html(formatted)
    lines: list[str] = [""]

    def walk(node: ET.Element) -> None:
        block = node.tag in ("p", "li")
        if block and lines[-1]:
            lines.append("")
        lines[-1] += node.text or ""
        for child in node:
            if child.tag == "br":
                lines.append("")
            else:
                walk(child)
            lines[-1] += child.tail or ""
        if block:
            lines.append("")

    walk(root)
    return "\n".join(line.replace("\u00a0", " ").strip() for line in lines if line.strip())


def plain_lines(body: str) -> str:
    return "\n".join(re.sub(r"^• ", "", line.strip()) for line in body.split("\n") if line.strip())


REPLIES = [
    "Hallo",
    "a\nb",
    "<b>&'\"",
    "Deine offenen Fristen bis 06.06.2025: 2, davon 1 überfällig\n"
    "⚠️ #9 HB-2026-003 Bericht – Fr 28.03.2025 (seit 10 Tagen überfällig)\n"
    "#12 HB-2025-041 Bericht – Do 17.04.2025 (in 10 Tagen)\n"
    "Erledigt? /erledigt NUMMER, z. B. /erledigt 9",
    "Notfallkontakt jetzt:\nRufbereitschaft Weserufer (Träger):\n"
    "  Mara Koch (MK), Tel. 0421 555-1010\n  bis Mo 14.04.2025, 09:00, danach Jonas Berg",
    "/fristen (auch /deadlines) – Deine Fristen\n    z. B. /fristen (oder /fristen alle)\n"
    "/erledigt – Frist als erledigt markieren\n    z. B. /erledigt 12",
    "Mara Koch (MK) – Koordination\n\nDas kannst du tun:\nFristen:\n/fristen – Deine Fristen\n"
    "/erledigt – erledigt markieren\n\nBeispiele: /hilfe BEFEHL (z. B. /hilfe stunden).",
    "Was möchtest du erfassen? Beispiele:\n  /stunden 1,5 HB-2025-017 (direkt, heute)\n"
    '  /stunden 2 gruppe teilnehmer=6 17.04.\n  /ag78 alle ort="Kreishaus, Saal 2"',
    "Deine Kalender-Abos:\nAG 78 – Termine:\n  https://koopbot.example.org/feeds/abc.ics\n",
    "Erinnerung:\n• #12 HB-2025-017 Bericht – Di 22.04.2025 (in 7 Tagen)\n"
    "Erledigt: /erledigt NUMMER · später erinnern: /spaeter NUMMER TAGE",
]


@pytest.mark.parametrize("text", REPLIES)
def test_html_is_well_formed_and_says_what_the_body_says(text: str) -> None:
    content = render(Reply(text), NAMES)
    assert content["msgtype"] == "m.text" and content["format"] == "org.matrix.custom.html"
    root = parse_html(content["formatted_body"])  # raises if malformed
    assert {node.tag for node in root.iter()} <= ELEMENT_TAGS
    assert text_of_html(content["formatted_body"]) == plain_lines(content["body"])
    assert "/" + "fristen" not in content["body"].replace("/feeds", "")


@pytest.mark.parametrize(
    ("text", "body", "html"),
    [
        ("Hallo", "Hallo", "Hallo"),
        ("a\nb", "a\nb", "a<br>b"),
        ("<b>&'\"", "<b>&'\"", "&lt;b&gt;&amp;'\""),
        ("/fristen zeigt alles", "!fristen zeigt alles", "<code>!fristen</code> zeigt alles"),
        ("Siehe /hilfe.", "Siehe !hilfe.", "Siehe <code>!hilfe</code>."),
        ("/hilfe ag78 und /ag78", "!hilfe ag78 und !ag78", None),  # names with digits too
        ("ASD/Träger und /unbekannt", "ASD/Träger und /unbekannt", "ASD/Träger und /unbekannt"),
        ("https://t.me/fristen", "https://t.me/fristen", None),
        (
            "Bitte Nummer, z. B. /erledigt 12. /fristen zeigt sie.",
            "Bitte Nummer, z. B. !erledigt 12. !fristen zeigt sie.",
            "Bitte Nummer, z. B. <code>!erledigt 12</code>. <code>!fristen</code> zeigt sie.",
        ),
        (
            "/spaeter NUMMER TAGE, z. B. /fall HB-2025-017",
            "!spaeter NUMMER TAGE, z. B. !fall HB-2025-017",
            "<code>!spaeter NUMMER TAGE</code>, z. B. <code>!fall HB-2025-017</code>",
        ),
    ],
)
def test_commands_are_written_with_a_bang_and_shown_as_code(
    text: str, body: str, html: str | None
) -> None:
    content = render(Reply(text), NAMES)
    assert content["body"] == body
    if html is not None:
        assert content["formatted_body"] == html


def test_headings_lists_and_indentation() -> None:
    html = to_html(REPLIES[3].replace("/", "!"), NAMES)
    assert html.startswith("<b>Deine offenen Fristen bis 06.06.2025: 2, davon 1 überfällig</b><ul>")
    assert html.count("<li>") == 2 and "<li>#12 HB-2025-041 Bericht" in html
    oncall = to_html(REPLIES[4], NAMES)
    assert "<b>Notfallkontakt jetzt:</b>" in oncall
    assert "<li>Mara Koch (MK), Tel. 0421 555-1010<br>bis Mo 14.04.2025" in oncall
    loose = to_html("Hinweis\n  eingerückt", NAMES)
    assert loose == "Hinweis<br>\u00a0\u00a0eingerückt"  # Element collapses plain spaces
    link = to_html(REPLIES[8], NAMES)
    assert '<a href="https://koopbot.example.org/feeds/abc.ics">' in link


def test_a_single_deadline_gets_reactions_several_keep_the_typed_command() -> None:
    one = Reply(
        "Erinnerung:\n• #9 Bericht",
        (Button("✅ #9 erledigt", "/erledigt 9"), Button("⏰ #9 morgen", "/spaeter 9 1")),
    )
    assert deadline_ids(one) == (9,)
    body = render(one, NAMES)["body"]
    assert body.endswith(
        "Reagiere mit ✅, wenn es erledigt ist, oder mit 💤, um morgen wieder erinnert zu werden."
    )
    assert "!erledigt 9" not in body
    several = Reply("Fristen", (Button("✓ #9", "/erledigt 9"), Button("✓ #4", "/erledigt 4")))
    assert deadline_ids(several) == (9, 4)
    assert render(several, NAMES)["body"] == "Fristen"
    other = Reply("Piepser", (Button("✅ Quittieren", "/quittieren 3"),))
    assert deadline_ids(other) == ()
    assert render(other, ["quittieren"])["body"] == "Piepser\n\n• ✅ Quittieren: !quittieren 3"


def test_answers_reply_in_the_thread_of_the_command() -> None:
    assert relation("$cmd", None) == {"m.in_reply_to": {"event_id": "$cmd"}}
    assert relation("$cmd", "$root") == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$cmd"},
    }
    content = render(Reply("x"), relates_to=relation("$c", None), notice=True, mention="@a:hs")
    assert content["msgtype"] == "m.notice" and content["m.relates_to"]["m.in_reply_to"]
    assert content["m.mentions"] == {"user_ids": ["@a:hs"]}


def test_incoming_relations() -> None:
    assert relation_of({"body": "x"}) == Relation()
    thread = {"rel_type": "m.thread", "event_id": "$root", "is_falling_back": True,
              "m.in_reply_to": {"event_id": "$last"}}  # fmt: skip
    assert relation_of({"m.relates_to": thread}) == Relation(thread_root="$root")
    chosen = {**thread, "is_falling_back": False}
    assert relation_of({"m.relates_to": chosen}) == Relation(thread_root="$root", reply_to="$last")
    edit = {"m.relates_to": {"rel_type": "m.replace", "event_id": "$old"}}
    assert relation_of(edit) == Relation(edit_of="$old")


def test_reply_fallbacks_and_edits_are_read_as_typed() -> None:
    quoted = "> <@koopbot:hs> Deine offenen Fristen:\n> #12 Bericht\n\n!erledigt 12"
    assert strip_reply_fallback(quoted) == "!erledigt 12"
    assert (
        strip_reply_fallback("> ein Zitat ohne Absender\n\nText")
        == "> ein Zitat ohne Absender\n\nText"
    )
    reply = {"body": quoted, "m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}}
    assert command_text(reply) == "!erledigt 12"
    edit = {
        "body": "* !notfall",
        "m.new_content": {"msgtype": "m.text", "body": "!notfall"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"},
    }
    assert command_text(edit) == "!notfall"


def test_transaction_ids_are_stable_and_distinct() -> None:
    assert reply_tx_id("$a") == reply_tx_id("$a") != reply_tx_id("$b")
    assert delivery_tx_id("k") == delivery_tx_id("k") != delivery_tx_id("l")
    assert reply_tx_id("x") != delivery_tx_id("x")


def test_credentials_are_private_to_the_owner(tmp_path: Path) -> None:
    path = tmp_path / "matrix" / "credentials.json"
    Credentials("http://hs", "@k:hs", "DEV", "secret").save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Credentials.load(path) == Credentials("http://hs", "@k:hs", "DEV", "secret")
    assert Credentials.load(tmp_path / "none.json") is None
    path.write_text('{"user_id": "@k:hs"}')
    with pytest.raises(MatrixStartError, match="lacks"):
        Credentials.load(path)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOOPBOT_CONFIG", raising=False)
    monkeypatch.setenv("KOOPBOT_MATRIX__HOMESERVER", "https://matrix.example.org")
    monkeypatch.setenv("KOOPBOT_MATRIX__USER_ID", "@koopbot:example.org")
    monkeypatch.setenv("KOOPBOT_MATRIX__PASSWORD", "geheim")
    monkeypatch.setenv("KOOPBOT_MATRIX__UNDECRYPTABLE_NOTICE_SECONDS", "5")
    matrix = load_settings(None).matrix
    assert matrix.configured and matrix.undecryptable_notice_seconds == 5
    assert matrix.nio_log_level == "WARNING"
    assert matrix.password is not None and "geheim" not in repr(matrix)


def test_a_bad_user_id_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOOPBOT_CONFIG", raising=False)
    monkeypatch.setenv("KOOPBOT_MATRIX__USER_ID", "koopbot")
    with pytest.raises(ConfigError, match=r"matrix\.user_id"):
        load_settings(None)
    assert not MatrixSettings().configured
