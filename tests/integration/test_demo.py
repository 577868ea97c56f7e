"""The CLI demo's history: a contract and past hours, so the controlling commands show figures."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, func, select

from bot.core import Bot
from bot.demo import DEMO_PLANNED_HOURS, load_demo_history
from config.settings import Settings
from scheduler.clock import FixedClock
from storage.db import Database
from storage.enums import HoursCategory
from storage.models import Contract, ContractYear, HoursEntry
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
