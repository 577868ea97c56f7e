"""A time zone's data as `zoneinfo` reads it: the transitions of its TZif file (RFC 8536) and
the POSIX TZ rule in the file's footer, which says how the zone goes on every year after them.

The VTIMEZONE of the calendar feeds is built from these (scheduler/vtimezone.py). Checked first:
icalendar's `Timezone.from_tzid` lists transitions without RRULE, and the `ical` package's
`Timezone.from_tzif` writes an RRULE from the same footer but with a fixed start year and wrong
weekdays for rules whose time is outside 0-24 h (Asia/Jerusalem `M3.4.4/26`).
"""

from __future__ import annotations

import os
import re
import struct
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources


@dataclass(frozen=True)
class Transition:
    """From `at` (UTC seconds) on, local time is UTC + `offset` seconds."""

    at: int
    offset: int
    is_dst: bool
    name: str
    offset_before: int


@dataclass(frozen=True)
class YearlyRule:
    """One change of a POSIX rule: `Mm.w.d/time`, or a day of the year (`Jn`, `n`)."""

    kind: str  # "M", "J" (1-365, no 29 Feb) or "n" (0-365)
    month: int
    week: int  # 1-5, 5 = the last
    weekday: int  # 0 = Sunday (POSIX)
    day: int  # for J and n
    seconds: int  # local time of the change in the offset before it; may be < 0 or >= 24 h

    def local_start(self, year: int) -> datetime:
        """The wall-clock time (in the offset before) the change happens in `year`, naive."""
        if self.kind == "J":
            day = date(year, 1, 1) + timedelta(days=self.day - 1)
            if _leap(year) and day >= date(year, 3, 1):
                day += timedelta(days=1)
        elif self.kind == "n":
            day = date(year, 1, 1) + timedelta(days=self.day)
        else:
            first = date(year, self.month, 1)
            # date.weekday(): Monday 0; POSIX: Sunday 0.
            day = first + timedelta(days=(self.weekday - (first.weekday() + 1)) % 7)
            day += timedelta(weeks=self.week - 1)
            while day.month != self.month:
                day -= timedelta(weeks=1)
        return datetime.combine(day, datetime.min.time()) + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class PosixRule:
    """`CET-1CEST,M3.5.0,M10.5.0/3`: offsets east of UTC in seconds (POSIX counts west)."""

    std_name: str
    std_offset: int
    dst_name: str | None = None
    dst_offset: int = 0
    to_dst: YearlyRule | None = None
    to_std: YearlyRule | None = None

    def transitions(self, year: int) -> list[Transition]:
        """The rule's changes in `year`, in order (none for a zone without DST)."""
        if self.dst_name is None or self.to_dst is None or self.to_std is None:
            return []
        out = [
            Transition(
                _utc(self.to_dst.local_start(year), self.std_offset),
                self.dst_offset,
                True,
                self.dst_name,
                self.std_offset,
            ),
            Transition(
                _utc(self.to_std.local_start(year), self.dst_offset),
                self.std_offset,
                False,
                self.std_name,
                self.dst_offset,
            ),
        ]
        return sorted(out, key=lambda t: t.at)


@dataclass(frozen=True)
class ZoneData:
    key: str
    initial_offset: int  # before the first transition
    initial_name: str
    transitions: tuple[Transition, ...]
    rule: PosixRule | None  # None: a version 1 file, or a footer this parser does not know


def load(key: str) -> ZoneData:
    """The zone `key` from the same files `zoneinfo.ZoneInfo(key)` reads."""
    return parse(key, _zone_bytes(key))


def _zone_bytes(key: str) -> bytes:
    if key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"not a time zone key: {key!r}")
    for root in zoneinfo.TZPATH:
        path = os.path.join(root, key)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                return f.read()
    return resources.files("tzdata").joinpath("zoneinfo", *key.split("/")).read_bytes()


_HEADER = struct.Struct(">4sc15x6l")


