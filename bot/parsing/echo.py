"""What a refusal may echo of the user's input: never a word that may be a client's name (P1)."""

from __future__ import annotations

import re
from typing import Final

from bot.parsing.day_words import MONTH_WORDS, RELATIVE_DAY_WORDS, WEEKDAY_WORDS

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


_WORD_RE = re.compile(r"[^\W\d_]{3,}")


def _echoable(text: str) -> bool:
    """Digits, and no capitalised word: codes are upper case, names are not (P1)."""
    return not looks_like_name(text)


def name_like_word(token: str) -> bool:
    """A capitalised word that is none of our date words: "Kowalski", not "Mittwoch"."""
    return any(
        w[0].isupper() and w[1:].islower() and w.lower() not in _ECHO_WORDS
        for w in _WORD_RE.findall(token)
    )


def looks_like_name(text: str) -> bool:
    """No digit, or a capitalised word ("Müller 2025", "Kevin-2025-1"): codes are upper case."""
    if not any(c.isdigit() for c in text):
        return True
    return any(word[0].isupper() and word[1:].islower() for word in _WORD_RE.findall(text))


_ECHO_WORDS: Final = frozenset(
    [
        *WEEKDAY_WORDS,
        *RELATIVE_DAY_WORDS,
        *MONTH_WORDS,
        *"uhr std stdn stunde stunden min mins minute minuten bis abs absatz sgb viii".split(),
    ]
)
