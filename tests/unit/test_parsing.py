"""Table-driven tests for bot.parsing."""

from __future__ import annotations

import re
from datetime import date, time

import pytest

from bot.errors import UserError
from bot.parsing.args import split_args
from bot.parsing.case_codes import parse_case_code
from bot.parsing.dates import WeekdayMismatch, looks_like_date, parse_date, split_date_range
from bot.parsing.durations import looks_like_duration, parse_duration
from bot.parsing.keywords import (
    CATEGORY_WORDS,
    parse_bool,
    parse_category,
    parse_legal_basis,
    parse_missed_reason,
    parse_staff_type,
)
from bot.parsing.times import parse_time, parse_time_range
from config.enums import HoursCategory, LegalBasis, MissedReason, StaffType

TODAY = date(2025, 4, 16)  # a Wednesday


# --- parse_date -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "prefer", "expected"),
    [
        ("17.04.2025", "future", date(2025, 4, 17)),
        ("17.4.2025", "future", date(2025, 4, 17)),
        ("17.04.25", "future", date(2025, 4, 17)),
        ("  17.04.2025 ", "past", date(2025, 4, 17)),
        ("2025-04-17", "future", date(2025, 4, 17)),
        ("1.1.99", "past", date(2099, 1, 1)),
        # no year: nearest on/after today (future) or not after today (past)
        ("17.4.", "future", date(2025, 4, 17)),
        ("17.4.", "past", date(2024, 4, 17)),
        ("17.04.", "past", date(2024, 4, 17)),
        ("17.4", "future", date(2025, 4, 17)),
        ("16.4.", "past", date(2025, 4, 16)),
        ("16.4.", "future", date(2025, 4, 16)),
        ("15.4.", "future", date(2026, 4, 15)),
        ("15.4.", "past", date(2025, 4, 15)),
        ("29.2.", "future", date(2028, 2, 29)),
        ("29.2.", "past", date(2024, 2, 29)),
        ("17. April", "future", date(2025, 4, 17)),
        ("3. Okt. 2025", "future", date(2025, 10, 3)),
        # relative words
        ("heute", "past", TODAY),
        ("Heute", "future", TODAY),
        ("gestern", "future", date(2025, 4, 15)),
        ("vorgestern", "future", date(2025, 4, 14)),
        ("morgen", "past", date(2025, 4, 17)),
        ("übermorgen", "past", date(2025, 4, 18)),
        ("uebermorgen", "future", date(2025, 4, 18)),
        # weekdays: today counts in both directions
        ("Mi", "past", TODAY),
        ("Mittwoch", "future", TODAY),
        ("Mo", "past", date(2025, 4, 14)),
        ("Mo", "future", date(2025, 4, 21)),
        ("mo.", "future", date(2025, 4, 21)),
        ("Montag,", "past", date(2025, 4, 14)),
        ("DO", "future", date(2025, 4, 17)),
        ("Do", "past", date(2025, 4, 10)),
        ("Fr", "future", date(2025, 4, 18)),
        ("Sa", "future", date(2025, 4, 19)),
        ("Sonnabend", "future", date(2025, 4, 19)),
        ("So", "past", date(2025, 4, 13)),
        ("Sonntag", "future", date(2025, 4, 20)),
        ("Di", "future", date(2025, 4, 22)),
        ("Dienstag", "past", date(2025, 4, 15)),
        ("Freitag", "past", date(2025, 4, 11)),
        ("Samstag", "past", date(2025, 4, 12)),
        ("Donnerstag", "future", date(2025, 4, 17)),
        # weekday followed by a date that agrees
        ("Mo 20.03.2023", "future", date(2023, 3, 20)),
        ("Montag, 20.03.2023", "future", date(2023, 3, 20)),
        ("Do, 17.4.", "future", date(2025, 4, 17)),
        ("Do. 17.04.2025", "future", date(2025, 4, 17)),
        ("Do 2025-04-17", "future", date(2025, 4, 17)),
        ("Do morgen", "future", date(2025, 4, 17)),
    ],
)
def test_parse_date_accepts(text: str, prefer: str, expected: date) -> None:
    assert parse_date(text, TODAY, prefer=prefer) == expected  # type: ignore[arg-type]


def test_parse_date_defaults_to_future() -> None:
    assert parse_date("Mo", TODAY) == date(2025, 4, 21)


