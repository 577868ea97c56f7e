"""The Matrix adapter's pure translation: HTML rendering, transaction ids, stored credentials."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.matrix import Credentials, MatrixStartError, delivery_tx_id, render, reply_tx_id
from bot.messages import Button, Reply
from config.settings import ConfigError, MatrixSettings, load_settings

NAMES = ["fristen", "erledigt", "hilfe"]


@pytest.mark.parametrize(
    ("text", "body", "html"),
    [
        ("Hallo", "Hallo", "Hallo"),
        ("a\nb", "a\nb", "a<br>b"),
        ("<b>&'\"", "<b>&'\"", "&lt;b&gt;&amp;&#x27;&quot;"),
        ("/fristen zeigt alles", "!fristen zeigt alles", "!fristen zeigt alles"),
        ("Siehe /hilfe.", "Siehe !hilfe.", "Siehe !hilfe."),
        ("ASD/Träger und /unbekannt", "ASD/Träger und /unbekannt", "ASD/Träger und /unbekannt"),
        ("https://t.me/fristen", "https://t.me/fristen", "https://t.me/fristen"),
    ],
)
def test_render_plain_and_escaped_html(text: str, body: str, html: str) -> None:
    content = render(Reply(text), NAMES)
    assert content["msgtype"] == "m.text"
    assert content["format"] == "org.matrix.custom.html"
    assert content["body"] == body
    assert content["formatted_body"] == html


def test_buttons_become_suggested_commands() -> None:
    content = render(Reply("Fristen", (Button("✓ #9 Bericht", "/erledigt 9"),)), NAMES)
    assert content["body"] == "Fristen\n\n• ✓ #9 Bericht: !erledigt 9"
    assert content["formatted_body"].endswith("<br><br>• ✓ #9 Bericht: !erledigt 9")


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
    matrix = load_settings(None).matrix
    assert matrix.configured
    assert matrix.password is not None and "geheim" not in repr(matrix)


def test_a_bad_user_id_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOOPBOT_CONFIG", raising=False)
    monkeypatch.setenv("KOOPBOT_MATRIX__USER_ID", "koopbot")
    with pytest.raises(ConfigError, match=r"matrix\.user_id"):
        load_settings(None)
    assert not MatrixSettings().configured
