"""AG 78 sessions from chat (A1-A3): coordinators add, move and cancel; the feed follows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from bot.core import Bot
from bot.messages import Incoming
from config.enums import OrgKind, Role, StaffType
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.staff import Organisation
from storage.staff import create_invite
from tests.conftest import ChatUser
from tests.icalcheck import feed_path, parse_feed
from tests.integration.helpers import row_counts

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2023, 1, 10, 10, 0, tzinfo=BERLIN))


@pytest.fixture
def people(bot: Bot, db: Database, clock: FixedClock) -> dict[str, ChatUser]:
    """A Jugendamt coordinator, a provider coordinator and a provider caseworker."""
    with db.session() as session:
        ja = Organisation(name="Jugendamt Kreis", kind=OrgKind.jugendamt)
        provider = Organisation(name="Regenbogen e. V.", kind=OrgKind.provider)
        session.add_all([ja, provider])
        session.flush()
        codes = {
            "lead": create_invite(
                session, organisation=ja, role=Role.coordinator, now=clock.now(), valid_days=14
            )[0],
            "member": create_invite(
                session,
                organisation=provider,
                role=Role.caseworker,
                now=clock.now(),
                valid_days=14,
                staff_type=StaffType.fachkraft,
            )[0],
        }
    users = {}
    for who, code, name in (
        ("lead", codes["lead"], "Eva Lind"),
        ("member", codes["member"], "Jo Berg"),
    ):
        users[who] = ChatUser(bot, who)
        assert users[who].say(f"/start {code} {name}").startswith("Willkommen")
    return users


async def test_the_wednesday_that_was_a_monday_is_asked_back_with_a_button(
    people: dict[str, ChatUser], bot: Bot, db: Database
) -> None:
    before = row_counts(db)
    reply = bot.handle(_incoming(people["lead"], "/ag78_neu Mi 20.03.2023 9-16 workshop"))
    assert "Der 20.03.2023 ist ein Montag, kein Mittwoch" in reply.text
    assert [b.command for b in reply.buttons] == ["/ag78_neu Mo 20.03.2023 9-16 workshop"]
    assert row_counts(db) == before
    answer = people["lead"].say(reply.buttons[0].command)
    assert answer.startswith("AG-78-Termin eingetragen: Mo 20.03.2023, 09:00–16:00 Workshop")


def _incoming(user: ChatUser, text: str) -> Incoming:
    return Incoming(sender=user.sender, chat_id=user.sender.user_id, text=text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/ag78_neu", "Bitte Datum und Uhrzeit angeben"),
        ("/ag78_neu 12.05.2023", "Bitte Beginn und Ende angeben"),
        ("/ag78_neu 12.05.2023 12-9", "nicht nach dem Beginn"),
        ("/ag78_neu 31.02.2023 9-12", "Den 31.02.2023 gibt es nicht"),
        ("/ag78_neu 12.05.2023 9-12 raum=5", "„raum=“ kenne ich hier nicht"),
        ("/ag78_neu 12.05.2023 9-12 sitzung workshop", "nur eine Art"),
        ("/ag78_verlegen 11.05.2023 19.05.2023", "finde ich keinen AG-78-Termin"),
        ("/ag78_absagen 11.05.2023", "finde ich keinen AG-78-Termin"),
        ("/ag78_absagen Mi 12.05.2023", "ist ein Freitag, kein Mittwoch"),
        ("/kalender_neu urlaub", "Diese Angabe kenne ich nicht als Kalender"),
    ],
)
def test_bad_input_gets_a_german_answer_and_changes_nothing(
    people: dict[str, ChatUser], db: Database, text: str, expected: str
) -> None:
    assert people["lead"].say("/ag78_neu 12.05.2023 9-12").startswith("AG-78-Termin eingetragen")
    before = row_counts(db)
    assert expected in people["lead"].say(text)
    assert row_counts(db) == before


def test_only_coordinators_manage_sessions_and_duplicates_are_refused(
    people: dict[str, ChatUser], db: Database
) -> None:
    assert "nicht" in people["member"].say("/ag78_neu 12.05.2023 9-12")
    assert people["lead"].say("/ag78_neu 12.05.2023 9-12").startswith("AG-78-Termin eingetragen")
    before = row_counts(db)
    assert "schon ein AG-78-Termin" in people["lead"].say("/ag78_neu Fr 12.05.2023 9-11")
    assert row_counts(db) == before


async def test_move_and_cancel_reach_the_feed_and_cancellations_expire(
    people: dict[str, ChatUser], http: TestClient, clock: FixedClock
) -> None:
    lead = people["lead"]
    for line in (
        '/ag78_neu 27.01.2023 9-12 titel="1. Sitzung AG 78 HzE"',
        '/ag78_neu Mo 20.03.2023 9-16 workshop titel="Fachaustausch"',
        "/ag78_neu 12.05.2023 9-12",
        "/ag78_neu 01.09.2023 9-12",
        "/ag78_neu 13.10.2023 9-12 ort=https://meet.example.org/ag78",
    ):
        assert lead.say(line).startswith("AG-78-Termin eingetragen"), line
    path = feed_path(people["member"].say("/kalender"), "AG 78")
    async with http.get(path) as resp:
        _, events = parse_feed(await resp.read())
    by_day = {e.start.date(): e for e in events.values()}  # type: ignore[union-attr]
    assert by_day[datetime(2023, 1, 27).date()].start.astimezone(UTC).hour == 8  # type: ignore[union-attr]
    may = by_day[datetime(2023, 5, 12).date()]
    assert may.start.astimezone(UTC).hour == 7  # type: ignore[union-attr]  # CEST
    assert may.summary == "AG 78 – Sitzung 2. Quartal 2023"

    clock.advance(timedelta(days=1))
    reply = lead.say("/ag78_verlegen Fr 12.05.2023 Fr 19.05.2023 10-13")
    assert "jetzt: Fr 19.05.2023, 10:00–13:00" in reply, reply
    assert "AG-78-Termin abgesagt" in lead.say("/ag78_absagen 13.10.2023")
    async with http.get(path) as resp:
        _, after = parse_feed(await resp.read())
    assert set(after) == set(events)  # UIDs stay, nothing new, nothing lost
    assert after[may.uid].start == datetime(2023, 5, 19, 10, tzinfo=BERLIN)
    assert after[may.uid].sequence == may.sequence + 1
    october = next(e for e in after.values() if e.start.month == 10)  # type: ignore[union-attr]
    assert october.status == "CANCELLED" and october.sequence == 1

    clock.advance(timedelta(days=61))  # past web.cancelled_days
    async with http.get(path) as resp:
        _, later = parse_feed(await resp.read())
    assert october.uid not in later and len(later) == 4


# ---------------------------------------------------------------------------
# Times the clocks repeat or skip are asked back, never guessed


async def test_a_time_that_happens_twice_is_asked_back_and_each_answer_is_one_instant(
    people: dict[str, ChatUser], bot: Bot, db: Database, http: TestClient
) -> None:
    before = row_counts(db)
    reply = bot.handle(_incoming(people["lead"], "/ag78_neu So 31.10.2027 02:30-04:00"))
    assert reply.text.startswith(
        "Am So 31.10.2027 gibt es 02:30 zweimal: In dieser Nacht werden die Uhren um 03:00 "
        "auf 02:00 zurückgestellt (Ende der Sommerzeit)."
    ), reply.text
    assert [b.command for b in reply.buttons] == [
        "/ag78_neu So 31.10.2027 02:30-04:00 zeit=sommerzeit",
        "/ag78_neu So 31.10.2027 02:30-04:00 zeit=winterzeit",
    ]
    assert row_counts(db) == before
    second = people["lead"].say(reply.buttons[1].command)
    assert second.startswith(
        "AG-78-Termin eingetragen: So 31.10.2027, 02:30 (Winterzeit)–04:00 Sitzung"
    ), second
    # The earlier reading is another instant, so it is not a clash.
    first = people["lead"].say(reply.buttons[0].command)
    assert first.startswith("AG-78-Termin eingetragen: So 31.10.2027, 02:30 (Sommerzeit)–04:00")

    path = feed_path(people["member"].say("/kalender"), "AG 78")
    async with http.get(path) as resp:
        _, events = parse_feed(await resp.read())  # icalendar and vobject agree
    starts = sorted(e.start.astimezone(UTC) for e in events.values())  # type: ignore[union-attr]
    assert starts == [
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
    ]


async def test_a_time_the_clocks_skip_is_asked_back_with_the_time_after_the_jump(
    people: dict[str, ChatUser], bot: Bot, db: Database, http: TestClient
) -> None:
    before = row_counts(db)
    reply = bot.handle(_incoming(people["lead"], '/ag78_neu So 28.03.2027 2:30-4 titel="Klausur"'))
    assert reply.text == (
        "Am So 28.03.2027 gibt es 02:30 nicht: In dieser Nacht werden die Uhren um 02:00 auf "
        "03:00 vorgestellt (Beginn der Sommerzeit). Meinst du 03:30–04:00? Sonst bitte eine "
        "andere Uhrzeit angeben."
    )
    assert [b.command for b in reply.buttons] == [
        '/ag78_neu So 28.03.2027 03:30-04:00 titel="Klausur"'
    ]
    assert row_counts(db) == before
    answer = people["lead"].say(reply.buttons[0].command)
    assert answer.startswith(
        "AG-78-Termin eingetragen: So 28.03.2027, 03:30–04:00 Sitzung: Klausur"
    )
    path = feed_path(people["member"].say("/kalender"), "AG 78")
    async with http.get(path) as resp:
        _, events = parse_feed(await resp.read())
    (event,) = events.values()
    assert event.start.astimezone(UTC) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # type: ignore[union-attr]


def test_moving_onto_a_repeated_time_asks_too_and_keeps_the_reading_when_only_the_place_changes(
    people: dict[str, ChatUser], bot: Bot, db: Database
) -> None:
    lead = people["lead"]
    assert lead.say("/ag78_neu Sa 30.10.2027 02:30-04:00").startswith("AG-78-Termin eingetragen")
    reply = bot.handle(_incoming(lead, "/ag78_verlegen 30.10.2027 31.10.2027"))
    assert "gibt es 02:30 zweimal" in reply.text
    assert [b.command for b in reply.buttons][1] == (
        "/ag78_verlegen 30.10.2027 31.10.2027 zeit=winterzeit"
    )
    moved = lead.say(reply.buttons[1].command)
    assert "jetzt: So 31.10.2027, 02:30 (Winterzeit)–04:00" in moved, moved
    changed = lead.say('/ag78_verlegen 31.10.2027 ort="Rathaus"')
    assert "jetzt: So 31.10.2027, 02:30 (Winterzeit)–04:00 Sitzung" in changed, changed
    reply = bot.handle(_incoming(lead, "/ag78_verlegen 31.10.2027 28.03.2027"))
    assert "gibt es 02:30 nicht" in reply.text
    assert [b.command for b in reply.buttons] == [
        "/ag78_verlegen 31.10.2027 28.03.2027 03:30-04:00"
    ]
