"""ICS rendering (RFC 5545, RFC 7986): pure, deterministic, the same as icalendar's, readable by
icalendar, vobject and ical.js alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from scheduler.ics import FeedCalendar, FeedEvent, fold_lines, render
from tests.icalcheck import check_lines, icaljs_calendar_properties, parse_feed
from tests.ics_reference import render_reference

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2023, 1, 10, 12, 0, tzinfo=UTC)
GOOGLE_BERLIN = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:19960331T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "TZNAME:CEST\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nDTSTART:19961027T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    "TZNAME:CET\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)


def _session(uid: str, day: date, start: int, end: int, **extra: object) -> FeedEvent:
    return _timed(
        uid, datetime(day.year, day.month, day.day, start, tzinfo=BERLIN), end - start, **extra
    )


def _timed(uid: str, start: datetime, hours: float, **extra: object) -> FeedEvent:
    return FeedEvent(
        uid=uid,
        summary=f"AG 78 – Sitzung {start.date()}",
        start=start,
        end=start + timedelta(hours=hours),
        sequence=0,
        last_modified=STAMP,
        **extra,  # type: ignore[arg-type]
    )


def _render(*events: FeedEvent, tz: ZoneInfo = BERLIN, description: str = "Test") -> bytes:
    return render(
        FeedCalendar(name="AG 78 – Termine", description=description, events=events),
        tz=tz,
        refresh=timedelta(hours=1),
    )


def test_summer_and_winter_events_keep_their_wall_clock_and_the_zone_is_googles_form() -> None:
    body = _render(
        _session("a@koopbot", date(2023, 3, 24), 9, 12),  # CET, UTC+1
        _session("b@koopbot", date(2023, 3, 31), 9, 12),  # CEST, UTC+2
        _session("c@koopbot", date(2031, 10, 27), 9, 12),  # CET again, years later
    )
    text = body.decode()
    assert "DTSTART;TZID=Europe/Berlin:20230324T090000" in text
    assert "DTSTART;TZID=Europe/Berlin:20230331T090000" in text
    assert text.count("BEGIN:VTIMEZONE") == 1 and GOOGLE_BERLIN in text
    _, events = parse_feed(body)  # icalendar, vobject and ical.js, also on the VTIMEZONE alone
    assert events["a@koopbot"].start.astimezone(UTC).hour == 8  # type: ignore[union-attr]
    assert events["b@koopbot"].start.astimezone(UTC).hour == 7  # type: ignore[union-attr]
    assert events["c@koopbot"].start.astimezone(UTC).hour == 8  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "zone",
    [
        "America/New_York",
        "Australia/Sydney",  # the southern summer
        "Asia/Jerusalem",  # BYDAY=FR;BYMONTHDAY=23,...,29: "the Friday after the 4th Thursday"
        "America/Nuuk",  # the change at -1:00: the Saturday before the last Sunday
        "Europe/Dublin",  # "negative DST" in the tz data
        "Asia/Tokyo",  # no DST: one block
    ],
)
def test_other_zones_read_alike_in_summer_and_winter(zone: str) -> None:
    tz = ZoneInfo(zone)
    january, july = datetime(2027, 1, 12, 9, tzinfo=tz), datetime(2027, 7, 13, 9, tzinfo=tz)
    body = _render(_timed("1@koopbot", january, 1), _timed("7@koopbot", july, 1), tz=tz)
    assert "RRULE:FREQ=YEARLY" in body.decode() or zone == "Asia/Tokyo"
    _, events = parse_feed(body)
    assert events["1@koopbot"].start == january.astimezone(UTC)
    assert events["7@koopbot"].start == july.astimezone(UTC)


def test_events_before_the_current_rule_get_explicit_blocks_and_later_feeds_none() -> None:
    # 1995: summer time in Germany still ended in September, so 10.10.1995 was CET (UTC+1).
    old = _session("o@koopbot", date(1995, 10, 10), 9, 10)
    body = _render(old, _session("n@koopbot", date(2027, 10, 10), 9, 10))
    text = body.decode()
    assert "DTSTART:19950924T030000" in text and GOOGLE_BERLIN.split("BEGIN:DAYLIGHT")[1] in text
    _, events = parse_feed(body)
    assert events["o@koopbot"].start.astimezone(UTC).hour == 8  # type: ignore[union-attr]
    assert events["n@koopbot"].start.astimezone(UTC).hour == 7  # type: ignore[union-attr]


def test_every_feed_without_old_events_defines_the_zone_alike() -> None:
    # Parsers that cache a VTIMEZONE by TZID (vobject does) must not get a short one first.
    early = _render(_session("e@koopbot", date(2023, 1, 27), 9, 12))
    late = _render(_session("l@koopbot", date(2061, 7, 4), 9, 12))

    def vtimezone(body: bytes) -> bytes:
        return body[body.index(b"BEGIN:VTIMEZONE") : body.index(b"END:VTIMEZONE")]

    assert vtimezone(early) == vtimezone(late)
    for body, utc_hour in ((early, 8), (late, 7)):
        _, events = parse_feed(body)
        (event,) = events.values()
        assert event.start.astimezone(UTC).hour == utc_hour  # type: ignore[union-attr]


def test_a_time_that_happens_twice_is_written_in_utc_so_every_client_reads_the_same_instant() -> (
    None
):
    first = datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN)  # CEST
    second = first.replace(fold=1)  # CET, an hour later
    body = _render(_timed("1@koopbot", first, 1.5), _timed("2@koopbot", second, 1.5))
    assert b"DTSTART:20271031T003000Z\r\n" in body and b"DTSTART:20271031T013000Z\r\n" in body
    assert b"DTEND;TZID=Europe/Berlin:20271031T040000\r\n" in body  # 04:00 happens once
    _, events = parse_feed(body)
    assert events["1@koopbot"].start == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert events["2@koopbot"].start == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


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
    assert b"DTSTART;VALUE=DATE:20250417\r\n" in body and b"TRANSP:TRANSPARENT\r\n" in body
    assert b"VTIMEZONE" not in body
    _, events = parse_feed(body)
    assert events["deadline-1@koopbot"].start == date(2025, 4, 17)
    assert events["deadline-1@koopbot"].sequence == 2


def test_calendar_properties_of_rfc_7986_and_the_common_extensions_are_escaped() -> None:
    body = _render(
        _session("a@koopbot", date(2023, 5, 12), 9, 12), description="Sitzungen, Workshops; mehr"
    )
    text = body.decode()
    for line in (
        "VERSION:2.0",
        "NAME:AG 78 – Termine",
        "X-WR-CALNAME:AG 78 – Termine",
        "DESCRIPTION:Sitzungen\\, Workshops\\; mehr",
        "X-WR-CALDESC:Sitzungen\\, Workshops\\; mehr",  # X- properties are TEXT (RFC 5545 3.8.8.2)
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "X-WR-TIMEZONE:Europe/Berlin",
        "DTSTAMP:20230110T120000Z",
        "LAST-MODIFIED:20230110T120000Z",
        "STATUS:CONFIRMED",
    ):
        assert f"\r\n{line}\r\n" in text, line
    cal = icalendar.Calendar.from_ical(body)
    assert str(cal["DESCRIPTION"]) == "Sitzungen, Workshops; mehr"
    # ical.js hands an X- value over as it stands; as TEXT it unescapes to the original.
    assert icaljs_calendar_properties(body)["x-wr-caldesc"] == "Sitzungen\\, Workshops\\; mehr"
    assert icaljs_calendar_properties(body)["description"] == "Sitzungen, Workshops; mehr"


PLACE = "Kreishaus, Saal 2; Eingang \\ Hof\nZweite Zeile\r\nDritte\tmit Tab"
AWKWARD = PLACE + "\x00\x1b"  # control characters cannot be in a content line: dropped


def test_text_is_escaped_and_folded_and_reads_back_exactly() -> None:
    long = "Äußerst lange Themenliste: " + "Übergänge, Schutzkonzepte € 🙂; " * 12
    event = _session(
        "x@koopbot",
        date(2027, 2, 19),
        9,
        12,
        location=AWKWARD,
        description=long,
        url="https://meet.example.org/ag 78?x=1",
        categories=("AG 78", "Sitzung, regulär"),
        cancelled=True,
    )
    body = _render(event)
    lines = check_lines(body)  # <= 75 octets, no UTF-8 sequence split, every line well formed
    assert any(line.startswith("DESCRIPTION:") and len(line.encode()) > 300 for line in lines)
    cal = icalendar.Calendar.from_ical(body)
    (vevent,) = cal.walk("VEVENT")
    assert (
        str(vevent["LOCATION"])
        == "Kreishaus, Saal 2; Eingang \\ Hof\nZweite Zeile\nDritte\tmit Tab"
    )
    assert str(vevent["DESCRIPTION"]) == long
    assert str(vevent["URL"]) == "https://meet.example.org/ag%2078?x=1"
    assert [str(c) for c in vevent["CATEGORIES"].cats] == ["AG 78", "Sitzung, regulär"]
    _, events = parse_feed(body)
    assert events["x@koopbot"].status == "CANCELLED"


@pytest.mark.parametrize("filler", ["a", "ä", "€", "🙂", "aä€🙂"])
def test_folding_never_splits_a_utf8_sequence(filler: str) -> None:
    for n in range(60, 240, 7):
        line = f"DESCRIPTION:{filler * n}\r\n"
        folded = fold_lines(line)
        for part in folded[:-2].split(b"\r\n"):
            assert len(part) <= 75
            part.decode("utf-8")
        assert folded.replace(b"\r\n ", b"").decode() == line


def test_the_bytes_say_what_icalendars_component_tree_says() -> None:
    events = [
        _session(f"{i}@koopbot", date(2023, 1, 1) + timedelta(days=37 * i), 9, 12, location=PLACE)
        for i in range(30)
    ] + [
        FeedEvent(
            uid="d@koopbot",
            summary="HB-2025-017 Bericht",
            start=date(2025, 4, 17),
            end=date(2025, 4, 18),
            sequence=3,
            last_modified=STAMP,
            description="Frist (C2/D3: 6 Wochen vor dem Gespräch)",
            categories=("Frist", "Bericht"),
        )
    ]
    ours = icalendar.Calendar.from_ical(_render(*events))
    reference = icalendar.Calendar.from_ical(
        render_reference(
            FeedCalendar("AG 78 – Termine", "Test", events), tz=BERLIN, refresh=timedelta(hours=1)
        )
    )
    for name in (
        "PRODID",
        "VERSION",
        "CALSCALE",
        "NAME",
        "X-WR-CALNAME",
        "DESCRIPTION",
        "X-WR-TIMEZONE",
    ):
        assert ours[name] == reference[name], name
    assert ours.decoded("REFRESH-INTERVAL") == reference.decoded("REFRESH-INTERVAL")
    mine, theirs = ours.walk("VEVENT"), reference.walk("VEVENT")
    assert [e["UID"] for e in mine] == [e["UID"] for e in theirs]
    for a, b in zip(mine, theirs, strict=True):
        assert set(a) == set(b)
        for name in a:
            if name == "CATEGORIES":
                assert a[name].cats == b[name].cats
            else:
                assert a.decoded(name) == b.decoded(name), (a["UID"], name)


def test_the_same_input_gives_the_same_bytes_also_from_the_event_cache() -> None:
    events = [
        _session(f"{i}@koopbot", date(2023, 1, 1) + timedelta(days=i), 9, 12) for i in range(20)
    ]
    first = _render(*events)
    assert _render(*reversed(events)) == first
    moved = [*events[:-1], _session("19@koopbot", date(2023, 1, 20), 10, 12)]
    assert _render(*moved) != first
    assert _render(*events) == first


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
