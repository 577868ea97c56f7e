from __future__ import annotations

from datetime import date

import pytest

from scheduler.deadlines import (
    add_months,
    latest_followup,
    months_from,
    periodic_due,
    valid_until,
    weeks_after,
    weeks_before,
    working_days_after,
    yearly_fixed_due,
)
from scheduler.workdays import WorkCalendar

HB = WorkCalendar("HB")
HB_SAT = WorkCalendar("HB", workdays="mon-sat")
HB_XMAS = WorkCalendar("HB", recurring_closing_days=[(12, 24), (12, 31)])
HB_BRIDGE = WorkCalendar(
    "HB", recurring_closing_days=[(12, 24), (12, 31)], closing_days=[date(2026, 1, 2)]
)
BY = WorkCalendar("BY")
BY_XMAS = WorkCalendar("BY", recurring_closing_days=[(12, 24), (12, 31)])
NW = WorkCalendar("NW")


@pytest.mark.parametrize(
    ("cal", "event", "weeks", "due"),
    [
        # DOMAIN.md D1: Fri 18.04.2025 is Good Friday, Mon 21.04. Easter Monday.
        (HB, date(2025, 3, 7), 6, date(2025, 4, 22)),
        (HB_SAT, date(2025, 3, 7), 6, date(2025, 4, 19)),
        (HB, date(2025, 3, 6), 6, date(2025, 4, 17)),  # lands on a working day: unchanged
        # Reformationstag 31.10.2025 (Fri): holiday in Bremen, not in Bavaria.
        (HB, date(2025, 9, 19), 6, date(2025, 11, 3)),
        (BY, date(2025, 9, 19), 6, date(2025, 10, 31)),
        # Fronleichnam 19.06.2025 (Thu): holiday in BY and NW, not in Bremen.
        (HB, date(2025, 5, 8), 6, date(2025, 6, 19)),
        (BY, date(2025, 5, 8), 6, date(2025, 6, 20)),
        (NW, date(2025, 5, 8), 6, date(2025, 6, 20)),
        # Year end: 24.12. closing day, 25./26.12. holidays, weekend, 31.12. closing, 01.01.
        (HB, date(2025, 11, 12), 6, date(2025, 12, 24)),
        (HB_XMAS, date(2025, 11, 12), 6, date(2025, 12, 29)),
        (HB, date(2025, 11, 13), 6, date(2025, 12, 29)),  # lands on 25.12.
        (HB_XMAS, date(2025, 11, 19), 6, date(2026, 1, 2)),  # lands on 31.12.
        (HB, date(2025, 11, 20), 6, date(2026, 1, 2)),  # lands on 01.01.
        (HB_BRIDGE, date(2025, 11, 20), 6, date(2026, 1, 5)),  # one-off bridge day 02.01.
    ],
)
def test_weeks_after_rolls_forward(cal: WorkCalendar, event: date, weeks: int, due: date) -> None:
    assert weeks_after(cal, event, weeks) == due


@pytest.mark.parametrize(
    ("cal", "meeting", "weeks", "due"),
    [
        # DOMAIN.md D3: Mon 21.04.2025 Easter Monday, Fri 18.04. Good Friday.
        (HB, date(2025, 6, 2), 6, date(2025, 4, 17)),
        (HB_SAT, date(2025, 6, 2), 6, date(2025, 4, 19)),
        (HB, date(2025, 6, 3), 6, date(2025, 4, 22)),  # lands on a working day: unchanged
        # Lands on Fri 26.12.2025.
        (HB, date(2026, 2, 6), 6, date(2025, 12, 24)),
        (HB_XMAS, date(2026, 2, 6), 6, date(2025, 12, 23)),
        # Lands on Thu 01.01.2026.
        (HB, date(2026, 2, 12), 6, date(2025, 12, 31)),
        (HB_XMAS, date(2026, 2, 12), 6, date(2025, 12, 30)),
        # Lands on Fri 31.10.2025.
        (HB, date(2025, 12, 12), 6, date(2025, 10, 30)),
        (BY, date(2025, 12, 12), 6, date(2025, 10, 31)),
    ],
)
def test_weeks_before_rolls_back(cal: WorkCalendar, meeting: date, weeks: int, due: date) -> None:
    assert weeks_before(cal, meeting, weeks) == due


