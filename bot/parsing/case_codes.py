"""Pseudonymous case codes (Aktenzeichen), told apart from client names (P1)."""

from __future__ import annotations

import re
from typing import Final

from bot.errors import UserError
from bot.parsing.echo import looks_like_name, shown
from storage.bounds import ascii_text

CASE_CODE_DEFAULT: Final = r"^[A-Z]{1,5}-\d{4}-\d{1,5}$"
CASE_CODE_EXAMPLE: Final = "HB-2025-017"


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
    name_like = looks_like_name(stripped)
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