@pytest.mark.parametrize(
    ("text", "actual", "named", "fragment"),
    [
        # DOMAIN.md A2: the seed calls 20.03.2023 a Wednesday; it was a Monday.
        (
            "Mi 20.03.2023",
            date(2023, 3, 20),
            2,
            "Der 20.03.2023 ist ein Montag, kein Mittwoch. Meinst du Montag, 20.03.2023?",
        ),
        ("Mittwoch, 20.03.2023", date(2023, 3, 20), 2, "kein Mittwoch"),
        ("Mo, 17.4.", date(2025, 4, 17), 0, "Der 17.04.2025 ist ein Donnerstag, kein Montag."),
    ],
)
def test_parse_date_weekday_mismatch(text: str, actual: date, named: int, fragment: str) -> None:
    with pytest.raises(WeekdayMismatch) as exc:
        parse_date(text, TODAY)
    assert exc.value.date == actual
    assert exc.value.named_weekday == named
    assert fragment in exc.value.message
    assert "ohne Wochentag" in exc.value.message
    assert isinstance(exc.value, UserError)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("31.02.2025", "Den 31.02.2025 gibt es nicht."),
        ("29.2.2025", "Den 29.02.2025 gibt es nicht."),
        ("32.1.", "Den 32.01. gibt es nicht."),
        ("31.4.", "Den 31.04. gibt es nicht."),
        ("17.13.2025", "Den 17.13.2025 gibt es nicht."),
        ("2025-02-30", "Den 30.02.2025 gibt es nicht."),
        ("0.5.", "Den 00.05. gibt es nicht."),
        ("Mi 31.02.2025", "Den 31.02.2025 gibt es nicht."),
        ("bald", "Diese Angabe verstehe ich nicht als Datum"),
        ("17.4.202", "„17.4.202“"),
        ("Mo Di", "Diese Angabe verstehe ich nicht als Datum"),
        ("HB-2025-017", "„HB-2025-017“"),
        ("", "Bitte gib ein Datum an"),
    ],
)
def test_parse_date_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_date(text, TODAY)
    assert fragment in exc.value.message
    assert "17.04.2025" in exc.value.message  # a correct example


# --- parse_time / parse_time_range -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9", time(9)),
        ("09:00", time(9)),
        ("9:30", time(9, 30)),
        ("9.30", time(9, 30)),
        ("9 Uhr", time(9)),
        ("9:30 Uhr", time(9, 30)),
        ("14h", time(14)),
        ("0:00", time(0)),
        ("23:59", time(23, 59)),
    ],
)
def test_parse_time_accepts(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("25:00", "„25:00“ ist keine gültige Uhrzeit"),
        ("24", "„24“ ist keine gültige Uhrzeit"),
        ("9:60", "„9:60“ ist keine gültige Uhrzeit"),
        ("mittags", "Diese Angabe verstehe ich nicht als Uhrzeit"),
        ("9:3", "„9:3“"),
    ],
)
def test_parse_time_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_time(text)
    assert fragment in exc.value.message
    assert "9:30" in exc.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9-12", (time(9), time(12))),
        ("9–16 Uhr", (time(9), time(16))),
        ("09:00-12:30", (time(9), time(12, 30))),
        ("9 Uhr - 12 Uhr", (time(9), time(12))),
        ("9 bis 12", (time(9), time(12))),
    ],
)
def test_parse_time_range_accepts(text: str, expected: tuple[time, time]) -> None:
    assert parse_time_range(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("12-9", "liegt das Ende (09:00) nicht nach dem Beginn (12:00)"),
        ("9-9", "nicht nach dem Beginn"),
        ("9", "„9“ verstehe ich nicht als Zeitraum"),
        ("9-", "„9-“"),
        ("9-25", "„25“ ist keine gültige Uhrzeit"),
    ],
)
def test_parse_time_range_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_time_range(text)
    assert fragment in exc.value.message


# --- parse_duration --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1,5", 90),
        ("1.5", 90),
        ("1:30", 90),
        ("90 min", 90),
        ("90min", 90),
        ("90 Min.", 90),
        ("1,5h", 90),
        ("1,5 h", 90),
        ("1,5 Std", 90),
        ("1,5 Std.", 90),
        ("2 Stunden", 120),
        ("1 Stunde", 60),
        ("45 Minuten", 45),
        ("0,25", 15),
        (",5", 30),
        ("2", 120),
        ("1h30", 90),
        ("1 Std. 30 Min.", 90),
        ("0,33", 20),  # 19.8 minutes, rounded
        ("0,01", 1),  # 0.6 minutes, rounded half up
        ("24", 1440),
    ],
)
def test_parse_duration_accepts(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0", "größer als 0"),
        ("0 min", "größer als 0"),
        ("0,001", "größer als 0"),
        ("-1", "„-1“ ist negativ"),
        ("25", "meinst du 25 min?"),
        ("90", "meinst du 90 min?"),
        ("1500 min", "„1500 min“ ist länger als 24 Stunden"),
        ("1:75", "„1:75“ verstehe ich nicht als Dauer"),
        ("lang", "Diese Angabe verstehe ich nicht als Dauer"),
        ("", "verstehe ich nicht als Dauer"),
    ],
)
def test_parse_duration_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_duration(text)
    assert fragment in exc.value.message
    assert "1,5" in exc.value.message
    assert "Std.." not in exc.value.message


