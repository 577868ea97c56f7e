"""Parsing of the German free-text arguments staff type on their phones.

Every function is pure: the current date is passed in, nothing reads the clock.
Every rejection raises `UserError` with a German message that names the input and shows
a correct example.

Token classification (for command parsers that accept arguments in any order):

- A token is a **date** if it is a relative word (heute, gestern, vorgestern, morgen,
  übermorgen), a weekday name or abbreviation (Mo, Di., Mittwoch, ...), ISO `2025-04-17`,
  `d.m.yy` / `d.m.yyyy`, `d.m.` (trailing dot, e.g. `17.4.`), or `d.mm` **with a two-digit
  month 01-12 and no trailing dot** (e.g. `17.04`, `1.05`).
- A token is a **duration** if it is not a date and is a number with a decimal comma or dot
  (`1,5`, `1.5`, `0,25`), an integer of at most two digits (`2`), `h:mm` (`1:30`), or a number
  with a unit (`90min`, `1,5h`, `2Std.`).
- So `1.5` and `1.50` are durations, but `1.05` is the 1st of May: decimal hours should use
  the comma, which is what German keyboards suggest anyway. `parse_date` itself still accepts
  `17.4` (one-digit month, no dot) when it is told the text is a date.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, Literal, TypeVar

from bot.errors import UserError
from bot.formatting import WEEKDAY_LONG, fmt_date, fmt_time
from bot.names import refuse_names
from config.enums import HoursCategory, LegalBasis, MissedReason, StaffType
from storage.bounds import MAX_ID, ascii_int, ascii_text

Prefer = Literal["past", "future"]

_MAX_SHOWN = 40
NOT_SHOWN: Final = "Diese Angabe"  # what shown() says instead of a word that may be a name


def shown(text: str) -> str:
    """The user's input, quoted and shortened, for an error message.

    Text without digits may be a client's name (P1), so it is never echoed back.
    """
    text = " ".join(text.split())
    if not _echoable(text):
        return NOT_SHOWN
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "…"
    return f"„{text}“"


def _norm(text: str) -> str:
    # NFKC: full-width digits are ASCII ones; the patterns below then accept [0-9] only.
    return " ".join(ascii_text(text).strip().lower().split())


# ---------------------------------------------------------------------------
# Dates

WEEKDAY_WORDS: Final[dict[str, int]] = {
    "mo": 0,
    "montag": 0,
    "di": 1,
    "dienstag": 1,
    "mi": 2,
    "mittwoch": 2,
    "do": 3,
    "donnerstag": 3,
    "fr": 4,
    "freitag": 4,
    "sa": 5,
    "samstag": 5,
    "sonnabend": 5,
    "so": 6,
    "sonntag": 6,
}

RELATIVE_DAY_WORDS: Final[dict[str, int]] = {
    "heute": 0,
    "gestern": -1,
    "vorgestern": -2,
    "morgen": 1,
    "übermorgen": 2,
    "uebermorgen": 2,
}

_MONTH_WORDS: Final[dict[str, int]] = {
    "januar": 1,
    "jan": 1,
    "jänner": 1,
    "februar": 2,
    "feb": 2,
    "märz": 3,
    "maerz": 3,
    "mär": 3,
    "mrz": 3,
    "april": 4,
    "apr": 4,
    "mai": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "dezember": 12,
    "dez": 12,
}

# re.ASCII: \d is [0-9], so digits of other scripts are no date (NFKC has mapped full-width ones).
_DMY_RE = re.compile(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4})?)?", re.ASCII)
_DMY_MONTHNAME_RE = re.compile(r"(\d{1,2})\.?\s*([a-zäöü]+)\.?(?:\s*(\d{2}|\d{4}))?", re.ASCII)
_ISO_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_WEEKDAY_PREFIX_RE = re.compile(r"([a-zäöü]+)[.,\s]+(.+)", re.ASCII)
# Shapes that are dates for token classification (see module docstring).
_DATE_TOKEN_RE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}\.\d{1,2}\.(?:\d{2}|\d{4})?"
    r"|\d{1,2}\.(?:0[1-9]|1[0-2])",
    re.ASCII,
)

_DATE_EXAMPLES = (
    "Beispiele: 17.04.2025, 17.4., 2025-04-17, heute, gestern, morgen, Mo oder Mittwoch, "
    "Mi 19.03.2025"
)

Weekday = int


class WeekdayMismatch(UserError):
    """The text named a weekday that the date does not fall on (DOMAIN.md A2)."""

    def __init__(self, actual: date, named_weekday: Weekday) -> None:
        real = WEEKDAY_LONG[actual.weekday()]
        super().__init__(
            f"Der {fmt_date(actual)} ist ein {real}, kein {WEEKDAY_LONG[named_weekday]}. "
            f"Meinst du {real}, {fmt_date(actual)}? Bitte gib das Datum noch einmal ohne "
            "Wochentag oder mit dem richtigen an."
        )
        self.date = actual
        self.named_weekday = named_weekday


def _weekday_word(word: str) -> Weekday | None:
    return WEEKDAY_WORDS.get(word.rstrip(".,"))


def _no_such_date(day: int, month: int, year: int | None) -> UserError:
    shown = f"{day:02d}.{month:02d}." + (f"{year:04d}" if year is not None else "")
    return UserError(f"Den {shown} gibt es nicht. Bitte prüfe Tag und Monat, z. B. 17.04.2025.")


def _full_year(raw: str) -> int:
    # Two-digit years are 20xx: nobody enters cases from the last century.
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


# Years koopbot works with: cases, hours and sessions of this century (also the bounds of
# the hours controlling); beyond them date arithmetic (a day after 31.12.9999) would fail.
MIN_YEAR: Final = 2000
MAX_YEAR: Final = 2100


def _exact_date(day: int, month: int, year: int) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise UserError(
            f"Das Jahr {year} liegt außerhalb dessen, was ich verarbeite ({MIN_YEAR}–{MAX_YEAR}). "
            "Beispiel: 17.04.2025."
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise _no_such_date(day, month, year) from None


def _date_without_year(day: int, month: int, today: date, prefer: Prefer) -> date:
    try:
        date(2000, month, day)  # a leap year: rules out only truly impossible days
    except ValueError:
        raise _no_such_date(day, month, None) from None
    step = -1 if prefer == "past" else 1
    year = today.year
    while True:  # ends within 8 years: 29.02. is the rarest valid day
        try:
            candidate = date(year, month, day)
        except ValueError:
            year += step
            continue
        if (prefer == "past" and candidate <= today) or (prefer == "future" and candidate >= today):
            return candidate
        year += step


def _weekday_date(weekday: Weekday, today: date, prefer: Prefer) -> date:
    if prefer == "past":
        return today - timedelta(days=(today.weekday() - weekday) % 7)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _parse_plain_date(s: str, today: date, prefer: Prefer) -> date | None:
    """A date without a leading weekday, or None if `s` has no date shape."""
    word = s.rstrip(".,")
    if word in RELATIVE_DAY_WORDS:
        return today + timedelta(days=RELATIVE_DAY_WORDS[word])
    weekday = _weekday_word(s)
    if weekday is not None:
        return _weekday_date(weekday, today, prefer)
    if m := _ISO_RE.fullmatch(s):
        return _exact_date(int(m[3]), int(m[2]), int(m[1]))
    if m := _DMY_RE.fullmatch(s):
        day, month = int(m[1]), int(m[2])
        if m[3]:
            return _exact_date(day, month, _full_year(m[3]))
        return _date_without_year(day, month, today, prefer)
    if (m := _DMY_MONTHNAME_RE.fullmatch(s)) and m[2] in _MONTH_WORDS:
        day, month = int(m[1]), _MONTH_WORDS[m[2]]
        if m[3]:
            return _exact_date(day, month, _full_year(m[3]))
        return _date_without_year(day, month, today, prefer)
    return None


def parse_date(text: str, today: date, prefer: Prefer = "future") -> date:
    """A German date; `prefer` resolves dates without a year and bare weekdays."""
    s = _norm(text)
    if not s:
        raise UserError(f"Bitte gib ein Datum an. {_DATE_EXAMPLES}.")
    result = _parse_plain_date(s, today, prefer)
    if result is not None:
        return result
    if (m := _WEEKDAY_PREFIX_RE.fullmatch(s)) and (named := _weekday_word(m[1])) is not None:
        rest = m[2].strip()
        if _weekday_word(rest) is None:
            result = _parse_plain_date(rest, today, prefer)
            if result is not None:
                if result.weekday() != named:
                    raise WeekdayMismatch(result, named)
                return result
    raise UserError(f"{shown(text)} verstehe ich nicht als Datum. {_DATE_EXAMPLES}.")


def looks_like_date(token: str) -> bool:
    """Whether a token has the shape of a date (see the module docstring); also a weekday
    with a date, as `split_args` joins them (`Mo 20.03.2023`)."""
    s = _norm(token)
    if s.rstrip(".,") in RELATIVE_DAY_WORDS or _weekday_word(s) is not None:
        return True
    if _DATE_TOKEN_RE.fullmatch(s) is not None:
        return True
    weekday, _, rest = s.partition(" ")
    return (
        bool(rest)
        and _weekday_word(weekday) is not None
        and _DATE_TOKEN_RE.fullmatch(rest) is not None
    )


# A range of days: `14.04.-18.04.`, `Mi 19.03.2025-Fr 21.03.2025`, `14.04. bis 18.04.`.
# A hyphen separates only where no ISO date (2025-04-17) can contain it: after a dot, after
# d.m.yy / d.m.yyyy, before a letter (a weekday), after one before a digit (heute-18.04.), or
# with a space beside it.
_DATE_RANGE_RE = re.compile(
    r"\s*(?:–|—|\bbis\b|(?<=\.)-|(?<=\.\d\d)-|(?<=\.\d{4})-|-(?=\s)|(?<=\s)-|-(?=[^\W\d_])"
    r"|(?<=[^\W\d_])-(?=\d))\s*",
    re.IGNORECASE,
)


def split_date_range(text: str) -> list[str]:
    """The parts of a typed range of days, without empty ones; one part if it is no range."""
    return [p for p in _DATE_RANGE_RE.split(" ".join(text.split())) if p]


# ---------------------------------------------------------------------------
# Times

_TIME_RE = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:uhr|h)?", re.ASCII)
_TIME_EXAMPLES = "Beispiele: 9, 09:00, 9:30, 14 Uhr"
_RANGE_SPLIT_RE = re.compile(r"\s*(?:-|–|—|\bbis\b)\s*", re.I)


def parse_time(text: str) -> time:
    """A time of day: 9, 09:00, 9:30, 9.30, 9 Uhr, 14h."""
    s = _norm(text)
    m = _TIME_RE.fullmatch(s)
    if not m:
        raise UserError(f"{shown(text)} verstehe ich nicht als Uhrzeit. {_TIME_EXAMPLES}.")
    hour, minute = int(m[1]), int(m[2] or 0)
    if hour > 23 or minute > 59:
        raise UserError(f"{shown(text)} ist keine gültige Uhrzeit. {_TIME_EXAMPLES}.")
    return time(hour, minute)


def parse_time_range(text: str) -> tuple[time, time]:
    """A start and end time: 9-12, 9–16 Uhr, 09:00-12:30, 9 bis 12."""
    # Split the text as typed: a part is echoed in a refusal, and lower-casing it first would
    # turn "Kowalski" into a word that no longer looks like a name.
    parts = _RANGE_SPLIT_RE.split(" ".join(ascii_text(text).split()))
    if len(parts) != 2 or not all(parts):
        raise UserError(
            f"{shown(text)} verstehe ich nicht als Zeitraum. Beispiele: 9-12, 09:00-12:30."
        )
    start, end = parse_time(parts[0]), parse_time(parts[1])
    if end <= start:
        raise UserError(
            f"In {shown(text)} liegt das Ende ({fmt_time(end)}) nicht nach dem Beginn "
            f"({fmt_time(start)}). Beispiel: 9-12."
        )
    return start, end


# ---------------------------------------------------------------------------
# Durations

MAX_DURATION_MINUTES: Final = 24 * 60

_HOUR_UNIT = r"h|std\.?|stdn\.?|stunden?"
_MINUTE_UNIT = r"m|min\.?|mins|minuten?"
_NUMBER = r"\d+(?:[.,]\d+)?|[.,]\d+"
_DURATION_HM_RE = re.compile(rf"(\d{{1,2}}):([0-5]\d)\s*(?:{_HOUR_UNIT})?", re.ASCII)
_DURATION_H_AND_M_RE = re.compile(
    rf"(\d{{1,2}})\s*(?:{_HOUR_UNIT})\s*(\d{{1,2}})\s*(?:{_MINUTE_UNIT})?", re.ASCII
)
_DURATION_UNIT_RE = re.compile(rf"({_NUMBER})\s*(?:({_HOUR_UNIT})|({_MINUTE_UNIT}))?", re.ASCII)
# More digits than any duration needs; a longer number would exceed Decimal's precision.
_MAX_DURATION_DIGITS: Final = 12
# Cheap shape check for token classification: bare integers only up to two digits.
_DURATION_TOKEN_RE = re.compile(
    rf"\d{{1,2}}:[0-5]\d"
    rf"|\d*[.,]\d+"
    rf"|\d{{1,2}}"
    rf"|(?:{_NUMBER})\s*(?:{_HOUR_UNIT}|{_MINUTE_UNIT})"
    rf"|\d{{1,2}}\s*(?:{_HOUR_UNIT})\s*\d{{1,2}}\s*(?:{_MINUTE_UNIT})?",
    re.ASCII,
)
_DURATION_EXAMPLES = "Beispiele: 1,5 (Stunden), 1:30, 90 min oder 2 Std"


def _decimal(raw: str) -> Decimal:
    try:
        return Decimal(raw.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the regex admits only numbers
        raise UserError(f"{shown(raw)} ist keine Zahl.") from None


def parse_duration(text: str) -> int:
    """A duration in whole minutes; bare numbers are hours (1,5 = 90 minutes)."""
    s = _norm(text)
    if s.startswith("-"):
        raise UserError(
            f"Die Dauer muss größer als 0 sein, {shown(text)} ist negativ. {_DURATION_EXAMPLES}."
        )
    bare = False
    if m := _DURATION_HM_RE.fullmatch(s):
        minutes = Decimal(int(m[1]) * 60 + int(m[2]))
    elif m := _DURATION_H_AND_M_RE.fullmatch(s):
        if int(m[2]) > 59:
            raise UserError(f"{shown(text)}: mehr als 59 Minuten. {_DURATION_EXAMPLES}.")
        minutes = Decimal(int(m[1]) * 60 + int(m[2]))
    elif m := _DURATION_UNIT_RE.fullmatch(s):
        if sum(c.isdigit() for c in m[1]) > _MAX_DURATION_DIGITS:
            raise UserError(f"Diese Zahl ist viel zu groß für eine Dauer. {_DURATION_EXAMPLES}.")
        value = _decimal(m[1])
        minutes = value if m[3] else value * 60
        bare = not m[2] and not m[3]
    else:
        raise UserError(f"{shown(text)} verstehe ich nicht als Dauer. {_DURATION_EXAMPLES}.")
    rounded = int(minutes.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if rounded <= 0:
        raise UserError(
            f"Die Dauer muss größer als 0 sein, {shown(text)} ergibt 0 Minuten. "
            f"{_DURATION_EXAMPLES}."
        )
    if rounded > MAX_DURATION_MINUTES:
        hint = f" Zahlen ohne Einheit sind Stunden – meinst du {m[1]} min?" if bare else ""
        raise UserError(f"{shown(text)} ist länger als 24 Stunden.{hint} {_DURATION_EXAMPLES}.")
    return rounded


def looks_like_duration(token: str) -> bool:
    """Whether a single token has the shape of a duration (see the module docstring)."""
    s = _norm(token)
    if looks_like_date(s):
        return False
    return _DURATION_TOKEN_RE.fullmatch(s) is not None


# ---------------------------------------------------------------------------
# Legal basis

_LEGAL_BASIS_RE = re.compile(
    r"(?:§+\s*)?(\d{2})\s*(?:(?:[.,]|abs\.?|absatz|\()\s*(\d+)\s*\)?)?"
    r"(?:\s*sgb\s*(?:viii|8))?",
    re.ASCII,
)
_LEGAL_BASIS_BY_NUMBER: Final[dict[tuple[str, str | None], LegalBasis]] = {
    ("27", "2"): LegalBasis.p27_2,
    ("29", None): LegalBasis.p29,
    ("30", None): LegalBasis.p30,
    ("31", None): LegalBasis.p31,
    ("35", None): LegalBasis.p35,
}
_LEGAL_BASIS_OPTIONS = "Möglich sind: § 27 Abs. 2, § 29, § 30, § 31, § 35 SGB VIII (z. B. §30)."


def parse_legal_basis(text: str) -> LegalBasis:
    """The legal basis of a help: §30, 30, §27.2, 27 Abs. 2, 27(2)."""
    s = _norm(text)
    m = _LEGAL_BASIS_RE.fullmatch(s)
    if m:
        key = (m[1], m[2])
        if key in _LEGAL_BASIS_BY_NUMBER:
            return _LEGAL_BASIS_BY_NUMBER[key]
        if key == ("27", None):
            raise UserError(
                "§ 27 allein reicht nicht: als ambulante Hilfe wird hier nur § 27 Abs. 2 SGB VIII "
                f"geführt (z. B. 27 Abs. 2 oder §27.2). {_LEGAL_BASIS_OPTIONS}"
            )
    raise UserError(f"{shown(text)} ist keine passende Rechtsgrundlage. {_LEGAL_BASIS_OPTIONS}")


# ---------------------------------------------------------------------------
# Case codes

CASE_CODE_DEFAULT: Final = r"^[A-Z]{1,5}-\d{4}-\d{1,5}$"
CASE_CODE_EXAMPLE: Final = "HB-2025-017"

_WORD_RE = re.compile(r"[^\W\d_]{3,}")


def _echoable(text: str) -> bool:
    """Digits, and no capitalised word: codes are upper case, names are not (P1)."""
    return not _looks_like_name(text)


def name_like_word(token: str) -> bool:
    """A capitalised word that is none of our date words: "Kowalski", not "Mittwoch"."""
    return any(
        w[0].isupper() and w[1:].islower() and w.lower() not in _ECHO_WORDS
        for w in _WORD_RE.findall(token)
    )


def _looks_like_name(text: str) -> bool:
    """No digit, or a capitalised word ("Müller 2025", "Kevin-2025-1"): codes are upper case."""
    if not any(c.isdigit() for c in text):
        return True
    return any(word[0].isupper() and word[1:].islower() for word in _WORD_RE.findall(text))


_ECHO_WORDS: Final = frozenset(
    [
        *WEEKDAY_WORDS,
        *RELATIVE_DAY_WORDS,
        *_MONTH_WORDS,
        *"uhr std stdn stunde stunden min mins minute minuten bis abs absatz sgb viii".split(),
    ]
)


def _is_case_code(code: str, pattern: str) -> bool:
    """`pattern` matched with ASCII classes (\\d is [0-9]), and no digit of another script."""
    if any(c.isdigit() and not c.isascii() for c in code):
        return False
    return re.fullmatch(pattern, code, re.ASCII) is not None


def parse_case_code(
    text: str, pattern: str = CASE_CODE_DEFAULT, *, example: str = CASE_CODE_EXAMPLE
) -> str:
    """A pseudonymous case code (Aktenzeichen), stripped and upper-cased."""
    stripped = ascii_text(text).strip()
    if not stripped:
        raise UserError(f"Bitte gib ein Aktenzeichen an, z. B. {example}.")
    code = stripped.upper()
    name_like = _looks_like_name(stripped)
    if _is_case_code(code, pattern) and not name_like:
        return code
    if name_like:
        # Never echo it: it may be a client's name (P1, Sozialdatenschutz).
        raise UserError(
            "Das sieht wie ein Name aus, nicht wie ein Aktenzeichen. Fälle werden nur mit "
            f"pseudonymem Aktenzeichen geführt (z. B. {example}) – bitte keine Namen von "
            "Klient*innen eingeben."
        )
    if any(c.isdigit() and not c.isascii() for c in code):
        raise UserError(f"Aktenzeichen bitte mit den Ziffern 0–9 schreiben, z. B. {example}.")
    raise UserError(f"{shown(stripped)} ist kein gültiges Aktenzeichen. Beispiel: {example}.")


# ---------------------------------------------------------------------------
# Numbers: record ids and counts (ASCII digits after NFKC, within the database's range)


def parse_id(text: str, usage: str) -> int:
    """A record number as lists show it (`12`, `#12`); `usage` is the German hint on refusal."""
    raw = ascii_text(text).strip().lstrip("#")
    if not _ASCII_DIGITS.fullmatch(raw):
        raise UserError(usage)
    number = ascii_int(raw)  # None: more than ten digits
    if number is None or not 1 <= number <= MAX_ID:
        raise UserError(f"Eine Nummer {_shown_number(raw)} gibt es nicht. {usage}")
    return number


def parse_count(text: str, low: int, high: int, usage: str) -> int:
    """A whole number from `low` to `high` (days, participants, months); German refusal."""
    number = ascii_int(text)
    if number is None or not low <= number <= high:
        raise UserError(usage)
    return number


_ASCII_DIGITS = re.compile(r"[0-9]+")


def _shown_number(raw: str) -> str:
    return raw if len(raw) <= 12 else raw[:11] + "…"


# ---------------------------------------------------------------------------
# Text the database and the messengers can carry


def invalid_characters(text: str) -> bool:
    """Lone surrogates (no UTF-8 exists for them) and control characters other than
    tab and line breaks (PostgreSQL refuses NUL in text)."""
    return any(
        0xD800 <= ord(c) <= 0xDFFF or (unicodedata.category(c) == "Cc" and c not in "\t\n\r")
        for c in text
    )


# ---------------------------------------------------------------------------
# Keywords

_E = TypeVar("_E")


def _keyword(text: str, words: dict[str, _E], what: str, examples: str) -> _E:
    s = _norm(text).rstrip(".").replace("_", "-")
    if s in words:
        return words[s]
    raise UserError(f"{shown(text)} ist keine gültige Angabe für {what}. Möglich: {examples}.")


CATEGORY_WORDS: Final[dict[str, HoursCategory]] = {
    "direkt": HoursCategory.direct,
    "direct": HoursCategory.direct,
    "klient": HoursCategory.direct,
    "fall": HoursCategory.direct,
    "gruppe": HoursCategory.group,
    "gruppenangebot": HoursCategory.group,
    "fallübergreifend": HoursCategory.group,
    "group": HoursCategory.group,
    "fallunspezifisch": HoursCategory.non_case,
    "noncase": HoursCategory.non_case,
    "non-case": HoursCategory.non_case,
    "netzwerk": HoursCategory.network,
    "netzwerkarbeit": HoursCategory.network,
    "network": HoursCategory.network,
    "beratung": HoursCategory.informal_advice,
    "ohne-hze": HoursCategory.informal_advice,
    "ohnehze": HoursCategory.informal_advice,
    "informell": HoursCategory.informal_advice,
    "informal-advice": HoursCategory.informal_advice,
    "ausfall": HoursCategory.missed,
    "ausgefallen": HoursCategory.missed,
    "missed": HoursCategory.missed,
}


def parse_category(text: str) -> HoursCategory:
    """An hours category from a German keyword (direkt, gruppe, netzwerk, ...)."""
    return _keyword(
        text,
        CATEGORY_WORDS,
        "die Kategorie",
        "direkt, gruppe, fallunspezifisch, netzwerk, beratung (ohne HzE), ausfall",
    )


MISSED_REASON_WORDS: Final[dict[str, MissedReason]] = {
    "abgesagt": MissedReason.cancelled_by_family,
    "absage": MissedReason.cancelled_by_family,
    "nicht-angetroffen": MissedReason.not_met,
    "nichtangetroffen": MissedReason.not_met,
    "nicht angetroffen": MissedReason.not_met,
    "na": MissedReason.not_met,
    "krank": MissedReason.illness,
    "krankheit": MissedReason.illness,
    "sonstiges": MissedReason.other,
    "sonstige": MissedReason.other,
    "cancelled-by-family": MissedReason.cancelled_by_family,
    "not-met": MissedReason.not_met,
    "illness": MissedReason.illness,
    "other": MissedReason.other,
}


def parse_missed_reason(text: str) -> MissedReason:
    """Why a session did not happen: abgesagt, nicht-angetroffen, krank, sonstiges."""
    return _keyword(
        text,
        MISSED_REASON_WORDS,
        "den Ausfallgrund",
        "abgesagt, nicht-angetroffen, krank, sonstiges",
    )


STAFF_TYPE_WORDS: Final[dict[str, StaffType]] = {
    "fk": StaffType.fachkraft,
    "fachkraft": StaffType.fachkraft,
    "semi": StaffType.semiprofessional,
    "semiprofessionell": StaffType.semiprofessional,
    "semiprofessional": StaffType.semiprofessional,
}


def parse_staff_type(text: str) -> StaffType:
    """Fachkraft (fk) or semiprofessionell (semi)."""
    return _keyword(text, STAFF_TYPE_WORDS, "die Mitarbeitendenart", "fachkraft (fk), semi")


_BOOL_WORDS: Final[dict[str, bool]] = {
    "ja": True,
    "j": True,
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "nein": False,
    "n": False,
    "no": False,
    "false": False,
    "0": False,
}


def parse_bool(text: str) -> bool:
    """ja/nein (also j/n, yes/no, true/false, 1/0)."""
    return _keyword(text, _BOOL_WORDS, "ja/nein", "ja, nein")


# ---------------------------------------------------------------------------
# Argument splitting

# Phone keyboards replace " with typographic quotes, so accept those too (not the apostrophe:
# "geht's" is ordinary German).
_OPEN_QUOTES: Final = '"„“”«»'
_CLOSE_QUOTES: Final = '"“”»«'
_KEY_RE = re.compile(r"([^\W\d_][\w-]*)[=:]")


def _tokens(text: str) -> list[tuple[str, str, bool]]:
    """(value without quotes, the part typed before the first quote, quoted) per token."""
    tokens: list[tuple[str, str, bool]] = []
    current: list[str] = []
    prefix: str | None = None
    in_token = False
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            if in_token:
                value = "".join(current)
                tokens.append((value, value if prefix is None else prefix, prefix is not None))
                current, prefix, in_token = [], None, False
        elif c in _OPEN_QUOTES:
            end = next((j for j in range(i + 1, len(text)) if text[j] in _CLOSE_QUOTES), -1)
            if end < 0:
                raise UserError(
                    f"Bei {shown(text[i:])} fehlt das schließende Anführungszeichen. "
                    'Beispiel: notiz="Termin verschoben"'
                )
            if prefix is None:
                prefix = "".join(current)
            current.append(text[i + 1 : end])
            in_token = True
            i = end
        else:
            current.append(c)
            in_token = True
        i += 1
    if in_token:
        value = "".join(current)
        tokens.append((value, value if prefix is None else prefix, prefix is not None))
    return tokens


_RANGE_WORDS: Final = frozenset({"-", "–", "—", "bis"})


def _starts_date(word: str) -> bool:
    """A date shape (`20.03.2023`, `17.04.`, ISO), not a bare weekday or relative word."""
    return _DATE_TOKEN_RE.fullmatch(_norm(word)) is not None


def _weekday_not_handle(word: str) -> bool:
    """A weekday word, unless it is typed like a Kürzel (`MI`, `DO`: handles are upper case)."""
    bare = word.rstrip(".,")
    return _weekday_word(_norm(bare)) is not None and not (bare.isupper() and len(bare) <= 3)


_CLOCK_TIME_RE = re.compile(r"\d{1,2}:\d{2}(?:\s*uhr)?", re.ASCII | re.IGNORECASE)


def _continues_date(previous: str, token: str, *, option: bool) -> bool:
    """Whether `token` goes on with the date or range of days that `previous` began.

    `Mi` + `20.03.2023`; `01.01.2025-Fr` + `31.12.2029`; `14.04.` + `bis`/`-`/`-18.04.`;
    `14.04. bis` + `18.04.`; in an option's value also `Mo` + `09:00` (uebergabe=Mo 09:00).
    Phones make people type these unquoted (issue 14, A2).
    """
    parts = _DATE_RANGE_RE.split(previous)
    tail = parts[-1].split()
    head = _DATE_RANGE_RE.split(token)[0]
    if not tail:  # previous ends with a range separator: the range's end follows
        return (
            len(parts) > 1
            and looks_like_date(parts[-2])
            and (_starts_date(head) or _weekday_not_handle(head))
        )
    if _weekday_not_handle(tail[-1]) and (
        _starts_date(head) or (option and len(tail) == 1 and _CLOCK_TIME_RE.fullmatch(token))
    ):
        return True
    opens_range = token.lower() in _RANGE_WORDS or token[:1] in "-–—"
    return opens_range and looks_like_date(" ".join(tail[-2:]))


def split_args(text: str) -> tuple[list[str], dict[str, str]]:
    """Positional tokens and key=value / key:value options; "..." quotes keep spaces.

    An unquoted date goes on over the tokens that continue it (`_continues_date`), in an
    option's value as in the positional ones: `beginn=Mi 20.03.2023` is one value, so the
    weekday check (A2) sees both, and `Mi 19.03.2025-Fr 21.03.2025` is one range.
    """
    positional: list[str] = []
    options: dict[str, str] = {}
    last: str | None = None  # where the previous unquoted token went: an option key or ""
    for value, typed_prefix, quoted in _tokens(text):
        # A key starts with a letter, so 1:30 and 09:00 stay positional; "//" keeps URLs whole.
        m = _KEY_RE.match(typed_prefix)
        is_option = m is not None and not value[m.end() :].startswith("//")
        if not is_option and not quoted and last is not None:
            before = options[last] if last else positional[-1]
            if _continues_date(before, value, option=bool(last)):
                joined = f"{before} {value}"
                if last:
                    options[last] = joined
                else:
                    positional[-1] = joined
                continue
        if not is_option:
            positional.append(value)
            last = None if quoted else ""
            continue
        assert m is not None
        key = m[1].lower()
        if key in options:
            raise UserError(
                f"„{key}“ steht doppelt in der Eingabe. Bitte nur einmal angeben, z. B. {key}=…"
            )
        options[key] = value[m.end() :]
        last = None if quoted else key
    return positional, options


# ---------------------------------------------------------------------------
# Short free text (pages, issue 6)


def parse_short_text(text: str, max_chars: int) -> str:
    """A short message for colleagues (a page): one line, no client names (P1, bot/names.py)."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise UserError(
            "Bitte eine kurze Nachricht angeben, z. B.: Bitte dringend zurückrufen, HB-2025-017."
        )
    if len(cleaned) > max_chars:
        raise UserError(
            f"Die Nachricht ist zu lang (höchstens {max_chars} Zeichen). Bitte kurz fassen; "
            "Einzelheiten am Telefon."
        )
    refuse_names(cleaned, where="der Nachricht")  # bot/names.py: the one name check
    return cleaned
