"""The inputs that reached the internal-error path, echoed a name or made a look-alike case
(issue 12): each gets a German answer now and changes nothing."""

from __future__ import annotations

import pytest

from bot import texts
from bot.core import Bot
from bot.messages import Incoming, Sender
from storage.db import Database
from storage.models.cases import Case
from tests.conftest import ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, row_counts

BIG = "9223372036854775808"  # 2**63
PG_BIG = "2147483648"  # 2**31: past PostgreSQL's INTEGER
SURROGATE = "\ud800"

INPUTS = [
    ("JB", f"/erledigt {BIG}", "Eine Nummer 92233720368… gibt es nicht."),
    ("JB", f"/erledigt {PG_BIG}", "Eine Nummer 2147483648 gibt es nicht."),
    ("JB", f"/spaeter {BIG}", "Eine Nummer 92233720368… gibt es nicht."),
    ("JB", f"/spaeter 12 {BIG}", "Wie viele Tage? Bitte eine Zahl von 1 bis 30"),
    ("JB", f"/quittieren {BIG}", "Eine Nummer 92233720368… gibt es nicht."),
    ("JB", f"/tausch_ok {BIG}", "finde ich nicht"),
    ("JB", f"/tausch_nein {PG_BIG}", "finde ich nicht"),
    ("JB", f"/uebergabe_ok {BIG}", ""),
    ("JB", f"/vertretung_loeschen {BIG}", "finde ich nicht"),
    ("JB", f"/stunden_zurueck {BIG}", "Eine Nummer 92233720368… gibt es nicht."),
    ("JB", f"/rufbereitschaft {BIG}", "Diese Rufbereitschaft finde ich nicht."),
    ("MK", f"/korrektur {BIG} 1,5 grund=Tippfehler", "Eine Nummer 92233720368… gibt es nicht."),
    ("JB", "/erledigt ²²", "finde ich bei deinen Fällen nicht"),
    ("JB", "/stunden 2 gruppe teilnehmer=٣", "Teilnehmende bitte als Zahl zwischen 1 und 200"),
    ("JB", "/abwesend krank bis 31.12.9999", "Das Jahr 9999 liegt außerhalb"),
    ("MK", "/ag78_verlegen 12.05.2023 01.01.0001", "Das Jahr 1 liegt außerhalb"),
    ("MK", "/ag78_absagen 31.12.9999", "Das Jahr 9999 liegt außerhalb"),
    ("JB", "/stunden 99999999999999999999999999999,5 netzwerk", "viel zu groß für eine Dauer"),
    ("JB", f"/anpiepen Bitte zurückrufen {SURROGATE}", texts.INVALID_CHARACTERS),
    ("JB", f"/rufbereitschaft {SURROGATE}", texts.INVALID_CHARACTERS),
    ("JB", f"/uebergabe_ok {SURROGATE}", texts.INVALID_CHARACTERS),
    ("JB", f"/vertreter {SURROGATE}", texts.INVALID_CHARACTERS),
    ("MK", '/ag78_neu Mo 20.03.2023 9-16 titel="a\x00b"', texts.INVALID_CHARACTERS),
    ("JB", "Kowalski braucht Hilfe", texts.unknown_command()),
    ("JB", "/kalender_neu 0 Kowalski", "Diese Angabe kenne ich nicht als Kalender"),  # Hypothesis
    ("JB", "/kalender_sperren 0 Kowalski", "Diese Angabe kenne ich nicht als Kalender"),
    ("JB", "/frsiten", texts.unknown_command("fristen")),
    ("MK", "/ag78_neu Mo 20.03.2023 9-16 Kowalski", "Diese Angabe verstehe ich nicht"),
    ("MK", "/ag78_neu Mi 20.03.2023 9-16 Kowalski", "ist ein Montag, kein Mittwoch"),
    ("TB", "/fall_neu HB-٢٠٢٦-٠١١ §30 beginn=01.04.2025 traeger=JB", "Ziffern 0–9"),
    (
        "TB",
        "/fall_neu HB-２０２６-０１１ §30 beginn=01.04.2025 traeger=JB",
        "Den Fall HB-2026-011 gibt es schon.",
    ),
]


@BOTH_BACKENDS
def test_each_gets_a_german_answer_and_changes_nothing(
    bot: Bot, db: Database, demo: dict[str, ChatUser], caplog: pytest.LogCaptureFixture
) -> None:
    before = row_counts(db)
    for who, line, answer in INPUTS:
        reply = bot.handle(Incoming(demo[who].sender, demo[who].sender.user_id, line, private=True))
        assert reply.text != texts.SORRY, line
        assert answer in reply.text, (line, reply.text)
        assert reply.refused or "kein Mittwoch" in reply.text, line  # a question back (A2)
        text = " ".join([reply.text, *(b.command for b in reply.buttons)])
        assert "Kowalski" not in text and "kowalski" not in text, (line, reply)
        assert row_counts(db) == before, line
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    # One case HB-2026-011, no look-alike.
    assert [c.code for c in all_rows(db, Case) if c.code.startswith("HB-2026-011")] == [
        "HB-2026-011"
    ]


def test_a_surrogate_in_the_account_or_the_name_is_no_crash(
    bot: Bot, db: Database, demo_codes: dict[str, str]
) -> None:
    odd = Sender("matrix", f"@x{SURROGATE}:example.org", None)
    assert bot.handle(Incoming(odd, "room", "/fristen")).text == texts.STRANGER
    named = Sender("telegram", "77", f"Ma{SURROGATE}ra")
    reply = bot.handle(Incoming(named, "77", f"/start {demo_codes['MK']}"))
    assert reply.text.startswith("Willkommen, Mara Koch")  # the pre-created name, not the odd one
