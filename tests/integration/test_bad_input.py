"""Bad input gets a clear German answer and changes nothing; crashes end in one apology."""

from __future__ import annotations

import logging

import pytest

from bot import texts
from bot.context import Ctx
from bot.core import Bot
from bot.errors import UserError
from bot.messages import Reply
from bot.registry import Registry
from config.enums import HoursCategory
from config.settings import Settings
from scheduler.clock import FixedClock
from storage import audit
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.hours import HoursEntry
from tests.conftest import ChatUser
from tests.integration.helpers import all_rows, row_counts

CASE = "HB-2026-011"  # JB's demo case


def test_too_long_message(settings: Settings, db: Database, demo: dict[str, ChatUser]) -> None:
    limit = settings.max_message_chars
    before = row_counts(db)
    reply = demo["JB"].say("/stunden 1 netzwerk " + "x" * limit)
    assert reply == texts.too_long(limit)
    assert f"höchstens {limit} Zeichen" in reply
    assert row_counts(db) == before
    # Exactly at the limit is still read (and here refused for its content, not its length).
    at_limit = "/fristen " + "a" * (limit - len("/fristen "))
    assert len(at_limit) == limit
    assert demo["JB"].say(at_limit).startswith("Deine offenen Fristen bis")


def test_unknown_command_is_not_echoed(db: Database, demo: dict[str, ChatUser]) -> None:
    """Without the `/` any sentence is a command word: it may be a client's name (P1)."""
    before = row_counts(db)
    unknown = "Diesen Befehl kenne ich nicht. /hilfe zeigt alle Befehle mit Beispielen."
    assert demo["JB"].say("/urlaub morgen") == unknown
    assert demo["JB"].say("Kowalski braucht Hilfe") == unknown
    assert "Kowalski" not in demo["JB"].say("Kowalski braucht Hilfe")
    assert demo["JB"].say(f"/{'a' * 60}") == unknown
    assert demo["JB"].say("???") == texts.NOT_UNDERSTOOD
    assert demo["JB"].say("Wie geht's?") == unknown
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("/frsiten", "fristen"),
        ("erledgt 12", "erledigt"),
        ("/faelel", "faelle"),
        ("Hilfee", "hilfe"),
    ],
)
def test_a_typo_gets_the_nearest_command(demo: dict[str, ChatUser], typed: str, meant: str) -> None:
    assert demo["JB"].say(typed) == (
        f"Diesen Befehl kenne ich nicht. Meinst du /{meant}? "
        "/hilfe zeigt alle Befehle mit Beispielen."
    )


def test_only_commands_of_ones_role_are_suggested(demo: dict[str, ChatUser]) -> None:
    # /einladen is for coordinators: a caseworker is not pointed to it.
    assert "/einladen" in demo["MK"].say("/einladn")
    assert "/einladen" not in demo["JB"].say("/einladn")
    # In a group only group-safe commands are suggested.
    assert "/notfall" in demo["JB"].say("/notfal", private=False)
    assert "Meinst du" not in demo["JB"].say("/frsiten", private=False)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (
            f"/hpg {CASE} Mi 02.06.2025",
            "Der 02.06.2025 ist ein Montag, kein Mittwoch. Meinst du Montag, 02.06.2025?",
        ),
        (f"/hpg {CASE} Mi 02.06.2025 10:00", "ist ein Montag, kein Mittwoch"),
        (f"/abschluss {CASE} Fr 30.09.2025", "Der 30.09.2025 ist ein Dienstag, kein Freitag."),
        (f"/hpg {CASE} 31.02.2025", "Den 31.02.2025 gibt es nicht."),
        (f"/hpg {CASE} 30.02. 10:00", "Den 30.02. gibt es nicht."),
        (f"/hpg {CASE} 02.06.2025 25:00", "keine gültige Uhrzeit"),
        (f"/hpg {CASE} irgendwann", "verstehe ich nicht als Datum."),
        (f"/abstimmung {CASE} 32.01.2025", "Den 32.01.2025 gibt es nicht."),
        ("/fall_neu HB-2025-117 §30 beginn=31.04.2025 traeger=JB", "Den 31.04.2025 gibt es nicht."),
        (
            "/fall_neu HB-2025-117 §28 beginn=01.04.2025 traeger=JB",
            "keine passende Rechtsgrundlage",
        ),
        (
            "/fall_neu HB-2025-117 §30 beginn=01.04.2025 traeger=JB farbe=rot",
            "Unbekannte Angabe: farbe",
        ),
        ('/fall_neu HB-2025-117 §30 notiz="offen', "fehlt das schließende Anführungszeichen"),
        ("/fall HB-2099-001", texts.unknown_case("HB-2099-001")),
        ("/hpg HB-2099-001 02.06.2025", texts.unknown_case("HB-2099-001")),
    ],
)
def test_bad_dates_and_values_change_nothing(
    db: Database, demo: dict[str, ChatUser], text: str, answer: str
) -> None:
    before = row_counts(db)
    assert answer in demo["TB"].say(text)
    assert row_counts(db) == before


