"""RFC 5545 3.8.7.2-4 in the feeds of AG 78 sessions, deadlines and meetings: DTSTAMP and
LAST-MODIFIED are the time that event last changed, and SEQUENCE rises on exactly the events
whose content changed. Checked after every step of a day of chat commands."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
from aiohttp.test_utils import TestClient

from scheduler.clock import FixedClock
from tests.conftest import ChatUser
from tests.icalcheck import feed_path, parse_feed

_STAMPS = {"DTSTAMP", "LAST-MODIFIED", "SEQUENCE"}


Snapshot = dict[str, tuple[dict[str, bytes], int, datetime, datetime]]


async def _snapshot(http: TestClient, paths: list[str]) -> Snapshot:
    out: Snapshot = {}
    for path in paths:
        async with http.get(path) as resp:
            body = await resp.read()
        parse_feed(body)
        for e in icalendar.Calendar.from_ical(body).walk("VEVENT"):
            content = {k: e[k].to_ical() for k in e if k not in _STAMPS}
            out[str(e["UID"])] = (
                content,
                int(e["SEQUENCE"]),
                e.decoded("DTSTAMP"),
                e.decoded("LAST-MODIFIED"),
            )
    return out


def _check(before: Snapshot, after: Snapshot, at: datetime, step: str) -> set[str]:
    """The events whose content changed in `step` (done at `at`), after checking the rules."""
    changed = set()
    for uid, (content, sequence, stamp, modified) in after.items():
        assert stamp == modified, (step, uid)  # no METHOD: DTSTAMP is the last revision
        old = before.get(uid)
        if old is None:
            assert modified == at, (step, uid, "new event", modified)
            continue
        if content == old[0]:
            assert (sequence, modified) == (old[1], old[3]), (step, uid, "unchanged content")
        else:
            changed.add(uid)
            assert sequence > old[1], (step, uid, "content changed, SEQUENCE did not rise")
            assert modified == at, (step, uid, "content changed", modified)
    return changed


async def test_stamps_and_sequence_follow_the_content_of_each_event(
    demo: dict[str, ChatUser], http: TestClient, clock: FixedClock
) -> None:
    jb, el = demo["JB"], demo["EL"]
    paths = [
        feed_path(jb.say("/kalender"), "Meine Fristen"),
        feed_path(el.say("/kalender"), "AG 78"),
    ]
    before = await _snapshot(http, paths)
    assert before

    async def step(who: ChatUser, command: str, expect: str) -> set[str]:
        nonlocal before
        clock.advance(timedelta(hours=1, minutes=7))
        reply = who.say(command)
        assert re.search(expect, reply), (command, reply)
        after = await _snapshot(http, paths)
        at = clock.now().astimezone(UTC).replace(microsecond=0)
        changed = _check(before, after, at, command)
        before = after
        return changed

    await step(jb, "/hpg HB-2026-011 Mo 02.06.2025 10:00", "eingetragen")
    meeting = next(uid for uid in before if uid.startswith("meeting-"))
    assert await step(jb, "/hpg HB-2026-011 02.06.2025 10:00", "HB-2026-011") == set()
    moved = await step(jb, "/hpg HB-2026-011 16.06.2025 10:00", "verlegt")
    assert meeting in moved and len(moved) == 2  # the meeting and the report before it
    deadline = next(
        uid
        for uid, (content, *_) in before.items()
        if uid.startswith("deadline-") and content["STATUS"] == b"CONFIRMED"
    )
    number = deadline.removeprefix("deadline-").split("@")[0]
    assert len(await step(jb, f"/erledigt {number}", "Erledigt")) == 1
    await step(jb, "/abstimmung HB-2026-011", "Abstimmung")
    await step(el, '/ag78_neu 12.12.2025 9-12 ort="Rathaus, Saal 1"', "eingetragen")
    assert len(await step(el, '/ag78_verlegen 12.12.2025 ort="Rathaus, Saal 2"', "geändert")) == 1
    assert len(await step(el, "/ag78_verlegen 12.12.2025 10-13", "geändert")) == 1
    assert len(await step(el, "/ag78_absagen 12.12.2025", "abgesagt")) == 1
    closed = await step(demo["MK"], "/fall_schliessen HB-2026-011", "beendet")
    assert closed  # its open deadlines are cancelled
