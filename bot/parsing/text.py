"""Typed text as such: the normalised form the parsers match, refused characters, short notes."""

from __future__ import annotations

import unicodedata

from bot.errors import UserError
from bot.names import refuse_names
from storage.bounds import ascii_text


def normalized(text: str) -> str:
    """The text as the parsers match it: NFKC, stripped, lower case, single spaces."""
    # NFKC: full-width digits are ASCII ones; the parsers' patterns then accept [0-9] only.
    return " ".join(ascii_text(text).strip().lower().split())


def invalid_characters(text: str) -> bool:
    """Lone surrogates (no UTF-8 exists for them) and control characters other than
    tab and line breaks (PostgreSQL refuses NUL in text)."""
    return any(
        0xD800 <= ord(c) <= 0xDFFF or (unicodedata.category(c) == "Cc" and c not in "\t\n\r")
        for c in text
    )


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
