"""Who is on call now (R1, R2) and when the AG 78 meets (A1)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from tests.e2e import expected
from tests.e2e.driver import Installation
from tests.e2e.expected import BERLIN, wd

# The demo rotation: weekly from 09:00 on the Monday three weeks before the demo was loaded.
_ROTATION = (
    ("Mara Koch", "MK", "0421 555-1010"),
    ("Jonas Berg", "JB", "0421 555-1011"),
    ("Tim Sommer", "TS", "0421 555-1013"),
)


def _on_call_reply(now: datetime) -> str:
    today = now.date()
    anchor = today - timedelta(days=today.weekday() + 21)
    shift = (today - anchor).days // 7
    if now < datetime.combine(anchor + timedelta(weeks=shift), time(9), tzinfo=BERLIN):
        shift -= 1
    name, handle, phone = _ROTATION[shift % 3]
    end = anchor + timedelta(weeks=shift + 1)
    following = _ROTATION[(shift + 1) % 3][0]
    return (
        "Notfallkontakt jetzt:\n"
        "Rufbereitschaft Weserufer (Familienhilfe Weserufer e. V.):\n"
        f"  {name} ({handle}), Tel. {phone}\n"
        f"  bis {wd(end)}, 09:00, danach {following}"
    )


def test_on_call_answers_both_sides(koopbot: Installation, codes: dict[str, str]) -> None:
    jonas = koopbot.registered("anna", codes["JB"])
    tobias = koopbot.registered("tobias", codes["TB"])
    for console in (jonas, tobias):
        before = expected.now()
        reply = console.say("/notfall")
        # A handover between the two readings of the clock may show either shift.
        assert reply in {_on_call_reply(before), _on_call_reply(expected.now())}, reply
    assert jonas.say("/oncall") == reply


def test_ag78_sessions(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    tobias = koopbot.registered("tobias", codes["TB"])
    upcoming = tobias.say("/ag78").splitlines()
    assert upcoming[0] == "AG 78 – kommende Termine:"
    assert len(upcoming) == 4
    for line in upcoming[1:]:
        m = re.fullmatch(
            r"Fr (\d\d\.\d\d\.\d{4}), 09:00–12:00 Sitzung ([1-4])\. Quartal (\d{4}), "
            r"Kreishaus, Sitzungssaal 2",
            line,
        )
        assert m, line
        day = datetime.strptime(m[1], "%d.%m.%Y").date()
        assert day > today
        assert day.weekday() == 4
        assert 8 <= day.day <= 14, "the second Friday of the month"
        assert int(m[2]) == (day.month - 1) // 3 + 1
        assert int(m[3]) == day.year

    everything = tobias.say("/ag78 alle").splitlines()
    assert everything[0] == "AG 78 – alle Termine:"
    assert everything[1:3] == [
        "Fr 27.01.2023, 09:00–12:00 1. Sitzung AG 78 HzE, Kreishaus, Sitzungssaal 2",
        "Mo 20.03.2023, 09:00–16:00 Fachaustausch (Workshop), Kreishaus, Sitzungssaal 2",
    ]
    assert everything[-3:] == upcoming[1:]
    assert len(everything) == 1 + 5 + 3
