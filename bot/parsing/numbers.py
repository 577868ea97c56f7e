"""Record numbers and counts: ASCII digits after NFKC, within the database's range."""

from __future__ import annotations

import re

from bot.errors import UserError
from storage.bounds import MAX_ID, ascii_int, ascii_text


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
