"""The VTIMEZONE of a feed (RFC 5545 3.6.5) in the yearly-RRULE form, derived from the zone data.

Outlook desktop misreads a VTIMEZONE without a yearly RRULE (summer events an hour off, the zone
shown as "West-Central Africa"); the form Google Calendar publishes, one DAYLIGHT and one STANDARD
block with `RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU`, is read right by Outlook, Apple, Google,
Thunderbird (ical.js), vobject and icalendar. The rule comes from the POSIX TZ footer of the TZif
file (scheduler/tzif.py); its blocks start where the zone began to follow that rule (Berlin: 1996,
when summer time first ended in October). Only a feed with events before then also gets one
explicit block per earlier transition. A rule that no RRULE can express falls back to explicit
blocks over a fixed span, the same for every feed (some parsers keep the first VTIMEZONE they see
for a TZID, across calendars).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from scheduler import tzif

FALLBACK_FIRST_YEAR, FALLBACK_LAST_YEAR = 2020, 2037
_WEEKDAY = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # POSIX numbering, 0 = Sunday
_MIN_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class _Plan:
    zone: tzif.ZoneData
    blocks: tuple[str, ...]  # the RRULE blocks (or the one constant block); () for the fallback
    rule_start: int | None  # UTC seconds since which `blocks` hold; None: always


def vtimezone(key: str, earliest: datetime, latest: datetime) -> str:
    """The VTIMEZONE for events from `earliest` to `latest` (aware), as CRLF-ended lines."""
    plan = _plan(key)
    if not plan.blocks:
        first = min(FALLBACK_FIRST_YEAR, earliest.year)
        return _text(key, first, max(FALLBACK_LAST_YEAR, latest.year + 1))
    if plan.rule_start is not None and earliest.timestamp() < plan.rule_start:
        return _text(key, earliest.astimezone(UTC).year, None)
    return _text(key, None, None)


@lru_cache(maxsize=32)
def _plan(key: str) -> _Plan:
    zone = tzif.load(key)
    rule = zone.rule
    if rule is None:
        return _Plan(zone, (), None)
    if rule.dst_name is None:
        last = zone.transitions[-1] if zone.transitions else None
        if last is None:
            block = _block("STANDARD", "19700101T000000", rule.std_offset, rule.std_offset)
        else:
            start = _wall(last.at, last.offset_before)
            block = _block("STANDARD", start, last.offset_before, rule.std_offset)
        return _Plan(zone, (block + _name(rule.std_name),), last.at if last else None)
    assert rule.to_dst is not None and rule.to_std is not None
    to_dst, to_std = _rrule(rule.to_dst), _rrule(rule.to_std)
    if to_dst is None or to_std is None:
        return _Plan(zone, (), None)
    since = _rule_start(zone, rule)
    daylight, standard = _first_after(rule, since)
    # Clients take DAYLIGHT for the summer: Europe/Dublin's "negative DST" (IST in summer is
    # its standard time in the tz data) is written the way Google Calendar writes it.
    summer, winter = (
        ("DAYLIGHT", "STANDARD") if rule.dst_offset > rule.std_offset else ("STANDARD", "DAYLIGHT")
    )
    blocks = (
        _block(summer, _wall(daylight.at, daylight.offset_before), rule.std_offset, rule.dst_offset)
        + _name(rule.dst_name)
        + f"RRULE:FREQ=YEARLY;{to_dst}\r\n",
        _block(winter, _wall(standard.at, standard.offset_before), rule.dst_offset, rule.std_offset)
        + _name(rule.std_name)
        + f"RRULE:FREQ=YEARLY;{to_std}\r\n",
    )
    return _Plan(zone, blocks, since)


@lru_cache(maxsize=64)
def _text(key: str, first_year: int | None, last_year: int | None) -> str:
    """The component; explicit blocks from `first_year` (to `last_year` in the fallback)."""
    plan = _plan(key)
    zone = plan.zone
    explicit: list[tzif.Transition] = []
    if first_year is not None:
        begin = _start_of(first_year)
        end = plan.rule_start if plan.blocks else None
        if end is None:
            assert last_year is not None
            end = _start_of(last_year)
        explicit = _transitions_between(zone, begin, end)
    out = [f"BEGIN:VTIMEZONE\r\nTZID:{key}\r\n"]
    if first_year is not None and (not explicit or explicit[0].at > _start_of(first_year)):
        # The offset in force at the start of the span, from a date before any event.
        before = [t for t in zone.transitions if t.at <= _start_of(first_year)]
        offset, name, dst = (
            (before[-1].offset, before[-1].name, before[-1].is_dst)
            if before
            else (zone.initial_offset, zone.initial_name, False)
        )
        kind = "DAYLIGHT" if dst else "STANDARD"
        out.append(
            _block(kind, "16010101T000000", offset, offset) + _name(name) + f"END:{kind}\r\n"
        )
    for t in explicit:
        kind = "DAYLIGHT" if t.is_dst else "STANDARD"
        start = _wall(t.at, t.offset_before)
        out.append(
            _block(kind, start, t.offset_before, t.offset) + _name(t.name) + f"END:{kind}\r\n"
        )
    for block in plan.blocks:
        kind = block[6 : block.index("\r\n")]
        out.append(f"{block}END:{kind}\r\n")
    out.append("END:VTIMEZONE\r\n")
    return "".join(out)


def _rule_start(zone: tzif.ZoneData, rule: tzif.PosixRule) -> int | None:
    """The first of the trailing transitions that all follow `rule`, each the one after the
    last; None if the file lists no transition at all."""
    if not zone.transitions:
        return None
    start: int | None = None
    following: tzif.Transition | None = None
    for t in reversed(zone.transitions):
        if not _follows(rule, t) or (following is not None and _next(rule, t.at) != following):
            break
        start, following = t.at, t
    if start is None:  # the last listed change is not the rule's: it starts after it
        start = zone.transitions[-1].at + 1
    return start


def _follows(rule: tzif.PosixRule, t: tzif.Transition) -> bool:
    year = _utc(t.at).year
    return any(t == p for y in (year - 1, year, year + 1) for p in rule.transitions(y))


def _next(rule: tzif.PosixRule, after: int) -> tzif.Transition:
    year = _utc(after).year
    return next(
        p for y in (year - 1, year, year + 1, year + 2) for p in rule.transitions(y) if p.at > after
    )


def _first_after(
    rule: tzif.PosixRule, since: int | None
) -> tuple[tzif.Transition, tzif.Transition]:
    """The rule's first change to daylight and to standard time at or after `since`."""
    if since is None:
        since = 0  # 1970, as Google Calendar writes it
    year = _utc(since).year
    found: dict[bool, tzif.Transition] = {}
    for y in range(year - 1, year + 3):
        for p in rule.transitions(y):
            if p.at >= since and p.is_dst not in found:
                found[p.is_dst] = p
    return found[True], found[False]


