"""ICS rendering (RFC 5545, RFC 7986): pure, deterministic, readable by two parsers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.ics import FeedCalendar, FeedEvent, render
from tests.icalcheck import parse_feed

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2023, 1, 10, 12, 0, tzinfo=UTC)


def _session(uid: str, day: date, start: int, end: int, **extra: object) -> FeedEvent:
    return FeedEvent(
        uid=uid,
        summary=f"AG 78 – Sitzung {day}",
        start=datetime(day.year, day.month, day.day, start, tzinfo=BERLIN),
        end=datetime(day.year, day.month, day.day, end, tzinfo=BERLIN),
        sequence=0,
        last_modified=STAMP,
        **extra,  # type: ignore[arg-type]
    )


def _render(*events: FeedEvent) -> bytes:
    return render(
        FeedCalendar(name="AG 78 – Termine", description="Test", events=events),
        tz=BERLIN,
        refresh=timedelta(hours=1),
    )


def test_times_keep_their_berlin_wall_clock_across_the_spring_change() -> None:
    body = _render(
        _session("a@koopbot", date(2023, 3, 24), 9, 12),  # CET, UTC+1
        _session("b@koopbot", date(2023, 3, 31), 9, 12),  # CEST, UTC+2
    )
    text = body.decode()
    assert "DTSTART;TZID=Europe/Berlin:20230324T090000" in text
    assert "DTSTART;TZID=Europe/Berlin:20230331T090000" in text
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin" in text
    assert "DTSTART:20230326T030000" in text  # the VTIMEZONE knows the change
    _, events = parse_feed(body)
    assert events["a@koopbot"].start.astimezone(UTC).hour == 8  # type: ignore[union-attr]
    assert events["b@koopbot"].start.astimezone(UTC).hour == 7  # type: ignore[union-attr]


def test_all_day_deadlines_need_no_time_zone() -> None:
    deadline = FeedEvent(
        uid="deadline-1@koopbot",
        summary="HB-2025-017 Bericht",
        start=date(2025, 4, 17),
        end=date(2025, 4, 18),
        sequence=2,
        last_modified=STAMP,
    )
    body = _render(deadline)
    assert b"DTSTART;VALUE=DATE:20250417\r\n" in body
    assert b"VTIMEZONE" not in body
    _, events = parse_feed(body)
    assert events["deadline-1@koopbot"].start == date(2025, 4, 17)
    assert events["deadline-1@koopbot"].sequence == 2


def test_calendar_properties_of_rfc_7986_and_the_common_extensions() -> None:
    text = _render(_session("a@koopbot", date(2023, 5, 12), 9, 12)).decode()
    for line in (
        "VERSION:2.0",
        "NAME:AG 78 – Termine",
        "X-WR-CALNAME:AG 78 – Termine",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "X-WR-TIMEZONE:Europe/Berlin",
        "DTSTAMP:20230110T120000Z",
        "LAST-MODIFIED:20230110T120000Z",
        "STATUS:CONFIRMED",
    ):
        assert f"\r\n{line}\r\n" in text, line


def test_cancelled_events_say_so_and_long_lines_are_folded() -> None:
    body = _render(
        _session("c@koopbot", date(2023, 10, 13), 9, 12, cancelled=True, description="x" * 300)
    )
    _, events = parse_feed(body)  # checks every line is at most 75 octets
    assert events["c@koopbot"].status == "CANCELLED"


def test_the_same_input_gives_the_same_bytes() -> None:
    events = [
        _session(f"{i}@koopbot", date(2023, 1, 1) + timedelta(days=i), 9, 12) for i in range(20)
    ]
    assert _render(*events) == _render(*reversed(events))


def test_a_naive_datetime_is_refused() -> None:
    naive = FeedEvent(
        uid="n@koopbot",
        summary="x",
        start=datetime(2023, 1, 1, 9),
        end=datetime(2023, 1, 1, 10),
        sequence=0,
        last_modified=STAMP,
    )
    with pytest.raises(ValueError, match="naive"):
        _render(naive)


def test_every_feed_defines_the_time_zone_alike_and_vobject_reads_every_year_right() -> None:
    # Parsers that cache a VTIMEZONE by TZID (vobject does) must not get a short one first.
    early = _render(_session("e@koopbot", date(2023, 1, 27), 9, 12))
    late = _render(_session("l@koopbot", date(2031, 7, 4), 9, 12))

    def vtimezone(body: bytes) -> bytes:
        return body[body.index(b"BEGIN:VTIMEZONE") : body.index(b"END:VTIMEZONE")]

    assert vtimezone(early) == vtimezone(late)
    assert b"RDATE" not in early  # one DTSTART per transition: dateutil misreads RDATE lists
    for body, utc_hour in ((early, 8), (late, 7)):
        _, events = parse_feed(body)
        (event,) = events.values()
        assert event.start.astimezone(UTC).hour == utc_hour  # type: ignore[union-attr]
