"""Durations in whole minutes: 1,5 (hours), 1:30, 90 min, 2 Std; the shape of a duration token."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

from bot.errors import UserError
from bot.parsing.dates import looks_like_date
from bot.parsing.echo import shown
from bot.parsing.text import normalized

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
    s = normalized(text)
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
    """Whether a single token has the shape of a duration (see the package docstring)."""
    s = normalized(token)
    if looks_like_date(s):
        return False
    return _DURATION_TOKEN_RE.fullmatch(s) is not None
