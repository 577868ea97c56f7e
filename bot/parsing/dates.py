"""German dates: parse_date, the shape of a date token, ranges of days."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final, Literal

from bot.errors import UserError
from bot.formatting import WEEKDAY_LONG, fmt_date
from bot.parsing.day_words import MONTH_WORDS, RELATIVE_DAY_WORDS, WEEKDAY_WORDS
from bot.parsing.echo import shown
from bot.parsing.text import normalized

Prefer = Literal["past", "future"]

# re.ASCII: \d is [0-9], so digits of other scripts are no date (NFKC has mapped full-width ones).
_DMY_RE = re.compile(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4})?)?", re.ASCII)
_DMY_MONTHNAME_RE = re.compile(r"(\d{1,2})\.?\s*([a-zäöü]+)\.?(?:\s*(\d{2}|\d{4}))?", re.ASCII)
_ISO_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_WEEKDAY_PREFIX_RE = re.compile(r"([a-zäöü]+)[.,\s]+(.+)", re.ASCII)
# Shapes that are dates for token classification (see the package docstring).
DATE_TOKEN_RE = re.compile(
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


def weekday_word(word: str) -> Weekday | None:
    """The weekday a normalised word names (`mo`, `di.`, `mittwoch`), or None."""
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
    weekday = weekday_word(s)
    if weekday is not None:
        return _weekday_date(weekday, today, prefer)
    if m := _ISO_RE.fullmatch(s):
        return _exact_date(int(m[3]), int(m[2]), int(m[1]))
    if m := _DMY_RE.fullmatch(s):
        day, month = int(m[1]), int(m[2])
        if m[3]:
            return _exact_date(day, month, _full_year(m[3]))
        return _date_without_year(day, month, today, prefer)
    if (m := _DMY_MONTHNAME_RE.fullmatch(s)) and m[2] in MONTH_WORDS:
        day, month = int(m[1]), MONTH_WORDS[m[2]]
        if m[3]:
            return _exact_date(day, month, _full_year(m[3]))
        return _date_without_year(day, month, today, prefer)
    return None


def parse_date(text: str, today: date, prefer: Prefer = "future") -> date:
    """A German date; `prefer` resolves dates without a year and bare weekdays."""
    s = normalized(text)
    if not s:
        raise UserError(f"Bitte gib ein Datum an. {_DATE_EXAMPLES}.")
    result = _parse_plain_date(s, today, prefer)
    if result is not None:
        return result
    if (m := _WEEKDAY_PREFIX_RE.fullmatch(s)) and (named := weekday_word(m[1])) is not None:
        rest = m[2].strip()
        if weekday_word(rest) is None:
            result = _parse_plain_date(rest, today, prefer)
            if result is not None:
                if result.weekday() != named:
                    raise WeekdayMismatch(result, named)
                return result
    raise UserError(f"{shown(text)} verstehe ich nicht als Datum. {_DATE_EXAMPLES}.")


def looks_like_date(token: str) -> bool:
    """Whether a token has the shape of a date (see the package docstring); also a weekday
    with a date, as `split_args` joins them (`Mo 20.03.2023`)."""
    s = normalized(token)
    if s.rstrip(".,") in RELATIVE_DAY_WORDS or weekday_word(s) is not None:
        return True
    if DATE_TOKEN_RE.fullmatch(s) is not None:
        return True
    weekday, _, rest = s.partition(" ")
    return (
        bool(rest)
        and weekday_word(weekday) is not None
        and DATE_TOKEN_RE.fullmatch(rest) is not None
    )


# A range of days: `14.04.-18.04.`, `Mi 19.03.2025-Fr 21.03.2025`, `14.04. bis 18.04.`.
# A hyphen separates only where no ISO date (2025-04-17) can contain it: after a dot, after
# d.m.yy / d.m.yyyy, before a letter (a weekday), after one before a digit (heute-18.04.), or
# with a space beside it.
DATE_RANGE_RE = re.compile(
    r"\s*(?:–|—|\bbis\b|(?<=\.)-|(?<=\.\d\d)-|(?<=\.\d{4})-|-(?=\s)|(?<=\s)-|-(?=[^\W\d_])"
    r"|(?<=[^\W\d_])-(?=\d))\s*",
    re.IGNORECASE,
)


def split_date_range(text: str) -> list[str]:
    """The parts of a typed range of days, without empty ones; one part if it is no range."""
    return [p for p in DATE_RANGE_RE.split(" ".join(text.split())) if p]
