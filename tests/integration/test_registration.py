"""Registration with one-time invites, strangers, role-specific help (DOMAIN.md P2)."""

from __future__ import annotations

import re
from datetime import timedelta

from bot import texts
from bot.core import Bot
from config.enums import OrgKind, Role, StaffType
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.staff import Invite, MessengerIdentity, Organisation, Staff
from storage.staff import create_invite, hash_code
from tests.conftest import ChatUser
from tests.integration.helpers import (
    BOTH_BACKENDS,
    after_failed_starts,
    audit_trail,
    last_audit_id,
    one_row,
    row_counts,
    staff_id,
)

pytestmark = BOTH_BACKENDS

_INVITE_CODE = re.compile(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}\b")


def test_invite_code_registers_once(
    bot: Bot, db: Database, clock: FixedClock, demo_codes: dict[str, str]
) -> None:
    jonas = ChatUser(bot, "tg-1001", transport="telegram")
    reply = jonas.say(f"/start {demo_codes['JB']}")
    assert reply.startswith("Willkommen, Jonas Berg!")
    assert "Mitarbeiter*in beim freien Träger (Familienhilfe Weserufer e. V., Kürzel" in reply
    assert ", Kürzel JB)" in reply
    assert "niemals Namen von Klient*innen" in reply  # P1: the welcome carries the privacy note

    jb = staff_id(db, "JB")
    identity = one_row(db, MessengerIdentity, MessengerIdentity.external_id == "tg-1001")
    assert (identity.staff_id, identity.transport) == (jb, "telegram")
    invite = one_row(db, Invite, Invite.code_hash == hash_code(demo_codes["JB"]))
    assert invite.used_at == clock.now()
    assert invite.used_by_staff_id == jb
    assert audit_trail(db)[-1] == (jb, "register", "staff")

    # The same person again: a friendly reminder, nothing new.
    before = row_counts(db)
    assert jonas.say(f"/start {demo_codes['JB']}") == texts.ALREADY_REGISTERED.format(
        name="Jonas Berg", handle="JB"
    )
    # Someone else with the used code: refused, and they stay a stranger.
    other = ChatUser(bot, "tg-666", transport="telegram")
    assert other.say(f"/start {demo_codes['JB']}") == texts.INVITE_INVALID
    assert other.say("/fristen") == texts.STRANGER
    assert row_counts(db) == after_failed_starts(before, 1)


def test_invite_code_is_not_case_or_dash_sensitive(bot: Bot, demo_codes: dict[str, str]) -> None:
    typed = demo_codes["LW"].lower().replace("-", "")
    assert ChatUser(bot, "lea").say(f"/start {typed}").startswith("Willkommen, Lea Wolf!")


def test_expired_invite_is_refused(
    bot: Bot, db: Database, clock: FixedClock, settings: Settings
) -> None:
    with db.session() as s:
        org = Organisation(name="Träger Süd", kind=OrgKind.provider)
        s.add(org)
        s.flush()
        early, late = (
            create_invite(
                s,
                organisation=org,
                role=Role.coordinator,
                now=clock.now(),
                valid_days=settings.invite_valid_days,
            )[0]
            for _ in range(2)
        )
    assert settings.invite_valid_days == 14
    clock.advance(timedelta(days=14, minutes=-1))
    assert ChatUser(bot, "early").say(f"/start {early} Eva Früh").startswith("Willkommen")
    clock.advance(timedelta(minutes=1))
    before = row_counts(db)
    assert ChatUser(bot, "late").say(f"/start {late} Paul Spät") == texts.INVITE_INVALID
    assert row_counts(db) == after_failed_starts(before, 1)
    assert one_row(db, Invite, Invite.code_hash == hash_code(late)).used_at is None


STRANGER_TEXTS = (
    "/hilfe",
    "/fristen",
    "/faelle",
    "/fall HB-2026-011",
    "/fall_neu HB-2025-117 §30 beginn=07.03.2025 traeger=JB asd=TB",
    "/stunden 1,5 HB-2026-011",
    "/erledigt 1",
    "/einladen koordination",
    "/notfall",
    "/ag78",
    "/gibtesnicht",
    "Hallo, wer bist du?",
    "???",
    "x" * 5000,
)


def test_stranger_gets_one_refusal_and_nothing_is_written(
    bot: Bot, db: Database, demo_codes: dict[str, str]
) -> None:
    before = row_counts(db)
    stranger = ChatUser(bot, "unknown-42")
    for text in STRANGER_TEXTS:
        assert stranger.say(text) == texts.STRANGER, text
        assert stranger.say(text, private=False) == texts.STRANGER, text
    assert row_counts(db) == before


