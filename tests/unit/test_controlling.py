"""Pure rules of the hours controlling (DOMAIN.md H2-H5): quarters, targets, the 90 % rule."""

from __future__ import annotations

from datetime import date

import pytest

from config.enums import HoursCategory, MissedReason, StaffType
from scheduler.controlling import (
    HoursRow,
    Quarter,
    QuarterResult,
    QuarterState,
    direct_by_quarter,
    evaluate_quarter,
    figures,
    forecast,
    indirect_minutes,
    is_short,
    quarter_target_minutes,
    short_runs,
)
from scheduler.workdays import WorkCalendar

HB = WorkCalendar(subdivision="HB", workdays="mon-fri")
H = 60  # minutes per hour


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2025, 3, 31), Quarter(2025, 1)),  # last day of Q1
        (date(2025, 4, 1), Quarter(2025, 2)),  # first day of Q2
        (date(2025, 12, 31), Quarter(2025, 4)),
        (date(2028, 2, 29), Quarter(2028, 1)),  # leap day
    ],
)
def test_quarter_of_day(day: date, quarter: Quarter) -> None:
    assert Quarter.of(day) == quarter


def test_quarter_bounds_and_leap_year() -> None:
    q1 = Quarter(2025, 1)
    assert (q1.first, q1.last, q1.days) == (date(2025, 1, 1), date(2025, 3, 31), 90)
    # 2028 is a leap year: 31 + 29 + 31 days.
    assert Quarter(2028, 1).days == 91
    assert Quarter(2025, 4).last == date(2025, 12, 31)
    assert Quarter(2025, 1).previous() == Quarter(2024, 4)
    assert Quarter(2025, 4).next() == Quarter(2026, 1)
    assert (Quarter(2025, 3).key, Quarter(2025, 3).label) == ("2025-Q3", "Q3/2025")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-Q3", Quarter(2025, 3)),
        ("2025Q3", Quarter(2025, 3)),
        ("Q3/2025", Quarter(2025, 3)),
        ("q3 2025", Quarter(2025, 3)),
        ("3/2025", Quarter(2025, 3)),
        ("Q2", Quarter(2025, 2)),  # this year
        ("Q5", None),
        ("2025-Q0", None),
        ("Sommer", None),
    ],
)
def test_parse_quarter(text: str, expected: Quarter | None) -> None:
    assert Quarter.parse(text, date(2025, 4, 7)) == expected


def test_target_is_a_quarter_of_the_year_and_indirect_is_twenty_percent() -> None:
    # H2: 12,000 h a year -> 3,000 h a quarter = 180,000 minutes.
    assert quarter_target_minutes(12_000) == 3_000 * H
    # 10 h direct -> 2 h indirect by calculation; 7 minutes -> 1.4 minutes.
    assert indirect_minutes(10 * H) == 2 * H
    assert indirect_minutes(7) == pytest.approx(1.4)


def test_ninety_percent_boundary() -> None:
    target = 100 * H
    assert not is_short(90 * H, target, 90)  # exactly 90 % is not "weniger als 90 %"
    assert is_short(90 * H - 1, target, 90)
    assert not is_short(100 * H, target, 90)


def test_forecast_counts_working_days() -> None:
    # Q2/2025 in Bremen has 60 working days (April 20: Good Friday and Easter Monday off;
    # May 20: 1 May and Ascension; June 20: Whit Monday). On Mon 07.04. five have passed
    # (Tue 1. to Fri 4., Mon 7.): 5 h so far project to 5 * 60 / 5 = 60 h.
    assert forecast(Quarter(2025, 2), 5 * H, date(2025, 4, 7), HB) == 60 * H
    # Before the first working day (Tue 01.04. is one) there is nothing to project.
    assert forecast(Quarter(2026, 1), 0, date(2026, 1, 1), HB) is None


def test_states_running_quarter_is_a_forecast_never_missed() -> None:
    today = date(2025, 4, 7)
    target = 100 * H
    running = evaluate_quarter(Quarter(2025, 2), target, 5 * H, today, HB)
    assert running.state is QuarterState.running
    assert running.forecast_minutes == 60 * H
    ended = evaluate_quarter(Quarter(2025, 1), target, 89 * H, today, HB)
    assert ended.state is QuarterState.short and ended.percent == 89
    assert evaluate_quarter(Quarter(2024, 4), target, 95 * H, today, HB).state is QuarterState.met
    assert evaluate_quarter(Quarter(2025, 3), target, 0, today, HB).state is QuarterState.future
    assert evaluate_quarter(Quarter(2025, 1), None, 0, today, HB).state is QuarterState.no_target