@pytest.mark.parametrize(
    ("cal", "event", "n", "due"),
    [
        # DOMAIN.md D4: 11, 14, 15, 16, 17, 22, 23 April.
        (HB, date(2025, 4, 10), 7, date(2025, 4, 23)),
        # DOMAIN.md D4 with mon-sat: 11, 12, 14, 15, 16, 17, 19 April.
        (HB_SAT, date(2025, 4, 10), 7, date(2025, 4, 19)),
        # Raised on a holiday: the holiday is not counted, the count starts after it.
        (HB, date(2025, 4, 18), 1, date(2025, 4, 22)),
        # Christmas: 23.12., 29.12., 30.12., 02.01., 05.01., 06.01., 07.01.
        (HB_XMAS, date(2025, 12, 22), 7, date(2026, 1, 7)),
        # Bavaria also skips Epiphany 06.01.
        (BY_XMAS, date(2025, 12, 22), 7, date(2026, 1, 8)),
        # Without closing days 24.12. and 31.12. count.
        (HB, date(2025, 12, 22), 7, date(2026, 1, 5)),
    ],
)
def test_working_days_after(cal: WorkCalendar, event: date, n: int, due: date) -> None:
    assert working_days_after(cal, event, n) == due


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 8, 31), 6, date(2026, 2, 28)),  # DOMAIN.md D2, § 188 Abs. 3 BGB
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap year
        (date(2025, 8, 31), 12, date(2026, 8, 31)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # month end
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),  # across the year
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("cal", "start", "months", "due"),
    [
        (HB, date(2024, 8, 31), 6, date(2025, 2, 28)),  # Fri 28.02.2025
        (HB, date(2023, 8, 31), 6, date(2024, 2, 29)),  # Thu 29.02.2024
        (HB, date(2025, 8, 31), 6, date(2026, 3, 2)),  # Sat 28.02.2026 -> Mon
        (HB, date(2025, 1, 31), 1, date(2025, 2, 28)),
        (HB, date(2025, 10, 18), 6, date(2026, 4, 20)),  # Sat 18.04.2026 -> Mon
        (HB, date(2024, 10, 21), 6, date(2025, 4, 22)),  # Easter Monday 21.04.2025 -> Tue
        (HB_XMAS, date(2025, 6, 24), 6, date(2025, 12, 29)),  # closing day 24.12. -> Mon
    ],
)
def test_months_from(cal: WorkCalendar, start: date, months: int, due: date) -> None:
    assert months_from(cal, start, months) == due


@pytest.mark.parametrize(
    ("k", "due"),
    [
        (1, date(2023, 2, 28)),  # Tue
        (2, date(2023, 8, 31)),  # Thu: 31 Aug again, not 28 Aug as chaining would give
        (3, date(2024, 2, 29)),  # Thu, leap year
        (4, date(2024, 9, 2)),  # Sat 31.08.2024 -> Mon
        (5, date(2025, 2, 28)),
    ],
)
def test_periodic_due_counts_from_start(k: int, due: date) -> None:
    assert periodic_due(HB, date(2022, 8, 31), 6, k) == due


def test_periodic_due_is_not_chained() -> None:
    start = date(2022, 8, 31)
    chained = months_from(HB, months_from(HB, start, 6), 6)
    assert chained == date(2023, 8, 28)
    assert periodic_due(HB, start, 6, 2) == date(2023, 8, 31)


def test_periodic_due_shorter_interval() -> None:
    # C1 "individuelle Absprachen": a three-monthly report from the D1 example start.
    dues = [periodic_due(HB, date(2025, 3, 7), 3, k) for k in range(1, 5)]
    # 07.06.2025 is a Saturday and 09.06. Whit Monday; the others fall on weekends.
    assert dues == [date(2025, 6, 10), date(2025, 9, 8), date(2025, 12, 8), date(2026, 3, 9)]


@pytest.mark.parametrize(
    ("start", "months", "until"),
    [
        (date(2025, 3, 7), 6, date(2025, 9, 6)),  # D5 for the D1 example start
        (date(2025, 1, 1), 12, date(2025, 12, 31)),
        (date(2024, 3, 1), 12, date(2025, 2, 28)),
        (date(2023, 3, 1), 12, date(2024, 2, 29)),
        (date(2025, 4, 18), 6, date(2025, 10, 17)),  # never shifted, even from a holiday
        # § 188 Abs. 3 BGB: no 31.02., so the period ends on the last day of February.
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2025, 8, 30), 6, date(2026, 2, 28)),  # 30.02. missing too
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
    ],
)
def test_valid_until(start: date, months: int, until: date) -> None:
    assert valid_until(start, months) == until


@pytest.mark.parametrize(
    ("cal", "start", "months", "latest"),
    [
        (HB, date(2025, 3, 7), 6, date(2025, 9, 5)),  # Sat 06.09.2025 -> Fri
        (HB, date(2025, 3, 4), 6, date(2025, 9, 3)),  # Wed: unchanged
        (HB, date(2025, 4, 4), 6, date(2025, 10, 2)),  # Fri 03.10.2025 German Unity Day
        (HB, date(2025, 1, 1), 12, date(2025, 12, 31)),
        (HB_XMAS, date(2025, 1, 1), 12, date(2025, 12, 30)),  # closing day 31.12.
        (HB, date(2025, 11, 1), 6, date(2026, 4, 30)),
        (HB, date(2025, 11, 2), 12, date(2026, 10, 30)),  # Sun 01.11., Sat 31.10. (Ref.)
    ],
)
def test_latest_followup_rolls_back(
    cal: WorkCalendar, start: date, months: int, latest: date
) -> None:
    assert latest_followup(cal, start, months) == latest


@pytest.mark.parametrize(
    ("year", "due"),
    [
        (2026, date(2026, 3, 31)),  # C5: first due Tue 31.03.2026
        (2027, date(2027, 3, 31)),  # Wed
        (2028, date(2028, 3, 31)),  # Fri
        (2029, date(2029, 4, 3)),  # Sat 31.03., Easter Sunday 01.04., Easter Monday 02.04.
        (2024, date(2024, 4, 2)),  # Easter Sunday 31.03.2024, Easter Monday 01.04.
        (2025, date(2025, 3, 31)),  # Mon
    ],
)
def test_yearly_fixed_due(year: int, due: date) -> None:
    assert yearly_fixed_due(HB, 3, 31, year) == due