def test_stranger_start_without_valid_code(
    bot: Bot, db: Database, demo_codes: dict[str, str]
) -> None:
    before = row_counts(db)
    stranger = ChatUser(bot, "unknown-43")
    assert stranger.say("/start") == texts.START_USAGE
    assert stranger.say("/start AAAA-BBBB-CCCC") == texts.INVITE_INVALID
    # Registering in a group would tie an identity to a shared chat: refused.
    assert stranger.say(f"/start {demo_codes['JB']}", private=False) == texts.PRIVATE_ONLY
    assert row_counts(db) == after_failed_starts(before, 1)  # the wrong code only


def test_help_is_role_specific(demo: dict[str, ChatUser]) -> None:
    asd_caseworker = demo["TB"].say("/hilfe alle")
    assert asd_caseworker.startswith(
        "Tobias Brandt (TB) – Fachkraft im ASD, ASD Stadtteilbüro Nord"
    )
    assert "/fall_neu" in asd_caseworker and "/fristen" in asd_caseworker
    assert "/stunden" not in asd_caseworker and "/meinestunden" not in asd_caseworker
    assert "/einladen" not in asd_caseworker

    provider_caseworker = demo["JB"].say("/hilfe alle")
    assert "Mitarbeiter*in beim freien Träger" in provider_caseworker
    assert "/stunden" in provider_caseworker and "/stunden_zurueck" in provider_caseworker
    assert "/einladen" not in provider_caseworker

    provider_coordinator = demo["MK"].say("/hilfe alle")
    assert "/einladen" in provider_coordinator and "/stunden" in provider_coordinator

    asd_lead = demo["EL"].say("/hilfe alle")
    assert "Leitung im ASD" in asd_lead
    assert "/einladen" in asd_lead and "/stunden" not in asd_lead

    in_group = demo["JB"].say("/hilfe alle", private=False)
    assert "/notfall" in in_group and "/ag78" in in_group
    assert "/fristen" not in in_group and "/stunden" not in in_group


def test_coordinator_invites_a_new_person(
    bot: Bot, db: Database, demo: dict[str, ChatUser]
) -> None:
    mark = last_audit_id(db)
    reply = demo["MK"].say("/einladen mitarbeiter typ=fk")
    assert reply.startswith(
        "Einladung für Mitarbeiter*in beim freien Träger, Fachkraft (Familienhilfe Weserufer e. V.):"
    )
    assert "Gültig bis 21.04.2025, nur einmal verwendbar." in reply
    found = _INVITE_CODE.findall(reply)
    assert len(found) == 1
    code = found[0]
    invite = one_row(db, Invite, Invite.code_hash == hash_code(code))
    assert invite.staff_id is None and invite.used_at is None
    # Only the hash is stored, never the code itself.
    assert code not in repr(invite.model_dump())

    anna = ChatUser(bot, "anna-phone")
    welcome = anna.say(f"/start {code} Anna Beispiel")
    assert welcome.startswith("Willkommen, Anna Beispiel!")
    assert ", Kürzel AB)" in welcome
    staff = one_row(db, Staff, Staff.handle == "AB")
    provider = one_row(db, Organisation, Organisation.kind == OrgKind.provider)
    assert (staff.name, staff.role, staff.staff_type, staff.organisation_id) == (
        "Anna Beispiel",
        Role.caseworker,
        StaffType.fachkraft,
        provider.id,
    )
    assert one_row(db, Invite, Invite.id == invite.id).used_by_staff_id == staff.id
    assert audit_trail(db, mark) == [
        (staff_id(db, "MK"), "invite", "invite"),
        (staff.id, "register", "staff"),
    ]
    assert "/stunden" in anna.say("/hilfe")
    # The code is spent now.
    assert ChatUser(bot, "anna-laptop").say(f"/start {code} Anna B") == texts.INVITE_INVALID


def test_invite_needs_coordinator_and_staff_type(db: Database, demo: dict[str, ChatUser]) -> None:
    before = row_counts(db)
    assert demo["JB"].say("/einladen mitarbeiter typ=fk") == texts.NOT_ALLOWED
    assert "typ=fk" in demo["MK"].say("/einladen mitarbeiter")
    assert "nur bei freien Trägern" in demo["EL"].say("/einladen mitarbeiter typ=fk")
    assert "Für welche Rolle?" in demo["MK"].say("/einladen chef")
    assert row_counts(db) == before


def test_new_person_must_give_a_name(bot: Bot, db: Database, demo: dict[str, ChatUser]) -> None:
    code = _INVITE_CODE.findall(demo["EL"].say("/einladen mitarbeiter"))[0]
    before = row_counts(db)
    assert "deinen Namen" in ChatUser(bot, "nameless").say(f"/start {code}")
    assert row_counts(db) == before
    assert (
        ChatUser(bot, "nameless")
        .say(f"/start {code} Nina Neu")
        .startswith("Willkommen, Nina Neu! Du bist registriert als Fachkraft im ASD")
    )