# --- token classification -------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "is_date", "is_duration"),
    [
        ("17.4.", True, False),
        ("17.04.", True, False),
        ("17.04", True, False),  # two-digit month without trailing dot: a date
        ("1.05", True, False),
        ("17.04.2025", True, False),
        ("17.4.25", True, False),
        ("2025-04-17", True, False),
        ("gestern", True, False),
        ("Heute", True, False),
        ("übermorgen", True, False),
        ("Mo", True, False),
        ("Mi.", True, False),
        ("Mittwoch,", True, False),
        ("Mo 20.03.2023", True, False),  # a weekday with its date, joined by split_args
        ("Mo 1,5", False, False),
        ("32.1.", True, False),  # date-shaped; parse_date explains why it is wrong
        ("1.5", False, True),  # one-digit "month" without trailing dot: hours
        ("1.50", False, True),  # "month" 50: hours
        ("17.4", False, True),
        ("1,5", False, True),
        ("0,25", False, True),
        ("1:30", False, True),
        ("2", False, True),
        ("90min", False, True),
        ("1,5h", False, True),
        ("2Std.", False, True),
        ("1h30", False, True),
        ("HB-2025-017", False, False),
        ("direkt", False, False),
        ("2025", False, False),
        ("§30", False, False),
        ("", False, False),
    ],
)
def test_token_classification(token: str, is_date: bool, is_duration: bool) -> None:
    assert looks_like_date(token) is is_date
    assert looks_like_duration(token) is is_duration


# --- legal basis ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("§30", LegalBasis.p30),
        ("§ 30", LegalBasis.p30),
        ("30", LegalBasis.p30),
        ("§ 30 SGB VIII", LegalBasis.p30),
        ("§29", LegalBasis.p29),
        ("31", LegalBasis.p31),
        ("§35", LegalBasis.p35),
        ("§27.2", LegalBasis.p27_2),
        ("§27,2", LegalBasis.p27_2),
        ("27.2", LegalBasis.p27_2),
        ("27 Abs. 2", LegalBasis.p27_2),
        ("§ 27 Abs 2", LegalBasis.p27_2),
        ("§ 27 Absatz 2 SGB VIII", LegalBasis.p27_2),
        ("27(2)", LegalBasis.p27_2),
        ("27 (2)", LegalBasis.p27_2),
    ],
)
def test_parse_legal_basis_accepts(text: str, expected: LegalBasis) -> None:
    assert parse_legal_basis(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("§27", "§ 27 allein reicht nicht"),
        ("27", "nur § 27 Abs. 2 SGB VIII"),
        ("§32", "„§32“ ist keine passende Rechtsgrundlage"),
        ("27 Abs. 3", "ist keine passende Rechtsgrundlage"),
        ("Erziehungsbeistand", "Diese Angabe ist keine passende Rechtsgrundlage"),
    ],
)
def test_parse_legal_basis_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_legal_basis(text)
    assert fragment in exc.value.message
    assert "§ 27 Abs. 2, § 29, § 30, § 31, § 35 SGB VIII" in exc.value.message


# --- case codes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HB-2025-017", "HB-2025-017"),
        (" hb-2025-017 ", "HB-2025-017"),
        ("Hb-2025-017", "HB-2025-017"),
        ("nord-2025-1", "NORD-2025-1"),
        ("A-2024-1", "A-2024-1"),
        ("ABCDE-2025-12345", "ABCDE-2025-12345"),
    ],
)
def test_parse_case_code_accepts(text: str, expected: str) -> None:
    assert parse_case_code(text) == expected


def test_parse_case_code_custom_pattern() -> None:
    assert parse_case_code("f123", r"^F\d{3}$", example="F001") == "F123"
    with pytest.raises(UserError) as exc:
        parse_case_code("F12", r"^F\d{3}$", example="F001")
    assert "„F12“" in exc.value.message
    assert "F001" in exc.value.message


