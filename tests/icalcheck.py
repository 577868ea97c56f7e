"""Reading calendar feeds the way clients do: icalendar, the independent vobject, and ical.js
(Thunderbird's parser, in Node), after an RFC 5545 check of every line.

Each feed is read twice: as sent, and with its TZID renamed to one no parser knows, so that
all three must compute the instants from the feed's own VTIMEZONE (icalendar and vobject
would otherwise take Europe/Berlin from their own zone data).
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import icalendar
import vobject

LINK = re.compile(r"https?://[^\s/]+(/feeds/[A-Za-z0-9_-]+\.ics)")
ICALJS = Path(__file__).parent / "icaljs"
# Property names, then parameters (quoted or not), then ":" (RFC 5545 3.1).
_CONTENT_LINE = re.compile(
    r'(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[A-Za-z0-9-]+=(?:"[^"\x00-\x1f]*"|[^";:,\x00-\x1f]*)'
    r'(?:,(?:"[^"\x00-\x1f]*"|[^";:,\x00-\x1f]*))*)*):(?P<value>[^\x00-\x08\x0a-\x1f\x7f]*)'
)
# Properties whose value is one TEXT: a comma or semicolon in them must be escaped.
_SINGLE_TEXT = {"SUMMARY", "DESCRIPTION", "LOCATION", "NAME", "X-WR-CALNAME", "X-WR-CALDESC"}
_UNESCAPED = re.compile(r"(?<!\\)(?:\\\\)*[,;]")


@dataclass(frozen=True)
class Ev:
    """One VEVENT as all parsers agree on it."""

    uid: str
    summary: str
    start: datetime | date  # aware (tz from the feed's TZID) or a date
    end: datetime | date
    sequence: int
    status: str
    last_modified: datetime


def check_lines(body: bytes) -> list[str]:
    """RFC 5545 3.1 for every line; returns the unfolded content lines."""
    assert body.endswith(b"\r\n"), "the last line must end with CRLF"
    physical = body[:-2].split(b"\r\n")
    assert all(b"\n" not in p and b"\r" not in p for p in physical), "bare CR or LF"
    unfolded: list[str] = []
    for raw in physical:
        assert len(raw) <= 75, f"line not folded at 75 octets: {raw!r}"
        part = raw.decode("utf-8")  # each physical line alone: no UTF-8 sequence split
        if part[:1] in (" ", "\t"):
            assert unfolded, "a continuation line cannot come first"
            unfolded[-1] += part[1:]
        else:
            unfolded.append(part)
    stack: list[str] = []
    for line in unfolded:
        m = _CONTENT_LINE.fullmatch(line)
        assert m is not None, f"not a content line: {line!r}"
        name, value = m["name"].upper(), m["value"]
        if name == "BEGIN":
            stack.append(value)
        elif name == "END":
            assert stack and stack.pop() == value, f"END:{value} does not close"
        elif name in _SINGLE_TEXT:
            assert _UNESCAPED.search(value) is None, f"unescaped , or ; in {line!r}"
    assert not stack and unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-1] == "END:VCALENDAR"
    return unfolded


def parse_feed(body: bytes) -> tuple[icalendar.Calendar, dict[str, Ev]]:
    """All three parsers, on the feed and on a copy with a TZID only its VTIMEZONE defines;
    fails unless they read the same events. Events by UID."""
    check_lines(body)
    cal, ours = _icalendar(body)
    renamed = body
    tzids = {t["TZID"] for t in cal.walk("VTIMEZONE")}
    for tzid in tzids:
        renamed = renamed.replace(f"{tzid}".encode(), f"Test/Zone-{uuid.uuid4().hex}".encode())
    for variant in (body, renamed) if tzids else (body,):
        readings = {"icalendar": _icalendar(variant)[1], "vobject": _vobject(variant)}
        readings["ical.js"] = _icaljs(variant)
        for parser, events in readings.items():
            assert set(events) == set(ours), parser
            for uid, mine in ours.items():
                other = events[uid]
                assert (mine.summary, mine.sequence, mine.status) == (
                    other.summary,
                    other.sequence,
                    other.status,
                ), (parser, uid)
                assert _instant(mine.start) == _instant(other.start), (parser, uid, other.start)
                assert _instant(mine.end) == _instant(other.end), (parser, uid, other.end)
    return cal, ours


def _icalendar(body: bytes) -> tuple[icalendar.Calendar, dict[str, Ev]]:
    cal = icalendar.Calendar.from_ical(body)
    out = {}
    for e in cal.walk("VEVENT"):
        out[str(e["UID"])] = Ev(
            uid=str(e["UID"]),
            summary=str(e["SUMMARY"]),
            start=e.decoded("DTSTART"),
            end=e.decoded("DTEND"),
            sequence=int(e["SEQUENCE"]),
            status=str(e["STATUS"]),
            last_modified=e.decoded("LAST-MODIFIED"),
        )
    return cal, out


def _vobject(body: bytes) -> dict[str, Ev]:
    parsed: Any = vobject.readOne(body.decode("utf-8"))
    out = {}
    for e in getattr(parsed, "vevent_list", []):
        out[e.uid.value] = Ev(
            uid=e.uid.value,
            summary=e.summary.value,
            start=e.dtstart.value,
            end=e.dtend.value,
            sequence=int(e.sequence.value),
            status=e.status.value,
            last_modified=e.last_modified.value,
        )
    return out


def _icaljs(body: bytes) -> dict[str, Ev]:
    assert (ICALJS / "node_modules" / "ical.js").is_dir(), (
        "ical.js is missing: npm ci --prefix tests/icaljs (.ci/run does it)"
    )
    done = subprocess.run(
        ["node", str(ICALJS / "read.mjs")],
        input=body,
        capture_output=True,
        check=True,
        timeout=60,
    )
    out = {}
    for e in json.loads(done.stdout)["events"]:
        out[e["uid"]] = Ev(
            uid=e["uid"],
            summary=e["summary"],
            start=_js_time(e["start"]),
            end=_js_time(e["end"]),
            sequence=int(e["sequence"]),
            status=e["status"],
            last_modified=datetime.min.replace(tzinfo=UTC),  # not compared
        )
    return out


def icaljs_calendar_properties(body: bytes) -> dict[str, str | None]:
    """X-WR-CALDESC and friends as ical.js reads them."""
    done = subprocess.run(
        ["node", str(ICALJS / "read.mjs")], input=body, capture_output=True, check=True, timeout=60
    )
    props: dict[str, str | None] = json.loads(done.stdout)["props"]
    return props


def _js_time(value: Any) -> datetime | date:
    if isinstance(value, str):
        return date.fromisoformat(value)
    return datetime.fromtimestamp(value["utc"], UTC)


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