def _result(q: Quarter, state: QuarterState) -> QuarterResult:
    return QuarterResult(q, 100 * H, 80 * H if state is QuarterState.short else 95 * H, state)


S, M, R, N = QuarterState.short, QuarterState.met, QuarterState.running, QuarterState.no_target


@pytest.mark.parametrize(
    ("states", "run_ends"),
    [
        ([S, S, S], ["Q3/2025"]),  # three short quarters in a row: renegotiate
        ([S, S], []),  # two are not enough
        ([S, S, R], []),  # a running quarter is never counted as missed
        ([S, M, S, S], []),  # a met quarter breaks the run
        ([S, S, S, S], ["Q3/2025", "Q4/2025"]),  # one alert per quarter that completes a run
        ([N, S, S, S], ["Q4/2025"]),
        ([S, N, S, S], []),  # no target: the chain breaks
    ],
)
def test_short_runs(states: list[QuarterState], run_ends: list[str]) -> None:
    q = Quarter(2025, 1)
    results = []
    for state in states:
        results.append(_result(q, state))
        q = q.next()
    assert [run[-1].quarter.label for run in short_runs(results)] == run_ends
    assert all(len(run) == 3 for run in short_runs(results))


def test_figures_split_by_staff_type_and_category() -> None:
    rows = [
        HoursRow(StaffType.fachkraft, HoursCategory.direct, None, 7 * H, 4),
        HoursRow(StaffType.semiprofessional, HoursCategory.direct, None, 3 * H + 30, 2),
        HoursRow(StaffType.semiprofessional, HoursCategory.group, None, 2 * H, 1, participants=6),
        HoursRow(StaffType.fachkraft, HoursCategory.group, None, 90, 1, participants=4),
        HoursRow(StaffType.fachkraft, HoursCategory.missed, MissedReason.illness, H, 1),
        HoursRow(StaffType.fachkraft, HoursCategory.missed, MissedReason.not_met, 2 * H, 2),
        HoursRow(StaffType.fachkraft, HoursCategory.informal_advice, None, 45, 3),
    ]
    f = figures(date(2025, 1, 1), date(2025, 3, 31), rows, cases_served=5)
    # direct: 7 h + 3.5 h = 10.5 h; indirect 20 % = 2.1 h = 126 minutes
    assert f.direct_minutes == 630
    assert f.indirect_minutes == pytest.approx(126)
    assert f.type_minutes(StaffType.fachkraft, HoursCategory.direct) == 420
    assert f.type_minutes(StaffType.semiprofessional, HoursCategory.direct) == 210
    assert f.group_participants == 10 and f.entries[HoursCategory.group] == 2
    assert f.category_minutes(HoursCategory.group) == 210
    assert f.missed_by_reason == {MissedReason.illness: 60, MissedReason.not_met: 120}
    assert f.missed_count_by_reason == {MissedReason.illness: 1, MissedReason.not_met: 2}
    assert f.entries[HoursCategory.informal_advice] == 3
    assert f.total_logged_minutes == 630 + 210 + 180 + 45
    assert f.staff_types == [StaffType.fachkraft, StaffType.semiprofessional]


def test_daily_minutes_fold_into_quarters_including_leap_day() -> None:
    quarters = [Quarter(2027, 4), Quarter(2028, 1), Quarter(2028, 2)]
    daily = [
        (date(2027, 12, 31), 60),
        (date(2028, 1, 1), 30),
        (date(2028, 2, 29), 120),  # leap day counts in Q1/2028
        (date(2028, 3, 31), 15),
        (date(2028, 4, 1), 45),
        (date(2029, 1, 1), 999),  # outside: ignored
    ]
    assert direct_by_quarter(daily, quarters) == {
        Quarter(2027, 4): 60,
        Quarter(2028, 1): 165,
        Quarter(2028, 2): 45,
    }
