"""Issue 14, items 19 and 20: natural typing of the main questions, a short /hilfe, and
wording found by a new user."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from scheduler.clock import FixedClock
from tests.conftest import ChatUser

PHRASES = [
    ("hilfe bitte", "Das Wichtigste:"),
    ("Hilfe!", "Das Wichtigste:"),
    ("/hilfe bitte", "Das Wichtigste:"),
    ("meine fristen", "Deine offenen Fristen"),
    ("Meine Fristen?", "Deine offenen Fristen"),
    ("/fristen bitte", "Deine offenen Fristen"),
    ("was steht an?", "Deine offenen Fristen"),
    ("wer hat rufbereitschaft?", "Notfallkontakt jetzt:"),
    ("Wer hat Notdienst", "Notfallkontakt jetzt:"),
    ("wer hat bereitschaft", "Notfallkontakt jetzt:"),
    ("meine stunden", "Stunden"),
    ("zeig mir meine fälle", "Fälle"),
    ("nächste sitzung", "AG"),
]


@pytest.mark.parametrize(("text", "expected"), PHRASES)
def test_natural_phrases_mean_the_main_commands(
    demo: dict[str, ChatUser], text: str, expected: str
) -> None:
    reply = demo["JB"].say(text)
    assert expected in reply, reply
    assert "kenne ich nicht" not in reply and "keine Hilfe" not in reply


@pytest.mark.parametrize("text", ["Kowalski bitte", "wer hat Kowalski", "meine Kowalski"])
def test_other_words_stay_unknown_and_are_not_echoed(demo: dict[str, ChatUser], text: str) -> None:
    reply = demo["JB"].say(text)
    assert reply == texts.unknown_command() or reply == texts.NOT_UNDERSTOOD
    assert "Kowalski" not in reply


def test_a_stranger_typing_naturally_gets_the_one_refusal(demo: dict[str, ChatUser]) -> None:
    stranger = ChatUser(demo["JB"].bot, "user-nobody")
    assert stranger.say("wer hat rufbereitschaft?") == texts.STRANGER


@pytest.mark.parametrize("handle", ["MK", "JB", "LW", "TS", "EL", "TB"])
def test_hilfe_is_short_and_hilfe_alle_is_the_whole_list(
    demo: dict[str, ChatUser], handle: str
) -> None:
    short = demo[handle].say("/hilfe")
    assert len(short) <= 1200, len(short)
    assert "Das Wichtigste:" in short and "/hilfe alle" in short
    assert "/fristen – " in short and "/notfall – " in short
    full = demo[handle].say("/hilfe alle")
    assert "Das kannst du tun:" in full and len(full) > len(short)


def test_roles_are_named_the_same_and_with_one_bei(demo: dict[str, ChatUser]) -> None:
    assert demo["EL"].say("/hilfe").startswith("Eva Lind (EL) – Leitung im ASD,")
    invite = demo["MK"].say("/einladen koordination")
    assert invite.startswith(
        "Einladung für Koordination beim freien Träger (Familienhilfe Weserufer e. V.):"
    )
    assert " bei " not in invite.splitlines()[0]


def test_a_session_titled_sitzung_is_not_called_sitzung_twice(
    demo: dict[str, ChatUser],
) -> None:
    listing = demo["JB"].say("/ag78 alle")
    assert "Sitzung: Sitzung" not in listing
    assert "Sitzung 2. Quartal" in listing


def test_kalender_in_the_console_says_who_serves_the_links(demo: dict[str, ChatUser]) -> None:
    links = demo["JB"].say("/kalender")
    assert "http://127.0.0.1:8080/feeds/" in links
    assert links.splitlines()[-1].startswith("Hinweis: Die Links liefert der Web-Dienst")
    assert "koopbot chat allein beantwortet sie nicht" in links


def test_an_overlapping_absence_is_stored_with_a_warning(demo: dict[str, ChatUser]) -> None:
    first = demo["LW"].say("/abwesend urlaub 14.04.2027-25.04.2027")
    assert first.startswith("Eingetragen:") and "überschneidet" not in first
    second = demo["LW"].say("/abwesend krank 20.04.2027-30.04.2027")
    assert second.startswith("Eingetragen:")
    assert "⚠️ Diese Abwesenheit überschneidet sich mit einer schon eingetragenen" in second
    assert "Mi 14.04.2027 bis So 25.04.2027" in second


def test_an_end_without_year_in_next_year_is_noted(
    demo: dict[str, ChatUser], clock: FixedClock
) -> None:
    clock.set(datetime(2025, 12, 1, 9, tzinfo=ZoneInfo("Europe/Berlin")))
    reply = demo["LW"].say("/abwesend krank bis 18.04.")
    assert "bis Sa 18.04.2026" in reply
    assert "Hinweis: Ohne Jahreszahl verstehe ich das Ende als Sa 18.04.2026 (nächstes Jahr)" in (
        reply
    )
    plain = demo["JB"].say("/abwesend krank bis 19.12.")
    assert "Hinweis: Ohne Jahreszahl" not in plain


def test_the_shift_length_reads_as_german(demo: dict[str, ChatUser]) -> None:
    rota = demo["MK"].say("/rufbereitschaft")
    assert "Schicht wöchentlich" in rota and "Tag(e)" not in rota
    made = demo["MK"].say(
        '/rufbereitschaft_neu "Rufbereitschaft Nord" mitglieder=MK,JB schicht=3 uebergabe=18:00'
    )
    assert "Schicht alle 3 Tage" in made and "Tag(e)" not in made
