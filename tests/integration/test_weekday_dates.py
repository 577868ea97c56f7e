"""Issue 14, A2 in every date form: a weekday typed before a date, unquoted, in an option's
value or among the positional words, and ranges of days with weekdays, in every command that
takes dates. A matching weekday is accepted; one that does not match is asked back and changes
nothing. The clock stands at Mon 07.04.2025 10:00 (tests/conftest.py)."""

from __future__ import annotations

import pytest

from bot.core import Bot
from bot.messages import Incoming
from storage.db import Database
from tests.conftest import ChatUser
from tests.integration.helpers import case_of, row_counts

ACCEPTED = [
    ("TB", "/fall_neu HB-2025-103 §30 beginn=Mo 20.03.2023 traeger=JB", "Beginn 20.03.2023"),
    ("TB", "/fall_neu HB-2025-104 §30 Mo 20.03.2023 traeger=JB", "Beginn 20.03.2023"),
    ("TB", "/hpg HB-2026-011 Mi 04.06.2025 10:00", "eingetragen: Mi 04.06.2025, 10:00"),
    ("TB", "/abschluss HB-2026-011 Di 30.09.2025 14:00", "eingetragen: Di 30.09.2025, 14:00"),
    ("TB", "/abstimmung HB-2026-011 Fr 04.04.2025", "am 04.04.2025 vermerkt"),
    ("TB", "/fall_schliessen HB-2026-007 Fr 04.04.2025", "zum 04.04.2025 beendet"),
    ("JB", "/stunden 1 netzwerk Fr 04.04.2025", "am Fr 04.04.2025"),
    ("JB", "/tausch Mo 14.04. TS", "Tausch #1"),
    ("JB", "/abwesend urlaub Mi 16.04.2025-Fr 18.04.2025", "von Mi 16.04.2025 bis Fr 18.04.2025"),
    ("MK", "/vertretung JB Di 15.04.2025-Mi 16.04.2025 durch=LW", "Vertretung #1 eingetragen"),
    ("MK", "/vertrag laufzeit=Mi 01.01.2025-Mo 31.12.2029 stunden=1200", "01.01.2025–31.12.2029"),
    ("MK", "/vertrag laufzeit=Mi 01.01.2025-31.12.2027 stunden=1200", "01.01.2025–31.12.2027"),
    ("MK", "/rufbereitschaft_neu Test Nord mitglieder=MK,JB uebergabe=Mi 08:00", "„Test Nord“"),
    ("MK", "/ag78_neu Mo 24.03.2025 9-16 workshop", "Mo 24.03.2025, 09:00–16:00"),
    ("MK", "/rufbereitschaft_aendern Weserufer schicht=tag ab=Mo 14.04.", "ab Mo 14.04.2025"),
    ("MK", "/rufbereitschaft_beenden Weserufer ab=Do 01.05.", "endet am Do 01.05.2025"),
]

MISMATCHED = [
    ("TB", "/fall_neu HB-2025-103 §30 beginn=Mi 20.03.2023 traeger=JB", "Montag, kein Mittwoch"),
    ("TB", "/fall_neu HB-2025-103 §30 Mi 20.03.2023 traeger=JB", "Montag, kein Mittwoch"),
    ("TB", "/hpg HB-2026-011 Di 04.06.2025 10:00", "Mittwoch, kein Dienstag"),
    ("TB", "/abschluss HB-2026-011 Mo 30.09.2025", "Dienstag, kein Montag"),
    ("TB", "/abstimmung HB-2026-011 Do 04.04.2025", "Freitag, kein Donnerstag"),
    ("TB", "/fall_schliessen HB-2026-007 Do 04.04.2025", "Freitag, kein Donnerstag"),
    ("JB", "/stunden 1 netzwerk Do 04.04.2025", "Freitag, kein Donnerstag"),
    ("JB", "/tausch Di 14.04. TS", "Montag, kein Dienstag"),
    ("JB", "/abwesend urlaub Do 16.04.2025-Fr 18.04.2025", "Mittwoch, kein Donnerstag"),
    ("MK", "/vertretung JB Di 15.04.2025-Do 16.04.2025 durch=LW", "Mittwoch, kein Donnerstag"),
    ("MK", "/vertrag laufzeit=Di 01.01.2025-31.12.2029 stunden=1200", "Mittwoch, kein Dienstag"),
    ("MK", "/ag78_neu Mi 24.03.2025 9-16 workshop", "Montag, kein Mittwoch"),
    ("MK", "/rufbereitschaft_aendern Weserufer schicht=tag ab=Di 14.04.", "Montag, kein Dienstag"),
    ("MK", "/rufbereitschaft_beenden Weserufer ab=Mi 01.05.", "Donnerstag, kein Mittwoch"),
]


@pytest.mark.parametrize(("who", "text", "expected"), ACCEPTED)
def test_a_weekday_that_fits_its_date_is_accepted(
    demo: dict[str, ChatUser], who: str, text: str, expected: str
) -> None:
    assert expected in demo[who].say(text)


@pytest.mark.parametrize(("who", "text", "expected"), MISMATCHED)
def test_a_weekday_that_does_not_fit_is_asked_back_and_changes_nothing(
    demo: dict[str, ChatUser], db: Database, who: str, text: str, expected: str
) -> None:
    before = row_counts(db)
    reply = demo[who].say(text)
    assert expected in reply and "Meinst du" in reply
    assert row_counts(db) == before


def test_the_question_offers_the_command_with_the_right_weekday(
    demo: dict[str, ChatUser], bot: Bot, db: Database
) -> None:
    tb = demo["TB"]
    reply = bot.handle(
        Incoming(
            sender=tb.sender,
            chat_id=tb.sender.user_id,
            text="/fall_neu HB-2025-103 §30 traeger=JB beginn=Mi 20.03.2023",
        )
    )
    (button,) = reply.buttons
    assert button.label == "Ja, Montag, 20.03.2023"
    assert button.command == "/fall_neu HB-2025-103 §30 traeger=JB beginn=Mo 20.03.2023"
    assert "Beginn 20.03.2023" in tb.say(button.command)
    assert case_of(db, "HB-2025-103").start_date.isoformat() == "2023-03-20"


def test_only_the_weekday_before_the_date_is_corrected(demo: dict[str, ChatUser], bot: Bot) -> None:
    """Another word that spells a weekday (a Kürzel such as DO) stays as typed."""
    jb = demo["JB"]
    reply = bot.handle(
        Incoming(
            sender=jb.sender,
            chat_id=jb.sender.user_id,
            text="/stunden 1 netzwerk Do, 04.04.2025 do",
        )
    )
    (button,) = reply.buttons
    assert button.command == "/stunden 1 netzwerk Fr 04.04.2025 do"


def test_no_button_repeats_a_name_in_an_option(demo: dict[str, ChatUser], bot: Bot) -> None:
    """Found by bench/property_search.py: the button repeated `grund=Kowalski` (P1)."""
    jb = demo["JB"]
    reply = bot.handle(
        Incoming(
            sender=jb.sender,
            chat_id=jb.sender.user_id,
            text='/stunden "Mi 20.03.2023" HB-2025-017 gestern grund=Kowalski',
        )
    )
    assert "Kowalski" not in reply.text
    assert all("Kowalski" not in b.command and "Kowalski" not in b.label for b in reply.buttons)
