"""Invite brute force (issue 12): failed /start attempts are limited, audited and reported."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from bot import start_guard, texts
from bot.core import Bot
from bot.reminder_engine import reminder_engine
from config.privacy import StartLimits
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.outbox import OutboxEntry
from storage.models.staff import Staff, StartAttempt
from tests.conftest import ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, one_row
from tests.reminder_fakes import RecordingMessenger

_CODE = re.compile(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}\b")
WRONG = "AAAA-BBBB-CCCC"


def _invite(demo: dict[str, ChatUser]) -> str:
    return _CODE.findall(demo["MK"].say("/einladen mitarbeiter typ=fk"))[0]


def _failures(db: Database) -> list[dict[str, object]]:
    return [
        json.loads(a.details) for a in all_rows(db, AuditEntry, AuditEntry.action == "start_failed")
    ]


@BOTH_BACKENDS
async def test_five_wrong_codes_block_the_account_and_tell_the_coordinators_once(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    code = _invite(demo)
    mallory = ChatUser(bot, "mallory", transport="telegram")
    for _ in range(5):
        assert mallory.say(f"/start {WRONG} Mal Lory") == texts.INVITE_INVALID
    # The sixth attempt is refused without looking at the code, even a valid one.
    for _ in range(3):
        assert mallory.say(f"/start {code} Mal Lory") == start_guard.LIMITED
    assert [f["reason"] for f in _failures(db)] == ["invalid_code"] * 5 + ["limit"] * 3
    assert {f["transport"] for f in _failures(db)} == {"telegram"}
    # No messenger id in clear: the account is a hash.
    assert all("mallory" not in a.account for a in all_rows(db, StartAttempt))
    assert all("mallory" not in a.details for a in all_rows(db, AuditEntry))

    # Another account is not affected, and the code still works there.
    assert ChatUser(bot, "nora").say(f"/start {_invite(demo)} Nora Neu").startswith("Willkommen")

    # One alert per coordinator for the trip (not one per attempt).
    alerts = all_rows(db, OutboxEntry, OutboxEntry.item_type == "alert")
    coordinators = {one_row(db, Staff, Staff.handle == h).id for h in ("MK", "EL")}
    assert {a.staff_id for a in alerts} == coordinators
    assert {a.stage for a in alerts} == {"sec:account"}
    messenger = RecordingMessenger(clock)
    service = reminder_engine(bot.settings, db, clock, bot.calendar, {"console": messenger})
    await service.dispatcher.dispatch()
    assert sorted(s.to for s in messenger.sent) == ["user-el", "user-mk"]
    assert messenger.sent[0].reply.text.splitlines()[0] == (
        "⚠️ Anmeldeschutz: 5 ungültige Einladungscodes von einem Telegram-Konto innerhalb von "
        "60 Minuten. Weitere Versuche dieses Kontos weise ich ab (frühestens ab 11:00 wieder "
        "möglich)."
    )

    # The window is sliding: while attempts go on, the account stays blocked ...
    clock.advance(timedelta(minutes=59))
    assert mallory.say(f"/start {code} Mal Lory") == start_guard.LIMITED
    # ... an hour without attempts, and it may try again.
    clock.advance(timedelta(minutes=61))
    assert mallory.say(f"/start {code} Mal Lory").startswith("Willkommen, Mal Lory")
    assert len(all_rows(db, OutboxEntry, OutboxEntry.item_type == "alert")) == 2


async def test_the_overall_limit_stops_every_account(
    tmp_path: object, clock: FixedClock, demo_codes: dict[str, str], bot: Bot, db: Database
) -> None:
    settings = bot.settings.model_copy(update={"start_limit": StartLimits(overall=3)})
    guarded = Bot(settings, db, clock)
    for n in range(3):
        assert ChatUser(guarded, f"guess-{n}").say(f"/start {WRONG}") == texts.INVITE_INVALID
    # Even the rightful owner of a valid code waits now.
    mara = ChatUser(guarded, "mara")
    assert mara.say(f"/start {demo_codes['MK']}") == start_guard.LIMITED
    stages = [a.stage for a in all_rows(db, OutboxEntry, OutboxEntry.item_type == "alert")]
    assert stages == ["sec:overall", "sec:overall"]  # the two coordinators, once
    clock.advance(timedelta(minutes=61))
    assert mara.say(f"/start {demo_codes['MK']}").startswith("Willkommen, Mara Koch")


def test_limits_are_settings(settings: Settings) -> None:
    assert settings.start_limit == StartLimits(per_account=5, overall=50, window_minutes=60)
