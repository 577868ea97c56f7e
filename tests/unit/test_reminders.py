"""Pure reminder rules: stages, quiet hours, the next allowed minute, backoff."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from scheduler.reminders import (
    Audience,
    Policy,
    backoff,
    deadline_stages,
    digest_at,
    is_late,
    meeting_stages,
    next_allowed,
    plan,
    snooze_until,
)
from scheduler.workdays import WorkCalendar

BERLIN = ZoneInfo("Europe/Berlin")
CAL = WorkCalendar("HB")
POLICY = Policy(tz=BERLIN)


def t(day: int, month: int, hour: int = 8, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_stages_of_the_d1_example_deadline() -> None:
    # Due Tue 22.04.2025 (after Good Friday and Easter Monday).
    stages = list(islice(deadline_stages(POLICY, CAL, date(2025, 4, 22)), 9))
    assert [(s.key.split(":")[0], s.fire_at) for s in stages] == [
        ("d14", t(8, 4)),
        ("d7", t(15, 4)),
        ("w2", t(16, 4)),  # 17.04. is the 1st working day before, 16.04. the 2nd
        ("due", t(22, 4)),
        ("o1", t(23, 4)),
        ("o2", t(24, 4)),
        ("esc", t(25, 4)),
        ("o3", t(25, 4)),
        ("o4", t(28, 4)),
    ]
    assert stages[6].audience is Audience.escalation


def test_same_day_stages_are_reminded_once() -> None:
    policy = Policy(tz=BERLIN, days_before=(7,), working_days_before=(5,))
    stages = list(islice(deadline_stages(policy, CAL, date(2025, 7, 11)), 2))
    assert [s.key.split(":")[0] for s in stages] == ["d7", "due"]


def test_without_daily_overdue_reminders_only_the_escalation_follows() -> None:
    policy = Policy(tz=BERLIN, overdue_daily=False)
    stages = list(deadline_stages(policy, CAL, date(2025, 4, 22)))
    assert [s.key.split(":")[0] for s in stages] == ["d14", "d7", "w2", "due", "esc"]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (t(8, 4, 7, 59), t(8, 4, 8, 0)),  # before the window
        (t(8, 4, 8, 0), t(8, 4, 8, 0)),
        (t(8, 4, 17, 59), t(8, 4, 17, 59)),
        (t(8, 4, 18, 0), t(9, 4, 8, 0)),  # the window ends at 18:00
        (t(11, 4, 19, 0), t(14, 4, 8, 0)),  # Friday evening: Monday
        (t(17, 4, 18, 30), t(22, 4, 8, 0)),  # Thursday before Easter: Tuesday after
        (t(12, 4, 10, 0), t(14, 4, 8, 0)),  # Saturday
        (t(29, 3, 9, 0), t(31, 3, 8, 0)),  # weekend of the DST change stays at 08:00
    ],
)
def test_next_allowed_minute(at: datetime, expected: datetime) -> None:
    assert next_allowed(POLICY, CAL, at) == expected


def test_meeting_stages_keep_the_wall_clock_time() -> None:
    stages = meeting_stages(POLICY, t(2, 6, 10, 0))
    assert [s.fire_at for s in stages] == [t(26, 5, 10), t(1, 6, 10)]
    assert next_allowed(POLICY, CAL, stages[1].fire_at) == t(2, 6, 8)  # Sunday: Monday 08:00


def test_plan_returns_due_stages_and_the_next_time() -> None:
    stages = deadline_stages(POLICY, CAL, date(2025, 4, 22))
    due, nxt = plan(stages, since=t(10, 4), now=t(16, 4, 9))
    assert [s.key.split(":")[0] for s in due] == ["d7", "w2"] and nxt == t(22, 4)


@pytest.mark.parametrize(
    ("now", "until", "keys", "next_at"),
    [
        (t(21, 4, 18), t(22, 4, 14), ["due"], t(23, 4)),  # the evening before: planned ahead
        (t(21, 4, 18), t(22, 4, 7, 59), [], t(22, 4)),  # just outside the window
        (t(22, 4, 9), t(21, 4), ["due"], t(23, 4)),  # until before now: now counts
    ],
)
def test_plan_ahead_until(
    now: datetime, until: datetime, keys: list[str], next_at: datetime
) -> None:
    stages = deadline_stages(POLICY, CAL, date(2025, 4, 22))
    due, nxt = plan(stages, since=t(17, 4), now=now, until=until)
    assert [s.key.split(":")[0] for s in due] == keys and nxt == next_at


@pytest.mark.parametrize(
    ("now", "days", "expected"),
    [
        (t(15, 4, 9), 3, t(22, 4)),  # Good Friday: the next allowed minute
        (t(15, 4, 17), 1, t(16, 4)),
        (t(11, 4, 9), 1, t(14, 4)),  # Saturday: Monday
    ],
)
def test_snooze_until(now: datetime, days: int, expected: datetime) -> None:
    assert snooze_until(POLICY, CAL, now, days) == expected


def test_digest_on_monday_or_after_a_holiday() -> None:
    assert digest_at(POLICY, CAL, t(9, 4, 12)) == (date(2025, 4, 7), t(7, 4))
    assert digest_at(POLICY, CAL, t(22, 4, 12)) == (date(2025, 4, 21), t(22, 4))  # Easter


def test_late_and_backoff() -> None:
    grace = timedelta(minutes=30)
    assert not is_late(POLICY, CAL, t(11, 4, 20), t(14, 4, 8, 20), grace)  # quiet hours
    assert is_late(POLICY, CAL, t(14, 4, 8), t(14, 4, 9), grace)
    assert [backoff(n, 60, 3600).total_seconds() for n in (1, 2, 3, 7, 8)] == [
        60,
        120,
        240,
        3600,
        3600,
    ]
