"""Reading calendar feeds the way clients do: with icalendar AND the independent vobject."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import icalendar
import vobject

LINK = re.compile(r"https?://[^\s/]+(/feeds/[A-Za-z0-9_-]+\.ics)")


@dataclass(frozen=True)
class Ev:
    """One VEVENT as both parsers agree on it."""

    uid: str
    summary: str
    start: datetime | date  # aware (tz from the feed's TZID) or a date
    end: datetime | date
    sequence: int
    status: str
    last_modified: datetime


def parse_feed(body: bytes) -> tuple[icalendar.Calendar, dict[str, Ev]]:
    """Both parsers; fails unless they read the same events. Events by UID."""
    text = body.decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", ""), "lines must end with CRLF"
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, f"line not folded: {line!r}"
    cal = icalendar.Calendar.from_ical(body)
    ours = {}
    for e in cal.walk("VEVENT"):
        ours[str(e["UID"])] = Ev(
            uid=str(e["UID"]),
            summary=str(e["SUMMARY"]),
            start=e.decoded("DTSTART"),
            end=e.decoded("DTEND"),
            sequence=int(e["SEQUENCE"]),
            status=str(e["STATUS"]),
            last_modified=e.decoded("LAST-MODIFIED"),
        )
    theirs = {}
    parsed: Any = vobject.readOne(text)
    for e in getattr(parsed, "vevent_list", []):
        theirs[e.uid.value] = Ev(
            uid=e.uid.value,
            summary=e.summary.value,
            start=e.dtstart.value,
            end=e.dtend.value,
            sequence=int(e.sequence.value),
            status=e.status.value,
            last_modified=e.last_modified.value,
        )
    assert set(ours) == set(theirs)
    for uid, mine in ours.items():
        other = theirs[uid]
        assert (mine.summary, mine.sequence, mine.status) == (
            other.summary,
            other.sequence,
            other.status,
        )
        assert _instant(mine.start) == _instant(other.start), (uid, mine.start, other.start)
        assert _instant(mine.end) == _instant(other.end)
    return cal, ours


def _instant(value: datetime | date) -> datetime | date:
    if isinstance(value, datetime):
        assert value.tzinfo is not None, f"floating time {value!r}: no TZID"
        return value.astimezone(UTC)
    return value


def feed_path(reply: str, label: str) -> str:
    """The path of the link that follows `label` in a /kalender reply."""
    for block in reply.split("• ")[1:]:
        if block.startswith(label):
            m = LINK.search(block)
            assert m is not None, block
            return m[1]
    raise AssertionError(f"no link for {label!r} in:\n{reply}")
