"""Wrong input gets a German answer that says what to do, and nothing is written."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e import expected
from tests.e2e.driver import Installation
from tests.e2e.expected import WEEKDAY, WEEKDAY_LONG, d, wd

NAME_REFUSAL = (
    "Das sieht wie ein Name aus, nicht wie ein Aktenzeichen. Fälle werden nur mit pseudonymem "
    "Aktenzeichen geführt (z. B. HB-2025-017) – bitte keine Namen von Klient*innen eingeben."
)


def test_bad_input_gets_german_answers(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    jonas = koopbot.registered("anna", codes["JB"])
    case_before = jonas.say("/fall HB-2026-011")

    assert jonas.say("/stunden 13 HB-2026-011") == (
        "13 Std. in einem Eintrag sind zu viel (höchstens 12 Std.). Bitte aufteilen oder prüfen."
    )
    assert jonas.say("/stunden 1,5 Müller") == NAME_REFUSAL
    assert jonas.say("/fall Müller") == NAME_REFUSAL
    assert jonas.say("/abstimmung Schneider") == NAME_REFUSAL
    assert jonas.say("/stunden 1 HB-2026-011 morgen") == (
        f"Der {wd(today + timedelta(days=1))} liegt in der Zukunft. "
        "Stunden werden erst nach der Leistung erfasst."
    )
    assert jonas.say("/stunden HB-2026-011").startswith("Bitte die Dauer angeben. Beispiele:")
    assert jonas.say("/stunden 1 HB-2026-999") == (
        "Einen Fall HB-2026-999 finde ich nicht (oder er gehört nicht zu deinen Fällen). "
        "/faelle zeigt deine Fälle."
    )

    meeting = today + timedelta(days=30)
    wrong = (meeting.weekday() + 1) % 7
    reply = jonas.say(f"/hpg HB-2026-011 {WEEKDAY[wrong]} {d(meeting)} 10:00")
    assert reply.startswith(
        f"Der {d(meeting)} ist ein {WEEKDAY_LONG[meeting.weekday()]}, kein {WEEKDAY_LONG[wrong]}."
    ), reply
    assert f"Meinst du {WEEKDAY_LONG[meeting.weekday()]}, {d(meeting)}?" in reply
    past = today - timedelta(days=3)
    assert jonas.say(f"/hpg HB-2026-011 {d(past)} 10:00") == (
        f"Der {d(past)} liegt in der Vergangenheit. Bitte ein kommendes Datum angeben."
    )
    assert jonas.say(f"/hpg HB-2026-011 {d(meeting)} 25:00").startswith(
        "„25:00“ ist keine gültige Uhrzeit."
    )

    assert jonas.say("/erledigt abc") == (
        "Bitte die Nummer der Frist angeben, z. B. /erledigt 12. /fristen zeigt die Nummern."
    )
    assert jonas.say("/erledigt 99999") == (
        "Eine Frist #99999 finde ich bei deinen Fällen nicht. /fristen zeigt deine Fristen."
    )
    assert jonas.say("/meinestunden jahr") == "Beispiele: /meinestunden · /meinestunden monat"
    assert jonas.say("/blabla") == (
        "Diesen Befehl kenne ich nicht. /hilfe zeigt alle Befehle mit Beispielen."
    )
    assert jonas.say("x" * 2001) == (
        "Die Nachricht ist zu lang (höchstens 2000 Zeichen). Bitte kürzer fassen; "
        "Freitext brauche ich ohnehin kaum."
    )

    # None of it was written.
    assert jonas.say("/meinestunden") == "Für diese Woche hast du noch keine Stunden erfasst."
    assert jonas.say("/fall HB-2026-011") == case_before


def test_day_total_is_bounded(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    jonas = koopbot.registered("anna", codes["JB"])
    assert jonas.say("/stunden 12 fallunspezifisch").startswith("Erfasst #")
    assert jonas.say("/stunden 11,5 netzwerk").startswith("Erfasst #")
    assert jonas.say("/stunden 1 HB-2026-011") == (
        f"Am {wd(today)} hast du schon 23,5 Std. erfasst; mit 1 Std. wären es mehr als "
        "24 Std. an einem Tag."
    )


def test_blank_lines_only_prompt_again(koopbot: Installation, codes: dict[str, str]) -> None:
    jonas = koopbot.registered("anna", codes["JB"])
    assert jonas.say("") == ""
    assert jonas.say("   ") == ""
    assert jonas.say("/notfall").startswith("Notfallkontakt jetzt:")


def test_a_name_is_never_echoed(koopbot: Installation, codes: dict[str, str]) -> None:
    jonas = koopbot.registered("anna", codes["JB"])
    mara = koopbot.registered("mara", codes["MK"])
    replies = [
        jonas.say("/stunden 1 Familie Müller"),  # bot/commands/hours.py log_hours
        jonas.say("/abstimmung HB-2026-011 Müller"),  # bot/parsing/dates.py parse_date
        mara.say("/fall_neu HB-2026-200 §30 Müller beginn=01.11.2026 traeger=LW asd=TB"),
    ]
    assert not [reply for reply in replies if "Müller" in reply], replies
