"""Logging hours, listing them and taking one back (DOMAIN.md H1, H6)."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.e2e import expected
from tests.e2e.driver import Installation
from tests.e2e.expected import wd


def _totals(line: str) -> dict[str, str]:
    """`Summe: Netzwerkarbeit 1,5 Std. · direkt am Klienten 3 Std.` -> category: hours."""
    assert line.startswith("Summe: "), line
    parts = (re.fullmatch(r"(.+) ([\d,]+) Std\.", p) for p in line[7:].split(" · "))
    return {m[1]: m[2] for m in parts if m}


def test_log_list_and_undo_hours(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    yesterday = today - timedelta(days=1)
    jonas = koopbot.registered("anna", codes["JB"])

    direct = jonas.say("/stunden 1,5 HB-2026-011")
    m = re.fullmatch(
        rf"Erfasst #(\d+): 1,5 Std\. direkt am Klienten HB-2026-011 am {wd(today)}\. "
        r"Heute insgesamt: 1,5 Std\.\nRückgängig: /stunden_zurueck (\d+)",
        direct,
    )
    assert m and m[1] == m[2], direct
    first = int(m[1])

    network = jonas.say("/stunden 90 min netzwerk gestern")
    m = re.fullmatch(
        rf"Erfasst #(\d+): 1,5 Std\. Netzwerkarbeit am {wd(yesterday)}\. "
        r"An diesem Tag insgesamt: 1,5 Std\.\nRückgängig: /stunden_zurueck \1",
        network,
    )
    assert m, network
    second = int(m[1])
    assert second > first

    on_top = jonas.say("/stunden 1:30 HB-2026-011")
    assert f"am {wd(today)}. Heute insgesamt: 3 Std." in on_top

    line_direct = f"#{first} {wd(today)} 1,5 Std. direkt am Klienten HB-2026-011"
    line_network = f"#{second} {wd(yesterday)} 1,5 Std. Netzwerkarbeit"
    week = jonas.say("/meinestunden").splitlines()
    assert week[0] == "Deine Stunden diese Woche:"
    assert line_direct in week
    assert (line_network in week) == (yesterday >= expected.monday_of(today))
    month = jonas.say("/meinestunden monat").splitlines()
    assert month[0] == "Deine Stunden diesen Monat:"
    assert (line_network in month) == (yesterday.month == today.month)
    if yesterday.month == today.month:
        assert _totals(month[-1]) == {"direkt am Klienten": "3", "Netzwerkarbeit": "1,5"}

    # Without a number the newest entry goes; with one, that entry.
    undone = jonas.say("/stunden_zurueck").splitlines()[0]
    assert undone.startswith("Zurückgenommen: #") and "1,5 Std. direkt am Klienten" in undone
    assert jonas.say(f"/stunden_zurueck {second}") == (
        f"Zurückgenommen: #{second} 1,5 Std. Netzwerkarbeit am {wd(yesterday)}."
    )
    assert jonas.say(f"/stunden_zurueck {second}") == (
        f"Einen Eintrag #{second} von dir finde ich nicht."
    )
    left = jonas.say("/meinestunden monat")
    assert line_network not in left
    assert _totals(left.splitlines()[-1]) == {"direkt am Klienten": "1,5"}

    # Lea cannot take back Jonas's hours.
    lea = koopbot.registered("lea", codes["LW"])
    assert (
        lea.say(f"/stunden_zurueck {first}") == f"Einen Eintrag #{first} von dir finde ich nicht."
    )
    assert lea.say("/meinestunden") == "Für diese Woche hast du noch keine Stunden erfasst."


def test_group_and_missed_sessions(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    jonas = koopbot.registered("anna", codes["JB"])
    group = jonas.say("/stunden 2 gruppe teilnehmer=6")
    assert re.match(
        rf"Erfasst #\d+: 2 Std\. Gruppenangebot / fallübergreifend, 6 Teilnehmende am {wd(today)}\.",
        group,
    ), group
    missed = jonas.say("/stunden 1 HB-2026-011 ausfall grund=abgesagt")
    assert re.match(
        r"Erfasst #\d+: 1 Std\. ausgefallene Leistung \(von der Familie abgesagt\) HB-2026-011 ",
        missed,
    ), missed
    assert jonas.say("/stunden 1 HB-2026-011 ausfall").startswith(
        "Bitte den Grund des Ausfalls angeben: grund=abgesagt"
    )
