"""A case's life in the chat: create, list, show, deadlines, meetings, coordination, close."""

from __future__ import annotations

import re
from datetime import date, timedelta

from tests.e2e import expected
from tests.e2e.driver import Console, Installation
from tests.e2e.expected import d, wd

_FRISTEN_HEAD = re.compile(
    r"^(?:Deine offenen Fristen bis \d\d\.\d\d\.\d{4}|Alle deine offenen Fristen): "
    r"(?P<total>\d+)(?:, davon (?P<overdue>\d+) überfällig)?$"
)


def _check_deadline_list(reply: str, today: date) -> list[expected.DeadlineLine]:
    """A /fristen reply: a heading with the count, lines soonest first, a hint at /erledigt,
    and, where the adapter renders them, one-tap buttons for the first deadlines."""
    lines = reply.splitlines()
    buttons = []
    if lines[-1].startswith("[") and lines[-1].endswith("]"):
        buttons = re.findall(r"\[✓ #(\d+) [^\]]*: /erledigt (\d+)\]", lines.pop())
        assert buttons, reply
    head = _FRISTEN_HEAD.match(lines[0])
    assert head, lines[0]
    listed = expected.deadlines_in(reply)
    assert len(listed) == len(lines) - 2, reply
    assert int(head["total"]) == len(listed)
    assert int(head["overdue"] or 0) == sum(1 for x in listed if x.due < today)
    assert [x.due for x in listed] == sorted(x.due for x in listed)
    for line in listed:
        line.check(today)
    assert lines[-1] == f"Erledigt? /erledigt NUMMER, z. B. /erledigt {listed[0].id}"
    for (shown, command), line in zip(buttons, listed, strict=False):
        assert int(shown) == int(command) == line.id, (buttons, listed)
    return listed