@pytest.mark.parametrize(
    "text",
    ["Müller", "Familie Schmidt", "Lena", "lena", "HBX", "Müller 2025", "Kevin-2025-1"],
)
def test_parse_case_code_name_like_is_not_echoed(text: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_case_code(text)
    message = exc.value.message
    assert "Das sieht wie ein Name aus" in message
    assert "bitte keine Namen von Klient*innen eingeben" in message
    assert "HB-2025-017" in message
    for word in re.findall(r"[^\W\d_]+", text):
        assert word not in message
        assert word.upper() not in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("HB2025017", "„HB2025017“ ist kein gültiges Aktenzeichen"),
        ("HB-25-017", "„HB-25-017“"),
        ("ABCDEF-2025-1", "„ABCDEF-2025-1“"),
        ("", "Bitte gib ein Aktenzeichen an"),
    ],
)
def test_parse_case_code_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_case_code(text)
    assert fragment in exc.value.message
    assert "HB-2025-017" in exc.value.message


# --- keywords ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("direkt", HoursCategory.direct),
        ("Direct", HoursCategory.direct),
        ("klient", HoursCategory.direct),
        ("fall", HoursCategory.direct),
        ("gruppe", HoursCategory.group),
        ("Gruppenangebot", HoursCategory.group),
        ("group", HoursCategory.group),
        ("fallunspezifisch", HoursCategory.non_case),
        ("noncase", HoursCategory.non_case),
        ("non_case", HoursCategory.non_case),
        ("netzwerk", HoursCategory.network),
        ("network", HoursCategory.network),
        ("beratung", HoursCategory.informal_advice),
        ("ohne-hze", HoursCategory.informal_advice),
        ("ohneHzE", HoursCategory.informal_advice),
        ("informell", HoursCategory.informal_advice),
        ("ausfall", HoursCategory.missed),
        ("ausgefallen", HoursCategory.missed),
        ("missed", HoursCategory.missed),
    ],
)
def test_parse_category(text: str, expected: HoursCategory) -> None:
    assert parse_category(text) == expected
    assert CATEGORY_WORDS[text.lower().replace("_", "-")] == expected


