"""The CLI demo's history: a contract and past hours, so the controlling commands show figures."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, func, select

from bot.core import Bot
from bot.demo import DEMO_PLANNED_HOURS, load_demo_history
from config.enums import HoursCategory
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.hours import Contract, ContractYear, HoursEntry
from tests.conftest import ChatUser
from tests.integration.helpers import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


def test_history_fills_the_two_quarters_before_this_one_once(
    db: Database, settings: Settings, bot: Bot, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    # The clock stands on Mon 07.04.2025: this quarter began 01.04.2025.
    with db.session() as session:
        assert load_demo_history(session, settings, bot.calendar, clock.now())
        assert not load_demo_history(session, settings, bot.calendar, clock.now())
    with db.session() as session:
        contract = session.exec(select(Contract)).one()
        assert (contract.starts_on, contract.ends_on) == (date(2025, 1, 1), date(2029, 12, 31))
        years = session.exec(select(ContractYear).order_by(col(ContractYear.year))).all()
        assert [(y.year, y.planned_direct_hours) for y in years] == [
            (year, DEMO_PLANNED_HOURS) for year in range(2025, 2030)
        ]
        first, last = session.exec(select(func.min(HoursEntry.day), func.max(HoursEntry.day))).one()
        assert first >= date(2024, 10, 1) and last <= date(2025, 3, 31)
        holidays = session.exec(
            select(func.count()).where(
                col(HoursEntry.day).in_([date(2024, 12, 25), date(2025, 1, 1)])
            )
        ).one()
        assert holidays == 0  # working days only
        direct = session.exec(
            select(func.sum(HoursEntry.minutes)).where(HoursEntry.category == HoursCategory.direct)
        ).one()
        assert direct and direct > 0
    reply = demo["MK"].say("/quartal letztes")
    assert reply.startswith("Stundencontrolling Q1/2025 (01.01.2025–31.03.2025)")
    assert f"von {DEMO_PLANNED_HOURS // 4} Std. Soll" in reply


@pytest.mark.parametrize("today", [date(2025, 4, 7), date(2026, 12, 2), date(2028, 2, 29)], ids=str)
def test_the_demo_is_relative_to_the_clocks_today(
    db: Database, settings: Settings, bot: Bot, today: date
) -> None:
    """Issue 14, item 18: cases began before today, the README's HB-2025-017 is there, and
    a code's year is never after its start's (HB-2025-041 did start in 2026 once)."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from bot.demo import README_CASE, load_demo
    from storage.models.ag78 import AgSession
    from storage.models.cases import Case

    now = datetime.combine(today, time(10), tzinfo=ZoneInfo("Europe/Berlin"))
    with db.session() as session:
        assert load_demo(session, settings, bot.calendar, now)
    with db.session() as session:
        cases = {c.code: c for c in session.exec(select(Case))}
        assert README_CASE in cases
        for code, case in cases.items():
            assert case.start_date < today, code
            if code.startswith("HB-2025-"):
                assert case.start_date.year <= 2025, (code, case.start_date)
        upcoming = session.exec(select(AgSession).where(col(AgSession.starts_at) > now)).all()
        assert len(upcoming) == 3


def test_a_start_long_ago_gets_a_hint_about_overdue_deadlines(
    demo: dict[str, ChatUser],
) -> None:
    reply = demo["TB"].say("/fall_neu HB-2023-900 §30 beginn=07.03.2023 traeger=JB")
    assert reply.startswith("Fall HB-2023-900 angelegt")
    assert "⚠️ Der Hilfebeginn liegt weit zurück:" in reply
    assert "koopbot import cases --done-before" in reply
    recent = demo["TB"].say("/fall_neu HB-2025-901 §30 beginn=01.04.2025 traeger=JB")
    assert "Der Hilfebeginn liegt weit zurück" not in recent
