"""The reference renderer: the same feed built with icalendar's component tree (how koopbot
rendered feeds before the direct serializer). Tests compare the two property by property;
bench/feeds.py times it as the baseline."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration

from scheduler.ics import PRODID, FeedCalendar, FeedEvent


def render_reference(calendar: FeedCalendar, *, tz: ZoneInfo, refresh: timedelta) -> bytes:
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("NAME", calendar.name)
    cal.add("X-WR-CALNAME", calendar.name)
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
        cal.subcomponents.insert(
            0,
            Timezone.from_tzid(
                tz.key,
                first_date=min(date(2020, 1, 1), date(first.year, 1, 1)),
                last_date=max(date(2036, 1, 1), date(last.year + 1, 1, 1)),
            ),
        )
    return bytes(cal.to_ical())


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
        event.add("TRANSP", "TRANSPARENT")
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
    return value.astimezone(tz) if isinstance(value, datetime) else value


def _as_date(value: datetime | date, tz: ZoneInfo) -> date:
    return value.astimezone(tz).date() if isinstance(value, datetime) else value


def _sort_instant(value: datetime | date, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=tz).astimezone(UTC)