def test_category_words_cover_every_category() -> None:
    assert set(CATEGORY_WORDS.values()) == set(HoursCategory)
    assert all(word == word.lower() for word in CATEGORY_WORDS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abgesagt", MissedReason.cancelled_by_family),
        ("nicht-angetroffen", MissedReason.not_met),
        ("nichtangetroffen", MissedReason.not_met),
        ("NA", MissedReason.not_met),
        ("krank", MissedReason.illness),
        ("Krankheit", MissedReason.illness),
        ("sonstiges", MissedReason.other),
    ],
)
def test_parse_missed_reason(text: str, expected: MissedReason) -> None:
    assert parse_missed_reason(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fk", StaffType.fachkraft),
        ("Fachkraft", StaffType.fachkraft),
        ("semi", StaffType.semiprofessional),
        ("semiprofessionell", StaffType.semiprofessional),
    ],
)
def test_parse_staff_type(text: str, expected: StaffType) -> None:
    assert parse_staff_type(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ja", True),
        ("Ja", True),
        ("j", True),
        ("yes", True),
        ("true", True),
        ("1", True),
        ("nein", False),
        ("n", False),
        ("no", False),
        ("false", False),
        ("0", False),
    ],
)
def test_parse_bool(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


@pytest.mark.parametrize(
    ("func", "text", "example"),
    [
        (parse_category, "stunden", "direkt"),
        (parse_missed_reason, "weg", "abgesagt"),
        (parse_staff_type, "chefin", "fachkraft"),
        (parse_bool, "vielleicht", "ja, nein"),
    ],
)
def test_keyword_rejects(func: object, text: str, example: str) -> None:
    assert callable(func)
    with pytest.raises(UserError) as exc:
        func(text)
    assert text not in exc.value.message  # words without digits may be names: never echoed
    assert "Diese Angabe" in exc.value.message
    assert example in exc.value.message


@pytest.mark.parametrize("text", ["Müller", "Familie Schmidt", "lena"])
def test_names_are_never_echoed(text: str) -> None:
    for parse in (
        lambda t: parse_date(t, date(2025, 4, 7)),
        parse_time,
        parse_duration,
        parse_legal_basis,
        parse_case_code,
    ):
        with pytest.raises(UserError) as exc:
            parse(text)
        assert text not in exc.value.message


# --- split_args ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "positional", "options"),
    [
        ("", [], {}),
        ("HB-2025-017 1,5 gestern", ["HB-2025-017", "1,5", "gestern"], {}),
        ("1:30 09:00 direkt", ["1:30", "09:00", "direkt"], {}),
        ("fall=HB-2025-017 1,5", ["1,5"], {"fall": "HB-2025-017"}),
        ("Ort:Rathaus 9-12", ["9-12"], {"ort": "Rathaus"}),
        ('notiz="Termin verschoben" 1', ["1"], {"notiz": "Termin verschoben"}),
        ("notiz=„Termin verschoben“", [], {"notiz": "Termin verschoben"}),
        ("notiz:“zwei Wörter”", [], {"notiz": "zwei Wörter"}),
        ('"a:b c"', ["a:b c"], {}),
        ("Übergabe=Mo", [], {"übergabe": "Mo"}),
        ("teilnehmende=5", [], {"teilnehmende": "5"}),
        ("grund=", [], {"grund": ""}),
        ("https://meet.example.org/ag78", ["https://meet.example.org/ag78"], {}),
        ("link=https://x.example/a", [], {"link": "https://x.example/a"}),
        ("geht's  gut", ["geht's", "gut"], {}),
        # Issue 14: a date goes on over the tokens that continue it (A2 sees the weekday).
        ("beginn=Mi 20.03.2023 traeger=JB", [], {"beginn": "Mi 20.03.2023", "traeger": "JB"}),
        ("HB-1 beginn=Mo 20.03.2023 §30", ["HB-1", "§30"], {"beginn": "Mo 20.03.2023"}),
        ("Mo 21.12. TS", ["Mo 21.12.", "TS"], {}),
        ("Mittwoch, 19.03.2025 9-12", ["Mittwoch, 19.03.2025", "9-12"], {}),
        ("urlaub Mi 19.03.2025-Fr 21.03.2025", ["urlaub", "Mi 19.03.2025-Fr 21.03.2025"], {}),
        ("laufzeit=Mi 01.01.2025-Fr 31.12.2027", [], {"laufzeit": "Mi 01.01.2025-Fr 31.12.2027"}),
        ("laufzeit=Mi 01.01.2025-31.12.2027", [], {"laufzeit": "Mi 01.01.2025-31.12.2027"}),
        ("laufzeit=01.01.2025 - 31.12.2027", [], {"laufzeit": "01.01.2025 - 31.12.2027"}),
        ("laufzeit=01.01.2025- 31.12.2027", [], {"laufzeit": "01.01.2025- 31.12.2027"}),
        ("14.04. bis Fr 18.04. vertretung=JB", ["14.04. bis Fr 18.04."], {"vertretung": "JB"}),
        ("uebergabe=Mo 09:00 zweite=keine", [], {"uebergabe": "Mo 09:00", "zweite": "keine"}),
        ("krank bis 18.04.", ["krank", "bis", "18.04."], {}),
        ("Mo 1,5 direkt", ["Mo", "1,5", "direkt"], {}),  # a duration does not continue a date
        ("Mo 09:00", ["Mo", "09:00"], {}),  # nor a time, outside an option's value
        # A Kürzel typed in capitals (MI, DO) is no weekday that a date continues.
        ("DO 14.04.-18.04.", ["DO", "14.04.-18.04."], {}),
        ("asd=MI 17.04.2025", ["17.04.2025"], {"asd": "MI"}),
        # Quotes mark where a value ends.
        ('beginn="Mi" 20.03.2023', ["20.03.2023"], {"beginn": "Mi"}),
        ('"Mo" 21.12.', ["Mo", "21.12."], {}),
    ],
)
def test_split_args(text: str, positional: list[str], options: dict[str, str]) -> None:
    assert split_args(text) == (positional, options)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('notiz="offen', "fehlt das schließende Anführungszeichen"),
        ("ort=A ort=B", "„ort“ steht doppelt"),
    ],
)
def test_split_args_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UserError) as exc:
        split_args(text)
    assert fragment in exc.value.message


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("14.04.-18.04.", ["14.04.", "18.04."]),
        ("Mi 19.03.2025-Fr 21.03.2025", ["Mi 19.03.2025", "Fr 21.03.2025"]),
        ("01.01.2025-31.12.2029", ["01.01.2025", "31.12.2029"]),
        ("14.04.25-18.04.25", ["14.04.25", "18.04.25"]),
        ("14.04.2025 bis 25.04.2025", ["14.04.2025", "25.04.2025"]),
        ("14.04. – 18.04.", ["14.04.", "18.04."]),
        ("2025-04-14 bis 2025-04-18", ["2025-04-14", "2025-04-18"]),  # ISO keeps its hyphens
        ("2025-04-14", ["2025-04-14"]),
        ("heute-Fr 18.04.", ["heute", "Fr 18.04."]),
        ("heute-18.04.", ["heute", "18.04."]),
        ("18.04.", ["18.04."]),
    ],
)
def test_split_date_range(text: str, parts: list[str]) -> None:
    assert split_date_range(text) == parts
