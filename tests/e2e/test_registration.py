"""Registering with an invite code, help, refusing strangers, and state across restarts."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.e2e import expected
from tests.e2e.driver import Installation

STRANGER = (
    "Hallo! Diesen Dienst können nur registrierte Mitarbeitende nutzen. "
    "Wenn du eine Einladung hast, schreib /start gefolgt von deinem Einladungscode."
)
INVALID = (
    "Dieser Einladungscode ist ungültig, abgelaufen oder schon benutzt. "
    "Bitte frag deine Koordination nach einem neuen Code."
)
PRIVACY = (
    "Datenschutz: Fälle nur mit Aktenzeichen (z. B. HB-2025-017), niemals Namen von "
    "Klient*innen oder Familien eingeben."
)


def _commands(help_text: str) -> set[str]:
    return set(re.findall(r"^/(\w+)", help_text, re.M))


def test_register_then_help(koopbot: Installation, codes: dict[str, str]) -> None:
    anna = koopbot.chat("anna")
    assert anna.banner == "koopbot – Konsole. /hilfe zeigt die Befehle, /ende beendet."
    assert anna.say("/hilfe") == STRANGER
    assert anna.say("/start") == "Bitte gib deinen Einladungscode an, z. B.: /start K7QF-3MNA-PX2R"
    assert anna.say("/start K7QF-3MNA-PX2R") == INVALID

    assert anna.say(f"/start {codes['JB']}") == (
        "Willkommen, Jonas Berg! Du bist registriert als Mitarbeiter*in beim freien Träger "
        "(Familienhilfe Weserufer e. V., Kürzel JB).\n"
        f"{PRIVACY}\n/hilfe zeigt, was du tun kannst."
    )
    assert anna.say(f"/start {codes['JB']}") == (
        "Du bist bereits als Jonas Berg (JB) registriert. /hilfe zeigt deine Befehle."
    )

    help_text = anna.say("/hilfe alle")
    lines = help_text.splitlines()
    assert lines[0] == (
        "Jonas Berg (JB) – Mitarbeiter*in beim freien Träger, Familienhilfe Weserufer e. V."
    )
    assert "Das kannst du tun:" in lines
    assert lines[-1] == PRIVACY
    assert "Dauer: 1,5 oder 1:30 oder 90 min." in lines
    shown = _commands(help_text)
    assert {"hilfe", "fristen", "erledigt", "stunden", "meinestunden", "notfall", "ag78"} <= shown
    assert "einladen" not in shown, "inviting is for coordinators"
    assert "start" not in shown
    assert "/stunden – Stunden erfassen (Dauer, Fall, Kategorie, Datum)" in lines
    details = anna.say("/hilfe stunden").splitlines()
    assert "/stunden (auch /hours) – Stunden erfassen (Dauer, Fall, Kategorie, Datum)" in details
    assert "    z. B. /stunden 1,5 HB-2025-017 gestern" in details
    # Commands are case-insensitive, and the "!" of Matrix works as well.
    assert anna.say("!HILFE ALLE") == help_text
    assert anna.end() == "Tschüss!\n"


def test_help_depends_on_role_and_side(koopbot: Installation, codes: dict[str, str]) -> None:
    mara = koopbot.registered("mara", codes["MK"])
    tobias = koopbot.registered("tobias", codes["TB"])
    coordinator = _commands(mara.say("/hilfe alle"))
    asd = _commands(tobias.say("/hilfe alle"))
    assert "einladen" in coordinator
    assert "stunden" in coordinator
    assert "stunden" not in asd, "hours are logged by provider staff only"
    assert "einladen" not in asd
    assert tobias.say("/stunden 1 HB-2026-011") == (
        "Das darfst du mit deiner Rolle nicht. /hilfe zeigt, was du tun kannst."
    )

    invite = mara.say("/einladen mitarbeiter typ=semi")
    code = re.search(r"^([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})$", invite, re.M)
    assert code, invite
    assert invite.startswith(
        "Einladung für Mitarbeiter*in beim freien Träger, semiprofessionell "
        "(Familienhilfe Weserufer e. V.):"
    )
    valid = expected.today() + timedelta(days=14)
    assert f"Gültig bis {expected.d(valid)}, nur einmal verwendbar." in invite
    newcomer = koopbot.chat("neu")
    assert newcomer.say(f"/start {code[1]} Nele Neumann").startswith(
        "Willkommen, Nele Neumann! Du bist registriert als Mitarbeiter*in beim freien Träger"
    )


def test_strangers_get_only_the_refusal(koopbot: Installation, codes: dict[str, str]) -> None:
    anna = koopbot.registered("anna", codes["JB"])  # stays open: two chats on one database
    mallory = koopbot.chat("mallory")
    for line in ("/fristen", "/faelle", "/fall HB-2026-011", "/notfall", "/ag78", "hallo"):
        assert mallory.say(line) == STRANGER, line
    assert mallory.say("/ausdenken") == STRANGER, "unknown commands reveal nothing either"
    assert mallory.say(f"/start {codes['JB']}") == INVALID, "Jonas's code is used up"
    assert "HB-2026" in anna.say("/faelle")

    # Once registered as Lea, she sees her own cases and nothing of Jonas's.
    assert mallory.say(f"/start {codes['LW']}").startswith("Willkommen, Lea Wolf!")
    assert mallory.say("/fall HB-2026-011") == (
        "Einen Fall HB-2026-011 finde ich nicht (oder er gehört nicht zu deinen Fällen). "
        "/faelle zeigt deine Fälle."
    )
    jonas_deadline = expected.deadlines_in(anna.say("/fristen alle"))[0].id
    assert mallory.say(f"/erledigt {jonas_deadline}") == (
        f"Eine Frist #{jonas_deadline} finde ich bei deinen Fällen nicht. "
        "/fristen zeigt deine Fristen."
    )
    own = mallory.say("/faelle").splitlines()
    assert len(own) == 2, own
    assert re.fullmatch(r"1 F(a|ä)ll(e)?:", own[0]), own
    assert own[1].startswith("HB-2026-007 – § 30 SGB VIII · nächste Frist: "), own


def test_state_survives_a_restart(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    meeting = expected.next_working_day(today + timedelta(days=90))

    first = koopbot.registered("anna", codes["JB"])
    logged = first.say("/stunden 2 HB-2026-011")
    entry = re.match(r"Erfasst #(\d+): 2 Std\. direkt am Klienten HB-2026-011", logged)
    assert entry, logged
    assert first.say(f"/hpg HB-2026-011 {expected.d(meeting)} 10:00").startswith(
        "Hilfeplangespräch für HB-2026-011 eingetragen"
    )
    before = first.say("/fristen alle")
    assert first.end() == "Tschüss!\n"
    assert first.process.returncode == 0

    second = koopbot.chat("anna")
    assert second.say("/hilfe").startswith("Jonas Berg (JB) – ")
    assert second.say(f"/start {codes['JB']}").startswith("Du bist bereits als Jonas Berg (JB)")
    assert second.say("/fristen alle") == before
    case = second.say("/fall HB-2026-011")
    assert f"  Hilfeplangespräch: {expected.wd(meeting)}, 10:00" in case.splitlines()
    hours = second.say("/meinestunden")
    assert f"#{entry[1]} {expected.wd(today)} 2 Std. direkt am Klienten HB-2026-011" in hours
    # The end of input (Ctrl-D) ends the chat as well, with a clean exit.
    assert second.close_input() == "\n"

    assert koopbot.chat("bert").say("/fristen") == STRANGER