def test_caseworker_sees_cases_and_deadlines(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    jonas = koopbot.registered("anna", codes["JB"])

    cases = jonas.say("/faelle").splitlines()
    assert cases[0] == "2 Fälle:"
    assert cases[1].startswith("HB-2026-003 – § 27 Abs. 2 SGB VIII · kinderschutzrelevant · ")
    assert cases[2].startswith("HB-2026-011 – § 31 SGB VIII · nächste Frist: #")

    start = today - timedelta(days=12)  # the demo's newest case began 12 days ago
    shown = jonas.say("/fall hb-2026-011").splitlines()
    assert shown[:5] == [
        "Fall HB-2026-011 – § 31 SGB VIII",
        f"Hilfebeginn: {d(start)} · Ersthilfeplan gültig bis "
        f"{d(expected.add_months(start, 6) - timedelta(days=1))}",
        "Träger: Jonas Berg (JB) · ASD: Tobias Brandt (TB)",
        "Empfehlung: Fachkraft",
        "Berichte alle 6 Monate",
    ]
    chain = expected.deadlines_in("\n".join(shown))
    assert [(x.label, x.due) for x in chain] == sorted(
        [
            (
                "Handlungsplan",
                expected.next_working_day(start + timedelta(weeks=6)),
            ),
            (
                "Folge-Hilfeplangespräch",
                expected.previous_working_day(expected.add_months(start, 6) - timedelta(days=1)),
            ),
            ("Bericht", expected.next_working_day(expected.add_months(start, 6))),
        ],
        key=lambda pair: pair[1],
    )
    for line in chain:
        line.check(today)

    upcoming = jonas.say("/fristen")
    assert upcoming.startswith(f"Deine offenen Fristen bis {d(today + timedelta(days=60))}: ")
    near = _check_deadline_list(upcoming, today)
    assert all(x.due <= today + timedelta(days=60) for x in near)
    assert {x.code for x in near} <= {"HB-2026-003", "HB-2026-011"}

    every = jonas.say("/fristen alle")
    assert every.startswith("Alle deine offenen Fristen: ")
    everything = _check_deadline_list(every, today)
    assert {x.id for x in near} < {x.id for x in everything}
    assert {x.id for x in chain} <= {x.id for x in everything}


def _new_case(console: Console, code: str, start: date) -> str:
    return console.say(f"/fall_neu {code} §30 beginn={d(start)} traeger=LW asd=TB")


def test_new_case_shows_its_derived_deadlines(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    # A start whose deadlines fall on ordinary working days keeps the expectation simple;
    # the shifting rules themselves are unit-tested with the legal examples.
    start = today - timedelta(days=10)
    while not (
        expected.is_working_day(start + timedelta(weeks=6))
        and expected.is_working_day(expected.add_months(start, 6))
        and expected.is_working_day(expected.add_months(start, 6) - timedelta(days=1))
    ):
        start -= timedelta(days=1)
    action_plan = start + timedelta(weeks=6)
    review = expected.add_months(start, 6) - timedelta(days=1)
    report = expected.add_months(start, 6)

    mara = koopbot.registered("mara", codes["MK"])
    reply = _new_case(mara, "HB-2026-100", start)
    lines = reply.splitlines()
    assert lines[:3] == [
        f"Fall HB-2026-100 angelegt (§ 30 SGB VIII, Beginn {d(start)}).",
        "Zuständig: Lea Wolf (LW) · Tobias Brandt (TB)",
        "Fristen:",
    ]
    derived = expected.deadlines_in(reply)
    assert len(derived) == len(lines) - 3
    assert [(x.code, x.label, x.due) for x in derived] == [
        ("HB-2026-100", "Handlungsplan", action_plan),
        ("HB-2026-100", "Folge-Hilfeplangespräch", review),
        ("HB-2026-100", "Bericht", report),
    ]
    for line in derived:
        line.check(today)

    assert _new_case(mara, "HB-2026-100", start) == (
        "Den Fall HB-2026-100 gibt es schon. /fall HB-2026-100 zeigt ihn."
    )
    # Lea, the assigned caseworker, finds the case and its deadlines.
    lea = koopbot.registered("lea", codes["LW"])
    assert "HB-2026-100 – § 30 SGB VIII" in lea.say("/faelle")
    assert {x.id for x in derived} <= {
        x.id for x in expected.deadlines_in(lea.say("/fristen alle"))
    }
    # Jonas, a caseworker, may not create cases.
    jonas = koopbot.registered("anna", codes["JB"])
    assert _new_case(jonas, "HB-2026-101", start) == (
        "Fälle anlegen, schließen und zuweisen dürfen ASD-Fachkräfte und die Koordination "
        "des Trägers."
    )


def test_meeting_coordination_and_done(koopbot: Installation, codes: dict[str, str]) -> None:
    today = expected.today()
    jonas = koopbot.registered("anna", codes["JB"])
    meeting = expected.next_working_day(today + timedelta(days=100))
    report = expected.previous_working_day(meeting - timedelta(weeks=6))

    reply = jonas.say(f"/hpg HB-2026-011 {d(meeting)} 10:00")
    assert reply.splitlines()[0] == (
        f"Hilfeplangespräch für HB-2026-011 eingetragen: {wd(meeting)}, 10:00."
    )
    (added,) = expected.deadlines_in(reply)
    assert reply.splitlines()[1].startswith("neu: ")
    assert (added.code, added.label, added.due) == ("HB-2026-011", "Bericht", report)
    added.check(today)
    assert "  Hilfeplangespräch: " + f"{wd(meeting)}, 10:00" in jonas.say("/fall HB-2026-011")

    later = expected.next_working_day(meeting + timedelta(days=7))
    moved = jonas.say(f"/hpg HB-2026-011 {d(later)} 11:30")
    assert moved.splitlines()[0] == (
        f"Hilfeplangespräch für HB-2026-011 verlegt: {wd(later)}, 11:30."
    )
    assert moved.splitlines()[1].startswith(f"verschoben (vorher {wd(report)}): #{added.id} ")
    (after,) = expected.deadlines_in(moved)
    assert after.due == expected.previous_working_day(later - timedelta(weeks=6))

    raised = jonas.say("/abstimmung HB-2026-011")
    assert raised.splitlines()[0] == f"Abstimmungsbedarf für HB-2026-011 am {d(today)} vermerkt."
    (talk,) = expected.deadlines_in(raised)
    assert (talk.label, talk.due) == (
        "Abstimmungsgespräch",
        expected.nth_working_day_after(today, 7),
    )
    assert talk.id in {x.id for x in expected.deadlines_in(jonas.say("/fristen"))}

    assert jonas.say(f"/erledigt #{talk.id}") == (
        f"Erledigt: HB-2026-011 Abstimmungsgespräch (fällig {d(talk.due)}). Danke!"
    )
    assert jonas.say(f"/erledigt {talk.id}") == f"Die Frist #{talk.id} ist bereits erledigt."
    assert talk.id not in {x.id for x in expected.deadlines_in(jonas.say("/fristen alle"))}
    assert f"#{talk.id} Abstimmungsgespräch – {wd(talk.due)} (erledigt)" in jonas.say(
        "/fall HB-2026-011"
    )

    cancelled = jonas.say("/hpg HB-2026-011 absagen")
    assert cancelled.splitlines()[0] == (
        f"Hilfeplangespräch für HB-2026-011 abgesagt: {wd(later)}, 11:30."
    )
    assert cancelled.splitlines()[1] == (
        f"entfällt: #{added.id} HB-2026-011 Bericht – {wd(after.due)}"
    )
    assert "Termine:" not in jonas.say("/fall HB-2026-011")


def test_closing_a_case_cancels_its_future_deadlines(
    koopbot: Installation, codes: dict[str, str]
) -> None:
    today = expected.today()
    tobias = koopbot.registered("tobias", codes["TB"])  # the ASD manages cases
    before = expected.deadlines_in(tobias.say("/fall HB-2026-011"))
    assert before and all(x.due > today for x in before)

    jonas = koopbot.registered("anna", codes["JB"])
    assert jonas.say("/fall_schliessen HB-2026-011").startswith("Fälle anlegen, schließen")

    closed = tobias.say("/fall_schliessen HB-2026-011")
    lines = closed.splitlines()
    assert lines[0] == f"Fall HB-2026-011 zum {d(today)} beendet."
    assert all(line.startswith("entfällt: #") for line in lines[1:]), closed
    assert {x.id for x in expected.deadlines_in(closed)} == {x.id for x in before}
    assert "Noch offen" not in closed

    assert tobias.say("/fall_schliessen HB-2026-011") == (
        "Der Fall HB-2026-011 ist bereits abgeschlossen."
    )
    assert "HB-2026-011" not in tobias.say("/faelle")
    assert "HB-2026-011 (abgeschlossen) – § 31 SGB VIII" in tobias.say("/faelle alle")
    shown = tobias.say("/fall HB-2026-011")
    assert f"Abgeschlossen am {d(today)}" in shown.splitlines()
    assert shown.count("(entfallen)") == 0, "cancelled deadlines are not listed"
    assert "HB-2026-011" not in jonas.say("/fristen alle")

    # An older case closes with deadlines that are already overdue: they stay open (C4).
    old = tobias.say("/fall_schliessen HB-2025-029")
    overdue = [x for x in expected.deadlines_in(old) if x.due < today]
    if overdue:
        assert "Noch offen (bitte erledigen):" in old.splitlines()
        assert {x.id for x in overdue} <= {
            x.id for x in expected.deadlines_in(tobias.say("/fristen alle"))
        }


def test_overdue_count_covers_more_than_one_page(
    koopbot: Installation, codes: dict[str, str]
) -> None:
    today = expected.today()
    mara = koopbot.registered("mara", codes["MK"])
    head = _FRISTEN_HEAD.match(mara.say("/fristen alle").splitlines()[0])
    assert head
    before = int(head["overdue"] or 0)
    start = today - timedelta(days=70)  # each new case's action plan (6 weeks) is overdue
    for n in range(31):
        assert mara.say(
            f"/fall_neu HB-2026-{500 + n} §31 beginn={d(start)} traeger=TS asd=TB"
        ).startswith("Fall HB-2026-")
    head = _FRISTEN_HEAD.match(mara.say("/fristen alle").splitlines()[0])
    assert head
    assert int(head["overdue"] or 0) >= before + 31
