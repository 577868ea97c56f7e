"""What the database can hold: id range, and ASCII-only numbers typed by people."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Ids are INTEGER columns: 32 bits on PostgreSQL (SQLite would take 64), so a number typed in
# chat must fit the smaller one before it reaches a query.
MAX_ID: Final = 2**31 - 1

_ASCII_NUMBER = re.compile(r"[0-9]+")


def ascii_text(text: str) -> str:
    """NFKC-normalised text: full-width and other compatibility digits become ASCII ones.

    Digits of other scripts (Arabic-Indic, Devanagari, ...) stay as they are and are then
    refused by `[0-9]`, so `HB-２０２６-０１１` is `HB-2026-011` and no look-alike code exists.
    """
    return unicodedata.normalize("NFKC", text)


def ascii_int(text: str, *, max_digits: int = 10) -> int | None:
    """The number `text` spells in ASCII digits (after NFKC), or None; never raises."""
    raw = ascii_text(text).strip()
    if not raw or len(raw) > max_digits or not _ASCII_NUMBER.fullmatch(raw):
        return None
    return int(raw)


def db_id(text: str) -> int | None:
    """A record id typed by a person (`12`, `#12`), if it can exist in the database."""
    value = ascii_int(ascii_text(text).strip().lstrip("#"))
    return value if value is not None and 1 <= value <= MAX_ID else None
