"""ICS rendering of calendar feeds (RFC 5545, RFC 7986): pure, deterministic, clock-free.

The same input always gives the same bytes, so a hash of the output is a sound ETag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration

PRODID = "-//koopbot//Kalender-Feeds//DE"
TZ_FIRST, TZ_LAST = date(2020, 1, 1), date(2036, 1, 1)


@dataclass(frozen=True)
class FeedEvent:
    """One VEVENT: `start`/`end` are aware datetimes, or dates for an all-day event."""

    uid: str
    summary: str
    start: datetime | date
    end: datetime | date
    sequence: int
    last_modified: datetime  # aware; also the DTSTAMP (the feed has no METHOD, RFC 5545 3.8.7.2)
    cancelled: bool = False
    location: str | None = None
    description: str | None = None
    url: str | None = None
    categories: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class FeedCalendar:
    name: str
    description: str
    events: Sequence[FeedEvent]


def render(calendar: FeedCalendar, *, tz: ZoneInfo, refresh: timedelta) -> bytes:
    """The feed as iCalendar bytes: CRLF line ends, folded lines, VTIMEZONE for timed events."""
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("NAME", calendar.name)  # RFC 7986
    cal.add("X-WR-CALNAME", calendar.name)  # what Google, Apple and Outlook read
    cal.add("DESCRIPTION", calendar.description)
    cal.add("X-WR-CALDESC", calendar.description)
    cal.add("X-WR-TIMEZONE", tz.key)
    cal.add("REFRESH-INTERVAL", vDuration(refresh), parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", vDuration(refresh))
    events = sorted(calendar.events, key=lambda e: (_sort_instant(e.start, tz), e.uid))
    for item in events:
        cal.add_component(_vevent(item, tz))
    timed = [e for e in events if isinstance(e.start, datetime)]
    if timed:
        first = min(_as_date(e.start, tz) for e in timed)
        last = max(_as_date(e.end, tz) for e in timed)
        # One fixed span for every feed, widened only for outlying events: some parsers
        # cache a VTIMEZONE by its TZID across calendars, so all feeds must define it alike.
        span = (min(TZ_FIRST, date(first.year, 1, 1)), max(TZ_LAST, date(last.year + 1, 1, 1)))
        cal.subcomponents.insert(0, _vtimezone(tz.key, *span))
    return bytes(cal.to_ical())


@lru_cache(maxsize=8)
def _vtimezone(tzid: str, first: date, last: date) -> Timezone:
    """The zone's transitions, one STANDARD/DAYLIGHT block each.

    icalendar lists later transitions as RDATE values of one block; dateutil (and so vobject
    and the clients built on it) then applies the wrong offset, so every transition gets
    its own DTSTART. Cached: it is the same for every feed and never mutated.
    """
    source = Timezone.from_tzid(tzid, first_date=first, last_date=last)
    expanded = Timezone()
    expanded.add("TZID", tzid)
    for block in source.subcomponents:
        rdates = block.get("RDATE")
        starts = [block.decoded("DTSTART")]
        for rdate in rdates if isinstance(rdates, list) else [rdates] if rdates else []:
            starts += [value.dt for value in rdate.dts]
        for start in starts:
            copy = type(block)()
            copy.add("DTSTART", start)
            for name in ("TZNAME", "TZOFFSETFROM", "TZOFFSETTO"):
                copy.add(name, block.decoded(name))
            expanded.add_component(copy)
    return expanded


def _vevent(item: FeedEvent, tz: ZoneInfo) -> Event:
    event = Event()
    event.add("UID", item.uid)
    event.add("DTSTAMP", item.last_modified.astimezone(UTC))
    event.add("LAST-MODIFIED", item.last_modified.astimezone(UTC))
    event.add("SEQUENCE", item.sequence)
    event.add("SUMMARY", item.summary)
    event.add("DTSTART", _local(item.start, tz))
    event.add("DTEND", _local(item.end, tz))
    if not isinstance(item.start, datetime):
        event.add("TRANSP", "TRANSPARENT")  # a due date does not block the day
    event.add("STATUS", "CANCELLED" if item.cancelled else "CONFIRMED")
    if item.location:
        event.add("LOCATION", item.location)
    if item.url:
        event.add("URL", item.url)
    if item.description:
        event.add("DESCRIPTION", item.description)
    if item.categories:
        event.add("CATEGORIES", list(item.categories))
    return event


def _local(value: datetime | date, tz: ZoneInfo) -> datetime | date:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} in a feed event")
        return value.astimezone(tz)  # rendered with TZID=<tz> and a VTIMEZONE
    return value


def _as_date(value: datetime | date, tz: ZoneInfo) -> date:
    return value.astimezone(tz).date() if isinstance(value, datetime) else value


def _sort_instant(value: datetime | date, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=tz).astimezone(UTC)
