"""Every free text that reaches another person or organisation goes through bot/names.py (P1):
a name is refused without being echoed, and nothing is stored."""

from __future__ import annotations

import pytest

from storage.db import Database
from tests.conftest import ChatUser
from tests.integration.helpers import row_counts

NAME = "Yilmaz"


@pytest.mark.parametrize(
    ("who", "text", "where"),
    [
        ("EL", f'/ag78_neu Fr 19.02.2027 9-12 titel="Fallbesprechung Familie {NAME}"', "titel="),
        (
            "EL",
            f'/ag78_neu Fr 19.02.2027 9-12 themen="Kind Leon {NAME}, Mutter Frau {NAME}, '
            'HB-2026-011"',
            "themen=",
        ),
        ("EL", f'/ag78_neu Fr 19.02.2027 9-12 ort="bei Familie {NAME} zu Hause"', "ort="),
        ("EL", f'/ag78_verlegen 12.05.2025 titel="Herr {NAME}"', "titel="),
        ("JB", f"/anpiepen Bitte zurückrufen, Mutter {NAME} wartet", "der Nachricht"),
        ("MK", f'/korrektur 1 1 grund="Termin mit Vater {NAME}"', "grund="),
        ("MK", f"/rufbereitschaft_neu Familie {NAME} mitglieder=JB", "dem Namen"),
    ],
)
def test_a_name_in_free_text_is_refused_without_echo(
    demo: dict[str, ChatUser], db: Database, who: str, text: str, where: str
) -> None:
    assert demo["EL"].say("/ag78_neu 12.05.2025 9-12").startswith("AG-78-Termin eingetragen")
    assert demo["JB"].say("/stunden 1 HB-2026-011 gestern").startswith("Erfasst #")
    before = row_counts(db)
    reply = demo[who].say(text)
    assert f"Das sieht aus, als stünde ein Name in {where}" in reply, reply
    assert NAME not in reply and "Leon" not in reply
    assert row_counts(db) == before


def test_the_same_texts_without_names_are_accepted(demo: dict[str, ChatUser]) -> None:
    reply = demo["EL"].say(
        '/ag78_neu Fr 19.02.2027 9-12 titel="Fallbesprechung HB-2026-011" '
        'themen="Kinder, Jugendliche und Familien; Eltern-Café" ort="Kreishaus, Saal 2"'
    )
    assert reply.startswith("AG-78-Termin eingetragen"), reply
