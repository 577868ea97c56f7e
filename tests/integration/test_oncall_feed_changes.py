"""On-call feed events change only with their own shift (issues 13, 15): DTSTAMP and
LAST-MODIFIED are the last change of that shift's data, SEQUENCE rises only on the shifts an
override or an edit really changes."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from scheduler.clock import FixedClock
from tests.conftest import ChatUser
from tests.icalcheck import feed_path, parse_feed
from tests.integration.helpers import BOTH_BACKENDS
from tests.integration.test_rota_chat import at

Events = dict[tuple[datetime, datetime], tuple[str, int, datetime, datetime]]


async def events(http: TestClient, path: str) -> Events:
    """(start, end) -> (summary, SEQUENCE, LAST-MODIFIED, DTSTAMP) of every event."""
    async with http.get(path) as resp:
        assert resp.status == 200
        cal, found = parse_feed(await resp.read())
    stamps = {str(e["UID"]): e.decoded("DTSTAMP") for e in cal.walk("VEVENT")}
    return {
        (e.start, e.end): (e.summary, e.sequence, e.last_modified, stamps[uid])  # type: ignore[misc]
        for uid, e in found.items()
    }


def same_span(now: Events, before: Events) -> bool:
    """The same events where both feeds' windows (they move with the day) overlap."""
    shared = set(now) & set(before)
    return len(shared) > 20 and all(now[k] == before[k] for k in shared)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@BOTH_BACKENDS
async def test_shift_stamps_and_sequence_follow_only_their_own_changes(
    http: TestClient, demo: dict[str, ChatUser], clock: FixedClock
) -> None:
    created = at(7, 4, 10)
    demo["MK"].say(
        '/rufbereitschaft_neu "Rufbereitschaft Nacht" mitglieder=LW,TS schicht=tag '
        "uebergabe=18:00 start=01.04.2025"
    )
    links = demo["MK"].say("/kalender")
    weser, night = (
        feed_path(links, "Rufbereitschaft Weserufer"),
        feed_path(links, "Rufbereitschaft Nacht"),
    )
    first = await events(http, night)
    # Every shift, past and coming, was last changed when the rotation was set up.
    assert {(seq, lm, ds) for _, seq, lm, ds in first.values()} == {(0, utc(created), utc(created))}
    demo_shift = (await events(http, weser))[(at(21, 4, 9), at(28, 4, 9))]
    assert demo_shift[1:] == (0, utc(created), utc(created))  # the demo's set-up time

    # An override for JB in every rotation: only JB's week changes; Nacht has no JB.
    clock.set(at(8, 4, 10))
    demo["MK"].say("/vertretung JB 15.04.-16.04. durch=LW grund=krank")
    after = await events(http, weser)
    touched = [after[(at(14, 4, 9), at(15, 4, 0))], after[(at(15, 4, 0), at(17, 4, 0))]]
    assert [t[1:] for t in touched] == [(1, utc(at(8, 4, 10)), utc(at(8, 4, 10)))] * 2
    assert after[(at(21, 4, 9), at(28, 4, 9))][1:] == (0, utc(created), utc(created))
    assert same_span(await events(http, night), first)

    # An edit from 12.04. on: the shifts it moves change, the ones before stay untouched.
    clock.set(at(9, 4, 10))
    demo["MK"].say("/rufbereitschaft_aendern Nacht uebergabe=20:00 ab=12.04.")
    edited = await events(http, night)
    assert edited[(at(11, 4, 18), at(12, 4, 18))][1:] == (0, utc(created), utc(created))
    stretched = edited[(at(12, 4, 18), at(13, 4, 20))]
    assert stretched[1:] == (1, utc(at(9, 4, 10)), utc(at(9, 4, 10)))
    assert edited[(at(13, 4, 20), at(14, 4, 20))][1] == 1
    assert (at(12, 4, 18), at(13, 4, 18)) not in edited
    assert same_span(await events(http, weser), after)  # another rotation's edit: no change
