"""Bounded parsers (issue 12): ids, counts, years, ASCII digits, valid text."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import UserError
from bot.parsing.case_codes import parse_case_code
from bot.parsing.dates import parse_date
from bot.parsing.durations import parse_duration
from bot.parsing.echo import name_like_word, shown
from bot.parsing.numbers import parse_count, parse_id
from bot.parsing.text import invalid_characters
from bot.parsing.times import parse_time, parse_time_range
from storage.bounds import MAX_ID, ascii_int, db_id

TODAY = date(2025, 4, 7)
USAGE = "Bitte die Nummer angeben, z. B. /erledigt 12."


@pytest.mark.parametrize(
    ("text", "number"),
    [("12", 12), ("#12", 12), (" 7 ", 7), ("１２", 12), ("²", 2), (str(MAX_ID), MAX_ID)],
)
def test_parse_id_accepts(text: str, number: int) -> None:
    assert parse_id(text, USAGE) == number


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", USAGE),
        ("", USAGE),
        ("-1", USAGE),
        ("1_0", USAGE),
        ("٣", USAGE),  # Arabic-Indic: NFKC keeps it, [0-9] refuses it
        ("1e5", USAGE),
        ("0", f"Eine Nummer 0 gibt es nicht. {USAGE}"),
        (str(MAX_ID + 1), f"Eine Nummer 2147483648 gibt es nicht. {USAGE}"),
        ("9223372036854775808", f"Eine Nummer 92233720368… gibt es nicht. {USAGE}"),
        ("9" * 5000, f"Eine Nummer 99999999999… gibt es nicht. {USAGE}"),
    ],
)
def test_parse_id_refuses_in_german(text: str, message: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_id(text, USAGE)
    assert exc.value.message == message


@pytest.mark.parametrize("text", ["0", "31", "x", "²²²", "1_0", "٣", "99999999999"])
def test_parse_count_refuses_outside_its_range(text: str) -> None:
    with pytest.raises(UserError, match=r"^Bitte 1 bis 30"):
        parse_count(text, 1, 30, "Bitte 1 bis 30 Tage, z. B. 3.")


def test_parse_count_accepts_full_width() -> None:
    assert parse_count("３", 1, 30, "-") == 3


def test_storage_helpers_never_raise() -> None:
    assert db_id("9223372036854775808") is None
    assert db_id("#5") == 5
    assert ascii_int("٣") is None
    assert ascii_int("9" * 5000) is None


@pytest.mark.parametrize(
    "text", ["31.12.9999", "01.01.0001", "9999-12-31", "0001-01-01", "31.12.1999", "01.01.2101"]
)
def test_years_outside_2000_to_2100_are_refused(text: str) -> None:
    with pytest.raises(
        UserError, match=r"liegt außerhalb dessen, was ich verarbeite \(2000–2100\)"
    ):
        parse_date(text, TODAY)


def test_full_width_digits_are_read_and_other_scripts_refused() -> None:
    assert parse_date("１７.０４.２０２５", TODAY) == date(2025, 4, 17)
    assert parse_time("９:３０").hour == 9
    with pytest.raises(UserError, match="verstehe ich nicht als Datum"):
        parse_date("١٧.٠٤.٢٠٢٥", TODAY)


def test_a_duration_too_long_for_decimal_is_a_german_answer() -> None:
    with pytest.raises(UserError, match="viel zu groß für eine Dauer"):
        parse_duration("99999999999999999999999999999,5")


@pytest.mark.parametrize(
    ("text", "code"),
    [("HB-２０２６-０１１", "HB-2026-011"), ("hb-2026-011", "HB-2026-011")],
)
def test_case_codes_are_nfkc_ascii(text: str, code: str) -> None:
    assert parse_case_code(text) == code


@pytest.mark.parametrize("text", ["HB-٢٠٢٦-٠١١", "HB-۲۰۲۶-۰۱۱", "HB-२०२६-०११"])
def test_other_digits_are_no_case_code(text: str) -> None:
    with pytest.raises(UserError, match="Ziffern 0–9"):
        parse_case_code(text)


def test_the_configured_pattern_matches_ascii_only() -> None:
    # \d in a configured pattern still means [0-9].
    with pytest.raises(UserError):
        parse_case_code("A-٢٠٢٦", r"^[A-Z]-\d{4}$")
    assert parse_case_code("A-2026", r"^[A-Z]-\d{4}$") == "A-2026"


@pytest.mark.parametrize("text", ["a\ud800b", "\udfff", "x\x00", "\x1b[31m", "a\x7fb", "\x85"])
def test_invalid_characters(text: str) -> None:
    assert invalid_characters(text)


@pytest.mark.parametrize("text", ["Grüße 🙂 👨‍👩‍👧", "Zeile\nZeile\tTab\r", "ＨＢ", "\u200b"])
def test_valid_text(text: str) -> None:
    assert not invalid_characters(text)


@pytest.mark.parametrize(
    ("text", "echo"),
    [
        ("Kowalski 12", "Diese Angabe"),
        ("Kowalski", "Diese Angabe"),
        ("25:00", "„25:00“"),
        ("ABCDEF-2025-1", "„ABCDEF-2025-1“"),
    ],
)
def test_shown_never_echoes_a_name(text: str, echo: str) -> None:
    assert shown(text) == echo


def test_a_time_range_echoes_the_part_as_typed() -> None:
    # It was lower-cased before it was shown: „12 kowalski“ came back.
    with pytest.raises(UserError) as exc:
        parse_time_range("9-12 Kowalski")
    assert "owalski" not in exc.value.message
    with pytest.raises(UserError, match="„25:00“ ist keine gültige Uhrzeit"):
        parse_time_range("9 BIS 25:00")


def test_name_like_word() -> None:
    assert name_like_word("Kowalski")
    assert not name_like_word("Mittwoch")
    assert not name_like_word("workshop")
    assert not name_like_word("HB-2025-017")
