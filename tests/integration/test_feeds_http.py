"""The feed server over HTTP on 127.0.0.1, fed by chat commands on a real database."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict
from sqlmodel import select

from bot.demo import PEOPLE
from config.enums import DeadlineStatus
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.web import FeedServer
from storage.db import Database
from storage.feeds import hash_token
from storage.models.cases import Case, Deadline
from storage.models.feeds import FeedToken
from storage.models.staff import Staff
from tests.conftest import ChatUser
from tests.icalcheck import feed_path, parse_feed
from tests.integration.helpers import BOTH_BACKENDS

BERLIN = ZoneInfo("Europe/Berlin")
CODE_AND_KIND = re.compile(
    r"^[A-Z]{1,5}-\d{4}-\d{1,5} (Handlungsplan|Folge-Hilfeplangespräch|Bericht|"
    r"Abstimmungsgespräch|Hilfeplangespräch|Abschlussgespräch)$"
)


@pytest.fixture
async def http(settings: Settings, db: Database, clock: FixedClock) -> AsyncIterator[TestClient]:
    """The feed server on a free port of 127.0.0.1; checks the database on every request."""
    web = settings.web.model_copy(update={"recheck_seconds": 0.0})
    server = FeedServer(settings.model_copy(update={"web": web}), db, clock)
    client = TestClient(TestServer(server.app(), host="127.0.0.1"), auto_decompress=False)
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def fetch(http: TestClient, path: str, **headers: str) -> tuple[int, CIMultiDict[str], bytes]:
    headers.setdefault("Accept-Encoding", "identity")
    async with http.get(path, headers=headers) as resp:
        return resp.status, CIMultiDict(resp.headers), await resp.read()


def links(user: ChatUser) -> str:
    reply = user.say("/kalender")
    assert reply.startswith("Deine Kalender-Abos:"), reply
    return reply


# ---------------------------------------------------------------------------
# Personal feeds on the demo organisation (clock: Mon 07.04.2025 10:00)


@BOTH_BACKENDS
async def test_personal_feed_shows_open_deadlines_all_day_with_case_code_and_kind_only(
    http: TestClient, demo: dict[str, ChatUser], db: Database
) -> None:
    path = feed_path(links(demo["JB"]), "Meine Fristen")
    status, headers, body = await fetch(http, path)
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    _, events = parse_feed(body)
    with db.session() as session:
        jb = session.exec(select(Staff).where(Staff.handle == "JB")).one()
        cases = session.exec(select(Case).where(Case.provider_staff_id == jb.id)).all()
        open_ids = {
            d.id
            for d in session.exec(select(Deadline).where(Deadline.status == DeadlineStatus.open))
            if d.case_id in {c.id for c in cases}
        }
    deadline_events = {uid: e for uid, e in events.items() if uid.startswith("deadline-")}
    assert {int(uid.split("-")[1].split("@")[0]) for uid in deadline_events} >= open_ids
    for uid, e in deadline_events.items():
        assert isinstance(e.start, date) and not isinstance(e.start, datetime), uid
        assert e.end == e.start + timedelta(days=1)
        assert CODE_AND_KIND.match(e.summary), e.summary
    names = [p.name for p in PEOPLE] + [p.name.split()[-1] for p in PEOPLE]
    assert not any(n in body.decode() for n in names)


async def test_moving_a_meeting_keeps_uids_and_raises_sequence(
    http: TestClient, demo: dict[str, ChatUser], clock: FixedClock
) -> None:
    path = feed_path(links(demo["JB"]), "Meine Fristen")
    assert "eingetragen" in demo["JB"].say("/hpg HB-2026-011 Mo 02.06.2025 10:00")
    _, _, body = await fetch(http, path)
    _, before = parse_feed(body)
    meeting_uid = next(u for u in before if u.startswith("meeting-"))
    meeting = before[meeting_uid]
    assert meeting.start == datetime(2025, 6, 2, 10, tzinfo=BERLIN)
    assert meeting.summary == "HB-2026-011 Hilfeplangespräch"
    report_uid = next(
        u for u, e in before.items() if e.start == date(2025, 4, 17) and "Bericht" in e.summary
    )  # D3: 6 weeks before 02.06. is Easter Monday, Good Friday too: Thu 17.04.2025

    clock.advance(timedelta(hours=1))
    assert "verlegt" in demo["JB"].say("/hpg HB-2026-011 16.06.2025 10:00")
    _, _, body = await fetch(http, path)
    _, after = parse_feed(body)
    assert after[meeting_uid].start == datetime(2025, 6, 16, 10, tzinfo=BERLIN)
    assert after[meeting_uid].sequence == meeting.sequence + 1
    assert after[meeting_uid].last_modified > meeting.last_modified
    assert after[report_uid].start == date(2025, 5, 5)
    assert after[report_uid].sequence == before[report_uid].sequence + 1

    assert "abgesagt" in demo["JB"].say("/hpg HB-2026-011 absagen")
    _, _, body = await fetch(http, path)
    _, cancelled = parse_feed(body)
    assert cancelled[meeting_uid].status == "CANCELLED"
    assert cancelled[meeting_uid].sequence == meeting.sequence + 2
    assert cancelled[report_uid].status == "CANCELLED"  # the report before it is dropped


async def test_on_call_handovers_stay_at_nine_across_the_spring_change(
    http: TestClient, demo: dict[str, ChatUser]
) -> None:
    reply = links(demo["MK"])
    _, _, body = await fetch(http, feed_path(reply, "Rufbereitschaft Weserufer"))
    _, shifts = parse_feed(body)
    starts = sorted(e.start for e in shifts.values())  # type: ignore[type-var]
    assert starts[0] == datetime(2025, 3, 17, 9, tzinfo=BERLIN)  # anchor, inside the window
    assert all(s.astimezone(BERLIN).hour == 9 for s in starts)  # type: ignore[union-attr]
    # Spring forward on 30.03.2025: the shift around it lasts 167 hours.
    across = next(e for e in shifts.values() if e.start == datetime(2025, 3, 24, 9, tzinfo=BERLIN))
    elapsed = across.end.astimezone(UTC) - across.start.astimezone(UTC)  # type: ignore[union-attr]
    assert elapsed == timedelta(hours=167)
    assert {e.summary for e in shifts.values()} == {
        "Rufbereitschaft: Mara Koch (MK)",
        "Rufbereitschaft: Jonas Berg (JB)",
        "Rufbereitschaft: Tim Sommer (TS)",
    }
    _, _, mine = await fetch(http, feed_path(reply, "Meine Rufbereitschaft"))
    _, my_shifts = parse_feed(mine)
    assert my_shifts and {e.summary for e in my_shifts.values()} == {
        "Rufbereitschaft: Mara Koch (MK)"
    }
    assert set(my_shifts) < set(shifts)  # the same UIDs as in the rotation's feed


# ---------------------------------------------------------------------------
# HTTP behaviour: 304, HEAD, gzip, 404 without hint, revocation


async def test_conditional_requests_head_and_gzip(
    http: TestClient, demo: dict[str, ChatUser], clock: FixedClock
) -> None:
    path = feed_path(links(demo["MK"]), "AG 78")
    status, headers, body = await fetch(http, path)
    assert status == 200
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert headers["Cache-Control"] == "private, no-cache"

    status, again, empty = await fetch(http, path, **{"If-None-Match": etag})
    assert (status, empty, again["ETag"]) == (304, b"", etag)
    status, _, _ = await fetch(http, path, **{"If-None-Match": f'"other", W/{etag}'})
    assert status == 304
    status, _, _ = await fetch(http, path, **{"If-Modified-Since": modified})
    assert status == 304
    status, _, _ = await fetch(
        http, path, **{"If-None-Match": '"other"', "If-Modified-Since": modified}
    )
    assert status == 200  # If-None-Match decides when both are sent (RFC 9110)

    async with http.head(path, headers={"Accept-Encoding": "identity"}) as resp:
        assert resp.status == 200
        assert resp.headers["ETag"] == etag
        assert int(resp.headers["Content-Length"]) == len(body)
        assert await resp.read() == b""

    status, zipped, packed = await fetch(http, path, **{"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed) == body
    assert zipped["ETag"] != etag and zipped["Vary"] == "Accept-Encoding"
    status, _, _ = await fetch(
        http, path, **{"Accept-Encoding": "gzip", "If-None-Match": zipped["ETag"]}
    )
    assert status == 304

    # A change gives new bytes, a new ETag and a later Last-Modified.
    clock.advance(timedelta(minutes=5))
    assert (
        demo["EL"]
        .say('/ag78_neu Do 13.11.2025 9-12 ort="Rathaus"')
        .startswith("AG-78-Termin eingetragen:")
    )
    status, changed, new_body = await fetch(http, path, **{"If-None-Match": etag})
    assert status == 200 and changed["ETag"] != etag and new_body != body
    assert changed["Last-Modified"] != modified
    status, _, _ = await fetch(http, path, **{"If-Modified-Since": modified})
    assert status == 200


async def test_unknown_and_revoked_tokens_get_the_same_plain_404(
    http: TestClient, demo: dict[str, ChatUser], db: Database
) -> None:
    old = feed_path(links(demo["JB"]), "Meine Fristen")
    assert (await fetch(http, old))[0] == 200
    never = await fetch(http, "/feeds/" + "A" * 32 + ".ics")
    nonsense = await fetch(http, "/feeds/x.ics")
    no_route = await fetch(http, "/somewhere")
    assert never[0] == nonsense[0] == no_route[0] == 404
    assert never[2] == nonsense[2] == no_route[2]

    reply = demo["JB"].say("/kalender_neu fristen")
    new = feed_path(reply, "Meine Fristen")
    assert new != old
    status, _, body = await fetch(http, old)
    assert (status, body) == (404, never[2])
    assert (await fetch(http, new))[0] == 200
    ag78 = feed_path(reply, "AG 78") if "AG 78" in reply else None
    assert ag78 is None  # only the chosen feed was renewed

    assert "gesperrt" in demo["JB"].say("/kalender_sperren")
    assert (await fetch(http, new))[0] == 404

    # A person who leaves loses every feed at once.
    reply = demo["TS"].say("/kalender")
    path = feed_path(reply, "AG 78")
    assert (await fetch(http, path))[0] == 200
    with db.session() as session:
        ts = session.exec(select(Staff).where(Staff.handle == "TS")).one()
        ts.active = False
    assert (await fetch(http, path))[0] == 404


async def test_tokens_are_stored_only_as_hashes_and_links_are_shown_once(
    demo: dict[str, ChatUser], db: Database
) -> None:
    reply = links(demo["LW"])
    tokens = re.findall(r"/feeds/([A-Za-z0-9_-]+)\.ics", reply)
    assert len(tokens) == 3  # AG 78, personal, the rotation (LW is no member: no own shifts)
    with db.session() as session:
        stored = session.exec(select(FeedToken)).all()
    assert all(len(t) == 32 for t in tokens)  # 192 random bits
    assert {s.token_hash for s in stored}.isdisjoint(tokens)
    assert {hash_token(t) for t in tokens} <= {s.token_hash for s in stored}
    again = demo["LW"].say("/kalender")
    assert "/feeds/" not in again and "aktiv seit 07.04.2025" in again


async def test_healthz(http: TestClient) -> None:
    status, _, body = await fetch(http, "/healthz")
    assert (status, body) == (200, b"ok\n")