def parse(key: str, data: bytes) -> ZoneData:
    """Transitions and footer rule of TZif `data` (versions 1 to 4)."""
    magic, version, *counts = _HEADER.unpack_from(data, 0)
    if magic != b"TZif":
        raise ValueError(f"{key}: not a TZif file")
    time_size, offset = 4, _HEADER.size
    if version >= b"2":  # skip the 32-bit block, read the 64-bit one
        offset += _block_size(counts, 4)
        magic, version, *counts = _HEADER.unpack_from(data, offset)
        time_size, offset = 8, offset + _HEADER.size
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = counts
    times = struct.unpack_from(f">{timecnt}{'q' if time_size == 8 else 'l'}", data, offset)
    offset += timecnt * time_size
    indices = data[offset : offset + timecnt]
    offset += timecnt
    types = [struct.unpack_from(">lBB", data, offset + 6 * i) for i in range(typecnt)]
    offset += 6 * typecnt
    chars = data[offset : offset + charcnt]
    offset += charcnt + leapcnt * (time_size + 4) + isstdcnt + isutcnt

    def name(index: int) -> str:
        return chars[index : chars.index(b"\0", index)].decode("ascii")

    first_offset, first_dst, first_name = types[0]
    transitions = []
    before = (first_offset, first_dst, name(first_name))
    for at, i in zip(times, indices, strict=True):
        utoff, isdst, abbr = types[i]
        after = (utoff, isdst, name(abbr))
        # zic writes a no-op transition at 2038-01-19 into 64-bit data of "fat" files.
        if after != before:
            transitions.append(Transition(at, utoff, bool(isdst), after[2], before[0]))
        before = after
    rule = None
    if version >= b"2":
        footer = data[offset:].strip(b"\n").decode("ascii")
        rule = parse_posix(footer)
    return ZoneData(key, first_offset, name(first_name), tuple(transitions), rule)


def _block_size(counts: list[int], time_size: int) -> int:
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = counts
    return (
        timecnt * (time_size + 1)
        + typecnt * 6
        + charcnt
        + leapcnt * (time_size + 4)
        + isstdcnt
        + isutcnt
    )


_NAME = r"(?:<[A-Za-z0-9+-]+>|[A-Za-z]+)"
_TIME = r"[+-]?\d{1,3}(?::\d{1,2}){0,2}"
_DAY = r"(?:M\d{1,2}\.\d\.\d|J\d{1,3}|\d{1,3})"
_POSIX = re.compile(
    rf"(?P<std>{_NAME})(?P<stdoff>{_TIME})"
    rf"(?:(?P<dst>{_NAME})(?P<dstoff>{_TIME})?"
    rf"(?:,(?P<start>{_DAY})(?:/(?P<starttime>{_TIME}))?,(?P<end>{_DAY})(?:/(?P<endtime>{_TIME}))?)?)?"
)


def parse_posix(text: str) -> PosixRule | None:
    """The rule of a TZif footer (POSIX TZ with the RFC 8536 extensions), None if unknown."""
    m = _POSIX.fullmatch(text)
    if m is None or (m["dst"] and not m["start"]):
        return None  # an empty footer, or DST without rules (not written by zic)
    std_offset = -_seconds(m["stdoff"])
    if not m["dst"]:
        return PosixRule(m["std"].strip("<>"), std_offset)
    dst_offset = -_seconds(m["dstoff"]) if m["dstoff"] else std_offset + 3600
    return PosixRule(
        m["std"].strip("<>"),
        std_offset,
        m["dst"].strip("<>"),
        dst_offset,
        _yearly(m["start"], m["starttime"]),
        _yearly(m["end"], m["endtime"]),
    )


def _yearly(day: str, at: str | None) -> YearlyRule:
    seconds = _seconds(at) if at else 7200  # POSIX: 02:00 unless given
    if day.startswith("M"):
        month, week, weekday = (int(x) for x in day[1:].split("."))
        return YearlyRule("M", month, week, weekday, 0, seconds)
    if day.startswith("J"):
        return YearlyRule("J", 0, 0, 0, int(day[1:]), seconds)
    return YearlyRule("n", 0, 0, 0, int(day), seconds)


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _utc(local: datetime, offset: int) -> int:
    return int((local - timedelta(seconds=offset)).replace(tzinfo=UTC).timestamp())


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
