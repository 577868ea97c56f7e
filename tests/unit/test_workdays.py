from __future__ import annotations

from datetime import date

import pytest

from scheduler.workdays import CLOSING_DAY_NAME, WorkCalendar

HB = WorkCalendar("HB")
HB_SAT = WorkCalendar("HB", workdays="mon-sat")
HB_XMAS = WorkCalendar("HB", recurring_closing_days=[(12, 24), (12, 31)])
BY = WorkCalendar("BY")
NW = WorkCalendar("NW")
BB = WorkCalendar("BB")


@pytest.mark.parametrize(
    ("cal", "day", "working"),
    [
        (HB, date(2025, 4, 17), True),  # Maundy Thursday is an ordinary day
        (HB, date(2025, 4, 18), False),  # Good Friday
        (HB, date(2025, 4, 19), False),  # Saturday, mon-fri
        (HB_SAT, date(2025, 4, 19), True),  # Saturday counts with mon-sat
        (HB_SAT, date(2025, 4, 20), False),  # Sunday never counts
        (HB_SAT, date(2025, 4, 21), False),  # Easter Monday
        (HB, date(2025, 10, 31), False),  # Reformationstag is a holiday in Bremen ...
        (BY, date(2025, 10, 31), True),  # ... but not in Bavaria
        (HB, date(2025, 6, 19), True),  # Fronleichnam is no holiday in Bremen ...
        (BY, date(2025, 6, 19), False),  # ... but in Bavaria
        (NW, date(2025, 6, 19), False),  # ... and in North Rhine-Westphalia
        (HB, date(2026, 1, 6), True),  # Heilige Drei Könige only in BW, BY, ST
        (BY, date(2026, 1, 6), False),
        (HB, date(2025, 12, 24), True),  # 24.12. is no public holiday ...
        (HB_XMAS, date(2025, 12, 24), False),  # ... only a configured closing day
        (HB_XMAS, date(2025, 12, 31), False),
        (HB_XMAS, date(2025, 12, 30), True),
        (HB_XMAS, date(2026, 12, 24), False),  # recurring: every year
    ],
)
def test_is_working_day(cal: WorkCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


@pytest.mark.parametrize(
    ("cal", "day", "name"),
    [
        (HB, date(2025, 4, 18), "Karfreitag"),
        (HB, date(2025, 4, 21), "Ostermontag"),
        (HB, date(2025, 10, 31), "Reformationstag"),
        (BY, date(2025, 10, 31), None),
        (BY, date(2025, 6, 19), "Fronleichnam"),
        (HB, date(2025, 4, 20), None),  # Easter Sunday is a public holiday only in Brandenburg
        (BB, date(2025, 4, 20), "Ostersonntag"),
        (HB, date(2025, 4, 19), None),  # a plain weekend day has no name
        (HB_XMAS, date(2025, 12, 24), CLOSING_DAY_NAME),
        (HB_XMAS, date(2025, 12, 25), "Erster Weihnachtstag"),
        (HB_XMAS, date(2026, 1, 1), "Neujahr"),
    ],
)
def test_holiday_name(cal: WorkCalendar, day: date, name: str | None) -> None:
    assert cal.holiday_name(day) == name


def test_one_off_closing_day() -> None:
    cal = WorkCalendar("HB", closing_days=[date(2026, 1, 2)])
    assert not cal.is_working_day(date(2026, 1, 2))
    assert cal.holiday_name(date(2026, 1, 2)) == CLOSING_DAY_NAME
    assert cal.is_working_day(date(2025, 1, 2))  # one-off: not repeated in other years
    assert cal.next_working_day(date(2026, 1, 1)) == date(2026, 1, 5)


def test_public_holiday_name_wins_over_closing_day() -> None:
    cal = WorkCalendar("HB", recurring_closing_days=[(12, 25)])
    assert cal.holiday_name(date(2025, 12, 25)) == "Erster Weihnachtstag"


@pytest.mark.parametrize(
    ("cal", "day", "expected"),
    [
        (HB, date(2025, 4, 17), date(2025, 4, 17)),  # already a working day
        (HB, date(2025, 4, 18), date(2025, 4, 22)),  # Good Friday .. Easter Monday
        (HB_SAT, date(2025, 4, 18), date(2025, 4, 19)),
        (HB, date(2025, 12, 24), date(2025, 12, 24)),
        (HB_XMAS, date(2025, 12, 24), date(2025, 12, 29)),
        (HB_XMAS, date(2025, 12, 31), date(2026, 1, 2)),
    ],
)
def test_next_working_day(cal: WorkCalendar, day: date, expected: date) -> None:
    assert cal.next_working_day(day) == expected


@pytest.mark.parametrize(
    ("cal", "day", "expected"),
    [
        (HB, date(2025, 4, 17), date(2025, 4, 17)),
        (HB, date(2025, 4, 21), date(2025, 4, 17)),  # Easter Monday .. Good Friday
        (HB_SAT, date(2025, 4, 21), date(2025, 4, 19)),
        (HB, date(2026, 1, 1), date(2025, 12, 31)),
        (HB_XMAS, date(2026, 1, 1), date(2025, 12, 30)),
        (HB_XMAS, date(2025, 12, 26), date(2025, 12, 23)),
    ],
)
def test_previous_working_day(cal: WorkCalendar, day: date, expected: date) -> None:
    assert cal.previous_working_day(day) == expected


@pytest.mark.parametrize(
    ("cal", "day", "n", "expected"),
    [
        (HB, date(2025, 4, 10), 1, date(2025, 4, 11)),  # the start day itself never counts
        (HB, date(2025, 4, 10), 7, date(2025, 4, 23)),
        (HB_SAT, date(2025, 4, 10), 7, date(2025, 4, 19)),
        (HB, date(2025, 4, 18), 1, date(2025, 4, 22)),  # counting from a holiday
    ],
)
def test_nth_working_day_after(cal: WorkCalendar, day: date, n: int, expected: date) -> None:
    assert cal.nth_working_day_after(day, n) == expected


def test_nth_working_day_after_rejects_zero() -> None:
    with pytest.raises(ValueError, match="n must be at least 1"):
        HB.nth_working_day_after(date(2025, 4, 10), 0)


@pytest.mark.parametrize("workdays", ["mon-sun", "Mon-Fri", ""])
def test_bad_workdays_setting_names_the_value(workdays: str) -> None:
    with pytest.raises(ValueError, match=repr(workdays)):
        WorkCalendar("HB", workdays=workdays)


@pytest.mark.parametrize(("country", "subdivision"), [("DE", "XX"), ("DE", "hb"), ("XX", "HB")])
def test_bad_subdivision_fails_at_construction(country: str, subdivision: str) -> None:
    with pytest.raises(ValueError, match="unknown country/subdivision"):
        WorkCalendar(subdivision, country=country)


@pytest.mark.parametrize("pair", [(13, 1), (2, 30), (0, 5)])
def test_bad_recurring_closing_day(pair: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="recurring closing day"):
        WorkCalendar("HB", recurring_closing_days=[pair])


def test_recurring_29_february_skipped_in_common_years() -> None:
    cal = WorkCalendar("HB", recurring_closing_days=[(2, 29)])
    assert not cal.is_working_day(date(2028, 2, 29))
    assert cal.is_working_day(date(2027, 2, 26))
