"""Times of day and ranges of them: 9, 09:00, 9:30 Uhr, 9-12."""

from __future__ import annotations

import re
from datetime import time

from bot.errors import UserError
from bot.formatting import fmt_time
from bot.parsing.echo import shown
from bot.parsing.text import normalized
from storage.bounds import ascii_text

_TIME_RE = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:uhr|h)?", re.ASCII)
_TIME_EXAMPLES = "Beispiele: 9, 09:00, 9:30, 14 Uhr"
_RANGE_SPLIT_RE = re.compile(r"\s*(?:-|–|—|\bbis\b)\s*", re.I)


def parse_time(text: str) -> time:
    """A time of day: 9, 09:00, 9:30, 9.30, 9 Uhr, 14h."""
    s = normalized(text)
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
