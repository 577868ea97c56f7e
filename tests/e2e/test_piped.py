"""A whole session piped in at once, as in `koopbot chat < script.txt`."""

from __future__ import annotations

import re

from tests.e2e import expected
from tests.e2e.driver import Installation, split_transcript


def test_piped_script(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    script = [
        f"/start {codes['JB']}",
        "/hilfe",
        "/fristen",
        "/stunden 1,5 HB-2026-011",
        "/meinestunden",
        "/notfall",
        "/ag78",
        "/ende",
        "/fristen",  # after /ende: never read
    ]
    result = koopbot.run("chat", "--user", "anna", input="\n".join(script) + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    banner, *replies = split_transcript(result.stdout)
    assert banner == "koopbot – Konsole. /hilfe zeigt die Befehle, /ende beendet."
    assert len(replies) == script.index("/ende") + 1
    first_lines = [reply.splitlines()[0] for reply in replies]
    assert first_lines[0].startswith("Willkommen, Jonas Berg!")
    assert first_lines[1].startswith("Jonas Berg (JB) – ")
    assert first_lines[2].startswith("Deine offenen Fristen bis ")
    logged = re.match(r"Erfasst #(\d+): 1,5 Std\. direkt am Klienten HB-2026-011", first_lines[3])
    assert logged, first_lines[3]
    assert first_lines[4] == "Deine Stunden diese Woche:"
    assert (
        f"#{logged[1]} {expected.wd(today)} 1,5 Std. direkt am Klienten HB-2026-011" in replies[4]
    )
    assert first_lines[5] == "Notfallkontakt jetzt:"
    assert first_lines[6] == "AG 78 – kommende Termine:"
    assert replies[-1] == "Tschüss!\n"


def test_piped_script_without_goodbye_ends_at_end_of_input(
    koopbot: Installation, codes: dict[str, str]
) -> None:
    result = koopbot.run("chat", "--user", "anna", input=f"/start {codes['TB']}\n/faelle")
    assert result.returncode == 0, result.stderr
    _, welcome, cases, end = split_transcript(result.stdout)
    assert welcome.startswith("Willkommen, Tobias Brandt!")
    assert cases.startswith("5 Fälle:\n"), "the last line counts even without a newline"
    assert end == "\n"
