"""Every change recomputes the deadline chain (DOMAIN.md C2-C4, D3, D4)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import Bot
from config.enums import DeadlineKind, DeadlineStatus, MeetingKind
from config.settings import Settings
from scheduler.casework import extend_chains
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.cases import CoordinationRequest, Deadline, Meeting
from tests.conftest import ChatUser
from tests.integration.helpers import (
    BOTH_BACKENDS,
    all_rows,
    audit_trail,
    case_of,
    deadline_number,
    deadlines_of,
    one_row,
    open_dues,
    row_counts,
    staff_id,
)

pytestmark = BOTH_BACKENDS

BERLIN = ZoneInfo("Europe/Berlin")
CODE = "HB-2025-117"
NEW_CASE = f"/fall_neu {CODE} §30 beginn=07.03.2025 traeger=JB asd=TB"


def _meeting_reports(db: Database) -> list[Deadline]:
    return [d for d in deadlines_of(db, CODE) if ":report:meeting:" in d.key]


def test_hpg_adds_moves_and_cancels_its_report(db: Database, demo: dict[str, ChatUser]) -> None:
    demo["TB"].say(NEW_CASE)
    reply = demo["TB"].say(f"/hpg {CODE} 02.06.2025 10:00")
    # D3: Mon 02.06. - 6 weeks is Easter Monday, Good Friday before it: Thu 17.04.2025.
    assert (
        reply.splitlines()[0] == f"Hilfeplangespräch für {CODE} eingetragen: Mo 02.06.2025, 10:00."
    )
    assert f"neu: #{deadline_number(reply, 'Bericht')} {CODE} Bericht – Do 17.04.2025" in reply
    meeting = one_row(db, Meeting, Meeting.case_id == case_of(db, CODE).id)
    assert meeting.kind is MeetingKind.hpg
    assert meeting.starts_at == datetime(2025, 6, 2, 10, 0, tzinfo=BERLIN)
    [report] = _meeting_reports(db)
    assert (report.due, report.status, report.rule[:5]) == (
        date(2025, 4, 17),
        DeadlineStatus.open,
        "C2/D3",
    )

    moved = demo["JB"].say(f"/hpg {CODE} 03.06.2025 14:30")  # either side may move it
    assert moved.splitlines()[0] == f"Hilfeplangespräch für {CODE} verlegt: Di 03.06.2025, 14:30."
    assert (
        f"verschoben (vorher Do 17.04.2025): #{report.id} {CODE} Bericht – Di 22.04.2025" in moved
    )
    assert len(all_rows(db, Meeting)) == 1
    [same] = _meeting_reports(db)
    assert (same.id, same.due) == (report.id, date(2025, 4, 22))

    cancelled = demo["TB"].say(f"/hpg {CODE} absagen")
    assert (
        cancelled.splitlines()[0] == f"Hilfeplangespräch für {CODE} abgesagt: Di 03.06.2025, 14:30."
    )
    assert f"entfällt: #{report.id} {CODE} Bericht – Di 22.04.2025" in cancelled
    assert one_row(db, Meeting, Meeting.id == meeting.id).cancelled
    [gone] = _meeting_reports(db)
    assert gone.status is DeadlineStatus.cancelled
    assert [a for _, a, _ in audit_trail(db)[-3:]] == [
        "meeting_eingetragen",
        "meeting_verlegt",
        "meeting_abgesagt",
    ]

    before = row_counts(db)
    assert demo["TB"].say(f"/hpg {CODE} absagen") == (
        f"Für {CODE} ist kein kommendes Hilfeplangespräch eingetragen."
    )
    assert "in der Vergangenheit" in demo["TB"].say(f"/hpg {CODE} 01.04.2025")
    assert row_counts(db) == before


def test_hpg_after_the_first_plan_ends_gets_a_warning(demo: dict[str, ChatUser]) -> None:
    demo["TB"].say(NEW_CASE)
    reply = demo["TB"].say(f"/hpg {CODE} 15.09.2025")
    assert "Hilfeplangespräch für HB-2025-117 eingetragen: Mo 15.09.2025, 09:00." in reply
    assert "Achtung: Der Ersthilfeplan gilt nur bis 06.09.2025." in reply


def test_closing_meeting_works_like_hpg(db: Database, demo: dict[str, ChatUser]) -> None:
    demo["TB"].say(NEW_CASE)
    reply = demo["TB"].say(f"/abschluss {CODE} 30.09.2025 14:00")
    assert (
        reply.splitlines()[0] == f"Abschlussgespräch für {CODE} eingetragen: Di 30.09.2025, 14:00."
    )
    assert f"{CODE} Bericht – Di 19.08.2025" in reply
    moved = demo["TB"].say(f"/abschluss {CODE} 06.10.2025 14:00")
    assert "verschoben (vorher Di 19.08.2025)" in moved and "Bericht – Mo 25.08.2025" in moved
    [report] = _meeting_reports(db)
    assert report.due == date(2025, 8, 25)
    assert one_row(db, Meeting, Meeting.kind == MeetingKind.closing).starts_at == datetime(
        2025, 10, 6, 14, 0, tzinfo=BERLIN
    )
    assert "entfällt" in demo["TB"].say(f"/abschluss {CODE} absagen")
    assert _meeting_reports(db)[0].status is DeadlineStatus.cancelled


def test_coordination_within_seven_working_days(
    db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    demo["TB"].say(NEW_CASE)
    clock.set(datetime(2025, 4, 10, 11, 0, tzinfo=BERLIN))  # Thu before Easter
    reply = demo["JB"].say(f"/abstimmung {CODE}")  # the provider side may raise it too
    assert reply.splitlines()[0] == f"Abstimmungsbedarf für {CODE} am 10.04.2025 vermerkt."
    assert f"{CODE} Abstimmungsgespräch – Mi 23.04.2025 (in 13 Tagen)" in reply
    request = one_row(db, CoordinationRequest)
    assert (request.raised_on, request.raised_by) == (date(2025, 4, 10), staff_id(db, "JB"))
    assert open_dues(db, CODE)[DeadlineKind.coordination] == [date(2025, 4, 23)]
    assert audit_trail(db)[-1] == (staff_id(db, "JB"), "raise", "coordination_request")

    before = row_counts(db)
    assert "nicht in der Zukunft" in demo["TB"].say(f"/abstimmung {CODE} morgen")
    assert row_counts(db) == before


def test_coordination_with_saturday_as_working_day(
    settings: Settings, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    mon_sat = Bot(settings.model_copy(update={"workdays": "mon-sat"}), db, clock)
    tb = ChatUser(mon_sat, demo["TB"].sender.user_id)
    tb.say(NEW_CASE)
    clock.set(datetime(2025, 4, 10, 11, 0, tzinfo=BERLIN))
    assert f"{CODE} Abstimmungsgespräch – Sa 19.04.2025" in tb.say(f"/abstimmung {CODE}")
    assert open_dues(db, CODE)[DeadlineKind.coordination] == [date(2025, 4, 19)]


def test_next_periodic_report_follows_when_the_chain_is_recomputed(
    db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    report = deadline_number(demo["TB"].say(NEW_CASE), "Bericht")
    clock.set(datetime(2025, 9, 9, 10, 0, tzinfo=BERLIN))
    demo["JB"].say(f"/erledigt {report}")
    # Only the series up to the first report after today is stored; the next change extends
    # it, counted from the start (D2): 07.03.2026 is a Saturday, so Mon 09.03.2026.
    reply = demo["JB"].say(f"/abstimmung {CODE}")
    assert f"{CODE} Bericht – Mo 09.03.2026" in reply
    periodic = [d for d in deadlines_of(db, CODE) if ":report:periodic:" in d.key]
    assert [(d.due, d.status) for d in periodic] == [
        (date(2025, 9, 8), DeadlineStatus.done),
        (date(2026, 3, 9), DeadlineStatus.open),
    ]


def test_daily_housekeeping_extends_the_report_series_without_any_change(
    db: Database, settings: Settings, bot: Bot, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    demo["TB"].say(NEW_CASE)
    # Untouched for half a year: the stored series ends with the report of 08.09.2025.
    clock.set(datetime(2025, 9, 9, 6, 0, tzinfo=BERLIN))
    with db.session() as session:
        assert (
            extend_chains(session, calendar=bot.calendar, periods=settings.periods, now=clock.now())
            >= 1  # this case and the demo cases whose series ran out too
        )
    periodic = [d for d in deadlines_of(db, CODE) if ":report:periodic:" in d.key]
    assert [(d.due, d.status) for d in periodic] == [
        (date(2025, 9, 8), DeadlineStatus.open),  # overdue, still open until done
        (date(2026, 3, 9), DeadlineStatus.open),  # D2 from the start: Sat 07.03.2026 -> Mon
    ]
    with db.session() as session:  # a second run the same day finds nothing to do
        assert (
            extend_chains(session, calendar=bot.calendar, periods=settings.periods, now=clock.now())
            == 0
        )


def test_mark_done_once_and_only_own(
    db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    number = deadline_number(demo["TB"].say(NEW_CASE), "Handlungsplan")
    done = demo["JB"].say(f"/erledigt {number}")
    assert done == f"Erledigt: {CODE} Handlungsplan (fällig 22.04.2025). Danke!"
    row = one_row(db, Deadline, Deadline.id == number)
    assert (row.status, row.done_by, row.done_at) == (
        DeadlineStatus.done,
        staff_id(db, "JB"),
        clock.now(),
    )
    assert audit_trail(db)[-1] == (staff_id(db, "JB"), "done", "deadline")
    assert f"#{number}" not in demo["JB"].say("/fristen")
    assert f"#{number} Handlungsplan – Di 22.04.2025 (erledigt)" in demo["JB"].say(f"/fall {CODE}")

    before = row_counts(db)
    assert demo["TB"].say(f"/erledigt #{number}") == f"Die Frist #{number} ist bereits erledigt."
    # Someone else's deadline and one that does not exist get the very same answer.
    other = deadline_number(demo["TB"].say(f"/fall {CODE}"), "Bericht")
    refused = demo["LW"].say(f"/erledigt {other}")
    assert (
        refused
        == f"Eine Frist #{other} finde ich bei deinen Fällen nicht. /fristen zeigt deine Fristen."
    )
    assert demo["LW"].say("/erledigt 99999") == refused.replace(f"#{other}", "#99999")
    assert "Nummer der Frist" in demo["JB"].say("/erledigt Bericht")
    assert row_counts(db) == before
    assert one_row(db, Deadline, Deadline.id == other).status is DeadlineStatus.open


def test_closing_cancels_future_and_keeps_overdue(
    db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    demo["TB"].say(NEW_CASE)
    clock.advance(timedelta(days=21))  # Mon 28.04.2025: the action plan is overdue
    reply = demo["TB"].say(f"/fall_schliessen {CODE}")
    assert reply.splitlines()[0] == f"Fall {CODE} zum 28.04.2025 beendet."
    assert "entfällt:" in reply and "Folge-Hilfeplangespräch – Fr 05.09.2025" in reply
    assert "Noch offen (bitte erledigen):" in reply
    assert "⚠️" in reply and "Handlungsplan – Di 22.04.2025 (seit 6 Tagen überfällig)" in reply

    case = case_of(db, CODE)
    assert (case.status.value, case.closed_on) == ("closed", date(2025, 4, 28))
    states = {d.kind: d.status for d in deadlines_of(db, CODE)}
    assert states == {
        DeadlineKind.action_plan: DeadlineStatus.open,
        DeadlineKind.help_plan_review: DeadlineStatus.cancelled,
        DeadlineKind.report: DeadlineStatus.cancelled,
    }
    assert audit_trail(db)[-1] == (staff_id(db, "TB"), "close", "case")
    # The overdue one stays visible until someone hands it in.
    assert "Handlungsplan – Di 22.04.2025 (seit 6 Tagen überfällig)" in demo["JB"].say("/fristen")
    assert CODE not in demo["JB"].say("/faelle")
    assert f"{CODE} (abgeschlossen)" in demo["JB"].say("/faelle alle")

    before = row_counts(db)
    assert (
        demo["TB"].say(f"/fall_schliessen {CODE}") == f"Der Fall {CODE} ist bereits abgeschlossen."
    )
    assert demo["TB"].say(f"/hpg {CODE} 02.06.2025") == f"Der Fall {CODE} ist abgeschlossen."
    assert demo["TB"].say(f"/abstimmung {CODE}") == f"Der Fall {CODE} ist abgeschlossen."
    assert row_counts(db) == before


def test_closing_date_must_lie_between_start_and_today(
    db: Database, demo: dict[str, ChatUser]
) -> None:
    demo["TB"].say(NEW_CASE)
    before = row_counts(db)
    assert "vor dem Hilfebeginn" in demo["TB"].say(f"/fall_schliessen {CODE} 01.03.2025")
    assert "heutigem oder vergangenem Datum" in demo["TB"].say(
        f"/fall_schliessen {CODE} 08.04.2025"
    )
    assert row_counts(db) == before