def _transitions_between(zone: tzif.ZoneData, begin: int, end: int) -> list[tzif.Transition]:
    """Every change from the one in force at `begin` up to (not including) `end`."""
    listed = list(zone.transitions)
    if zone.rule is not None and zone.rule.dst_name is not None:
        last = listed[-1].at if listed else begin
        year = _utc(max(last, begin)).year
        end_year = _utc(end).year
        listed += [
            p for y in range(year, end_year + 1) for p in zone.rule.transitions(y) if p.at > last
        ]
    in_force = [t for t in listed if t.at <= begin][-1:]
    return in_force + [t for t in listed if begin < t.at < end]


def _rrule(rule: tzif.YearlyRule) -> str | None:
    """The BY parts of a yearly RRULE for `rule`, or None if no RRULE says it."""
    if rule.kind != "M":
        return None
    days, _ = divmod(rule.seconds, 86400)
    week = -1 if rule.week == 5 else rule.week
    if days == 0:
        return f"BYMONTH={rule.month};BYDAY={week}{_WEEKDAY[rule.weekday]}"
    # "The Friday after the fourth Thursday" is the Friday on the 23rd to the 29th.
    weekday = _WEEKDAY[(rule.weekday + days) % 7]
    if week == -1:
        first, last = -7 + days, -1 + days
        fits = last <= -1 and first >= -_MIN_MONTH_DAYS[rule.month]
        if rule.month != 2:  # positive days where the month has a fixed length: ical.js
            length = _MIN_MONTH_DAYS[rule.month]  # misreads negative BYMONTHDAY with BYDAY
            first, last = length + 1 + first, length + 1 + last
    else:
        first = 7 * (week - 1) + 1 + days
        last = first + 6
        fits = first >= 1 and last <= _MIN_MONTH_DAYS[rule.month]
    if not fits:
        return None
    monthdays = ",".join(str(d) for d in range(first, last + 1))
    return f"BYMONTH={rule.month};BYDAY={weekday};BYMONTHDAY={monthdays}"


def _block(kind: str, start: str, before: int, after: int) -> str:
    return (
        f"BEGIN:{kind}\r\nDTSTART:{start}\r\n"
        f"TZOFFSETFROM:{_offset(before)}\r\nTZOFFSETTO:{_offset(after)}\r\n"
    )


def _name(name: str) -> str:
    return f"TZNAME:{name}\r\n"


def _offset(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _wall(at: int, offset: int) -> str:
    return _utc(at + offset).strftime("%Y%m%dT%H%M%S")


def _start_of(year: int) -> int:
    return int((datetime(year, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)
