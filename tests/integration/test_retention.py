"""Retention (issue 12, DOMAIN.md P4) with an injected clock, on SQLite and PostgreSQL.

A closed case disappears after `retention.closed_case_days` and a deactivated person is
anonymised after `retention.staff_days`, while the figures of past quarters and their XLSX
export stay exactly as they were wherever they do not name the case or the person.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.core import Bot
from bot.messages import Incoming
from bot.reminder_engine import reminder_engine
from scheduler.clock import FixedClock
from storage import retention
from storage.db import Database
from storage.models.audit import AuditEntry
from storage.models.cases import Case, CoordinationRequest, Deadline, Meeting
from storage.models.hours import HoursEntry
from storage.models.reachability import Availability
from storage.models.staff import MessengerIdentity, Staff
from storage.retention import run_retention
from tests.conftest import ChatUser
from tests.integration.helpers import BOTH_BACKENDS, all_rows, one_row, staff_id
from tests.reminder_fakes import RecordingMessenger

CODE = "HB-2026-011"  # JB's demo case
Cells = list[list[tuple[Any, ...]]]


def _figures(bot: Bot, who: ChatUser) -> tuple[str, Cells]:
    """/quartal 2025-Q2 as text and /export xlsx 2025-Q2 as the cell values of every sheet."""
    quarter = who.say("/quartal 2025-Q2")
    reply = bot.handle(Incoming(who.sender, who.sender.user_id, "/export xlsx 2025-Q2"))
    [xlsx] = [a for a in reply.attachments if a.filename.endswith(".xlsx")]
    book = load_workbook(io.BytesIO(xlsx.data))
    return quarter, [list(ws.iter_rows(values_only=True)) for ws in book.worksheets]


def _renamed(cells: Cells, old: str, new: str) -> Cells:
    return [[tuple(new if v == old else v for v in row) for row in sheet] for sheet in cells]


def _history(demo: dict[str, ChatUser]) -> None:
    """A quarter with JB's case in it: hours, a missed session, a meeting, a coordination
    need, other work, then the case closed with its outcome."""
    for line in (
        f"/stunden 2 {CODE}",
        f"/stunden 1 {CODE} ausfall grund=abgesagt",
        "/stunden 1,5 netzwerk",
        f"/hpg {CODE} 02.06.2025 10:00",
        f"/abstimmung {CODE}",
    ):
        assert not demo["JB"].say(line).startswith("Entschuldigung"), line
    demo["LW"].say("/stunden 1 gruppe teilnehmer=4")
    assert demo["MK"].say(f"/fall_schliessen {CODE}").startswith(f"Fall {CODE} zum 07.04.2025")
    assert demo["MK"].say(f"/hilfeende {CODE} anschluss=nein").startswith("Gespeichert")


@BOTH_BACKENDS
async def test_a_closed_case_disappears_and_the_quarter_stays_the_same(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    _history(demo)
    case_id = one_row(db, Case, Case.code == CODE).id
    assert all_rows(db, Deadline, Deadline.case_id == case_id)
    assert all_rows(db, Meeting, Meeting.case_id == case_id)
    assert all_rows(db, CoordinationRequest, CoordinationRequest.case_id == case_id)
    hours_before = all_rows(db, HoursEntry)
    days = bot.settings.retention.closed_case_days
    service = reminder_engine(
        bot.settings, db, clock, bot.calendar, {"console": RecordingMessenger(clock)}
    )

    # One day short of the period: nothing goes.
    clock.set(datetime(2025, 4, 7, 3, 15, tzinfo=clock.now().tzinfo) + timedelta(days=days - 1))
    figures = _figures(bot, demo["MK"])
    await service.retention_job()
    assert one_row(db, Case, Case.id == case_id).code == CODE
    assert _figures(bot, demo["MK"]) == figures

    # The day it is due, the daily job anonymises the case.
    clock.advance(timedelta(days=1))
    figures = _figures(bot, demo["MK"])
    await service.retention_job()
    case = one_row(db, Case, Case.id == case_id)
    label = retention.case_label(case_id or 0)
    assert case.code == label and case.anonymised_at == clock.now()
    assert all_rows(db, Deadline, Deadline.case_id == case_id) == []
    assert all_rows(db, Meeting, Meeting.case_id == case_id) == []
    assert all_rows(db, CoordinationRequest, CoordinationRequest.case_id == case_id) == []
    assert all_rows(db, HoursEntry) == hours_before
    assert CODE in demo["MK"].say(f"/fall {CODE}")  # "Einen Fall HB-2026-011 finde ich nicht"
    assert "finde ich nicht" in demo["MK"].say(f"/fall {CODE}")
    assert CODE not in demo["JB"].say("/faelle alle")
    # The quarter's figures and the export: equal, where they do not name the case.
    quarter, cells = figures
    assert _figures(bot, demo["MK"]) == (quarter.replace(CODE, label), _renamed(cells, CODE, label))
    [entry] = [a for a in all_rows(db, AuditEntry) if a.action == "retention"]
    assert '"cases": 1' in entry.details
    # Run again: nothing more to do.
    assert run_retention(bot.settings, db, clock.now()).empty


@BOTH_BACKENDS
def test_a_deactivated_person_is_anonymised_and_their_hours_stay(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    _history(demo)
    demo["JB"].say("/praesenz Di-Do 08-16")
    assert all_rows(db, Availability)
    jb = staff_id(db, "JB")
    start = clock.now()
    with db.session() as session:
        person = session.get(Staff, jb)
        assert person is not None
        person.active = False  # left the organisation, before deactivation was dated

    # The first run starts the period; it ends staff_days later.
    assert run_retention(bot.settings, db, start).staff_clock_starts == [(jb, "Jonas Berg")]
    assert one_row(db, Staff, Staff.id == jb).deactivated_at == start
    days = bot.settings.retention.staff_days
    clock.set(start + timedelta(days=days) - timedelta(minutes=1))
    figures = _figures(bot, demo["MK"])
    assert run_retention(bot.settings, db, clock.now()).staff == []
    clock.set(start + timedelta(days=days))
    assert [s[0] for s in run_retention(bot.settings, db, clock.now()).staff] == [jb]

    person = one_row(db, Staff, Staff.id == jb)
    assert (person.name, person.handle, person.work_phone) == (
        retention.staff_label(jb),
        retention.staff_handle(jb),
        None,
    )
    assert all_rows(db, MessengerIdentity, MessengerIdentity.staff_id == jb) == []
    assert all_rows(db, Availability, Availability.staff_id == jb) == []
    assert len(all_rows(db, HoursEntry, HoursEntry.staff_id == jb)) == 3
    # Their hours stay in the figures, under the neutral label.
    quarter, cells = figures
    renamed = _renamed(_renamed(cells, "Jonas Berg", person.name), "JB", person.handle)
    assert _figures(bot, demo["MK"]) == (quarter, renamed)
    assert demo["JB"].say("/fristen").startswith("Hallo! Diesen Dienst")  # a stranger now


@BOTH_BACKENDS
def test_old_audit_entries_go_through_the_retention_job_only(
    bot: Bot, db: Database, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    _history(demo)
    entries = all_rows(db, AuditEntry)
    assert entries
    # Nobody else may delete or change an entry, old or new.
    for statement in (delete(AuditEntry), text("UPDATE audit_log SET action = 'x'")):
        with pytest.raises((IntegrityError, DBAPIError)), db.session() as session:
            session.execute(statement)
    assert all_rows(db, AuditEntry) == entries

    later = clock.now() + timedelta(days=bot.settings.retention.audit_days, seconds=1)
    clock.set(later)
    demo["MK"].say("/einladen mitarbeiter typ=fk")  # a new entry, written now
    found = run_retention(bot.settings, db, later)
    assert found.audit_entries == len(entries)
    left = all_rows(db, AuditEntry)
    assert [a.action for a in left] == ["invite", "retention"]
    # The gate closed with the transaction: the rest is protected again.
    with pytest.raises((IntegrityError, DBAPIError)), db.session() as session:
        session.execute(delete(AuditEntry))
    assert all_rows(db, AuditEntry) == left