def test_impossible_date_in_hours(db: Database, demo: dict[str, ChatUser]) -> None:
    before = row_counts(db)
    assert demo["JB"].say("/stunden 1 netzwerk 31.02.").startswith("Den 31.02. gibt es nicht.")
    assert demo["JB"].say(f"/stunden 1 {CASE} Di 07.04.2025") == (
        "Der 07.04.2025 ist ein Montag, kein Dienstag. Meinst du Montag, 07.04.2025? "
        "Bitte gib das Datum noch einmal ohne Wochentag oder mit dem richtigen an."
    )
    assert row_counts(db) == before


def test_weekday_that_agrees_with_the_date_is_fine(demo: dict[str, ChatUser]) -> None:
    reply = demo["TB"].say(f"/hpg {CASE} Mo 02.06.2025 10:00")
    assert reply.startswith(f"Hilfeplangespräch für {CASE} eingetragen: Mo 02.06.2025, 10:00.")


def _registered_on_fresh_registry(
    bot: Bot, settings: Settings, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> tuple[Registry, ChatUser]:
    """A Bot on a registry with throwaway commands, used by an already registered person."""
    registry = Registry()
    broken = Bot(settings, db, clock, registry=registry)
    return registry, ChatUser(broken, demo["JB"].sender.user_id)


def _write_something(ctx: Ctx) -> None:
    """Real writes through the storage layer, flushed to the database before the failure."""
    ctx.session.add(
        HoursEntry(
            staff_id=ctx.staff_id,
            organisation_id=ctx.staff.organisation_id,
            day=ctx.today,
            minutes=60,
            category=HoursCategory.network,
            created_at=ctx.now,
        )
    )
    audit.record(
        ctx.session, at=ctx.now, actor_staff_id=ctx.staff_id, action="log", entity="x", entity_id=1
    )
    ctx.session.flush()


def test_unexpected_error_gives_apology_and_no_partial_write(
    bot: Bot,
    settings: Settings,
    db: Database,
    clock: FixedClock,
    demo: dict[str, ChatUser],
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry, jonas = _registered_on_fresh_registry(bot, settings, db, clock, demo)

    @registry.command("kaputt", summary="fails after writing", example="/kaputt")
    def broken(ctx: Ctx, args: str) -> Reply:
        _write_something(ctx)
        raise RuntimeError("disk on fire")

    before = row_counts(db)
    with caplog.at_level(logging.ERROR, logger="bot.core"):
        reply = jonas.say("/kaputt")
    assert reply == texts.SORRY
    assert "disk on fire" not in reply and "Traceback" not in reply
    assert row_counts(db) == before
    assert all_rows(db, HoursEntry) == []
    # Logged exactly once, with the traceback, in the core's single error handler.
    [record] = [r for r in caplog.records if r.name == "bot.core"]
    assert record.exc_info is not None and "kaputt" in record.getMessage()
    # The fresh registry holds only what was registered there.
    assert jonas.say("/fristen") == texts.unknown_command()


def test_user_error_after_a_write_rolls_back_too(
    bot: Bot, settings: Settings, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    registry, jonas = _registered_on_fresh_registry(bot, settings, db, clock, demo)

    @registry.command("halb", summary="refuses after writing", example="/halb")
    def half(ctx: Ctx, args: str) -> Reply:
        _write_something(ctx)
        raise UserError("Das geht so nicht.")

    audit_before = len(all_rows(db, AuditEntry))
    before = row_counts(db)
    assert jonas.say("/halb") == "Das geht so nicht."
    assert row_counts(db) == before
    assert len(all_rows(db, AuditEntry)) == audit_before
