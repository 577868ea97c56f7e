"""Splitting a command's arguments: positional tokens, key=value options, quotes, typed dates."""

from __future__ import annotations

import re
from typing import Final

from bot.errors import UserError
from bot.parsing.dates import DATE_RANGE_RE, DATE_TOKEN_RE, looks_like_date, weekday_word
from bot.parsing.echo import shown
from bot.parsing.text import normalized

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
    return DATE_TOKEN_RE.fullmatch(normalized(word)) is not None


def _weekday_not_handle(word: str) -> bool:
    """A weekday word, unless it is typed like a Kürzel (`MI`, `DO`: handles are upper case)."""
    bare = word.rstrip(".,")
    return weekday_word(normalized(bare)) is not None and not (bare.isupper() and len(bare) <= 3)


_CLOCK_TIME_RE = re.compile(r"\d{1,2}:\d{2}(?:\s*uhr)?", re.ASCII | re.IGNORECASE)


def _continues_date(previous: str, token: str, *, option: bool) -> bool:
    """Whether `token` goes on with the date or range of days that `previous` began.

    `Mi` + `20.03.2023`; `01.01.2025-Fr` + `31.12.2029`; `14.04.` + `bis`/`-`/`-18.04.`;
    `14.04. bis` + `18.04.`; in an option's value also `Mo` + `09:00` (uebergabe=Mo 09:00).
    Phones make people type these unquoted (issue 14, A2).
    """
    parts = DATE_RANGE_RE.split(previous)
    tail = parts[-1].split()
    head = DATE_RANGE_RE.split(token)[0]
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
