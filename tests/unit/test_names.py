"""The one name check of free text (P1): a marker word followed by a capitalised word."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.names import names_a_person, refuse_names


@pytest.mark.parametrize(
    "text",
    [
        "Fallbesprechung Familie Yilmaz",
        "Kind Leon Yilmaz, Mutter Frau Yilmaz, HB-2026-011",
        "Termin mit Herrn Schulze",
        "Frau K. ruft an",
        "fam. Meier",
        "Fam. Meier",
        "Rückruf Vater Özdemir",
        "Sohn Ömer fehlt",
        "Tochter Lea",
        "Oma Gertrud holt ab",
        "Opa Heinz",
        "Eltern Yilmaz sagen ab",
        "Großmutter Ilse",
        "Pflegemutter Kraus",
        "KM Yilmaz",
        "KV Schmidt",
        "Mutter: Frau Y.",
        "Geschwister Anna und Ben",
        "die Familie „Yilmaz“",
        "Klientin Sandra",
        "Jugendlicher Kevin",
        "Kindsvater Bauer",
    ],
)
def test_a_marker_before_a_capitalised_word_is_a_name(text: str) -> None:
    assert names_a_person(text)
    with pytest.raises(UserError) as exc:
        refuse_names(text, where="themen=")
    assert "Das sieht aus, als stünde ein Name in themen=" in exc.value.message
    assert exc.value.message == _refusal("Familie X")  # the same words whatever the input


@pytest.mark.parametrize(
    "text",
    [
        "Sitzung 2. Quartal 2027",
        "Berichte aus den Trägern; Soziale Gruppenarbeit (§ 29 SGB VIII)",
        "Familie HB-2026-011: Hilfeplan vorbereiten",
        "Kinder, Jugendliche und Familien",
        "Mutter-Kind-Gruppe und Eltern-Café",
        "12 km Fahrt zum Hausbesuch",
        "familie meier",  # lower case cannot be told from ordinary words
        "Kreishaus, Sitzungssaal 2",
        "Rückruf wegen Kind.",
        "Schutzkonzept für Kinder",
        "",
    ],
)
def test_ordinary_text_passes_unchanged(text: str) -> None:
    assert not names_a_person(text)
    assert refuse_names(text, where="titel=") == text


def _refusal(text: str) -> str:
    with pytest.raises(UserError) as exc:
        refuse_names(text, where="themen=")
    return exc.value.message
