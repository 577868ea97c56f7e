"""Hours controlling against the provider budget (DOMAIN.md H2-H5, seed 001 II.5 and II.7).

Pure rules: quarters, targets, the 90 % rule with a forecast for the running quarter, and the
key figures of a period. Nothing here reads a clock; `today` is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from config.enums import HoursCategory, MissedReason, StaffType
from scheduler.workdays import WorkCalendar

# Seed 001 II.5: indirect time (travel, documentation, training) is 20 % of the direct
# hours "by calculation"; renegotiation when fewer than 90 % of the planned hours are
# delivered in three consecutive quarters.
INDIRECT_PERCENT = 20
THRESHOLD_PERCENT = 90
SHORT_QUARTERS = 3

_QUARTER_RE = re.compile(
    r"^(?:(?P<y1>\d{4})\s*[-/ ]?\s*Q(?P<q1>[1-4])|Q(?P<q2>[1-4])\s*(?:[-/ ]\s*(?P<y2>\d{4}))?"
    r"|(?P<q3>[1-4])\s*[./]\s*(?:Quartal\s*)?(?P<y3>\d{4}))$",
    re.IGNORECASE,
)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1-4

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter number {self.number} is not 1-4")

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str, today: date) -> Quarter | None:
        """`2025-Q3`, `2025Q3`, `Q3/2025`, `Q3 2025`, `3/2025`, `Q3` (this year); else None."""
        m = _QUARTER_RE.match(text.strip())
        if m is None:
            return None
        number = m["q1"] or m["q2"] or m["q3"]
        year = m["y1"] or m["y2"] or m["y3"]
        return cls(int(year) if year else today.year, int(number))

    @property
    def first(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last(self) -> date:
        return self.next().first - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def key(self) -> str:
        """`2025-Q3`: how the quarter is typed and stored."""
        return f"{self.year}-Q{self.number}"

    @property
    def label(self) -> str:
        """`Q3/2025`: how the quarter is shown."""
        return f"Q{self.number}/{self.year}"

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def previous(self) -> Quarter:
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )


def quarters_between(first: date, last: date) -> list[Quarter]:
    """Every quarter that overlaps [first, last], in order."""
    out: list[Quarter] = []
    q = Quarter.of(first)
    while q.first <= last:
        out.append(q)
        q = q.next()
    return out


def quarter_target_minutes(planned_year_hours: int) -> int:
    """H2: a quarter's target is a quarter of the year's planned direct hours (hours*60/4)."""
    return planned_year_hours * 15


def indirect_minutes(direct_minutes: int, percent: int = INDIRECT_PERCENT) -> float:
    """H2: indirect time by calculation (shown, never logged)."""
    return direct_minutes * percent / 100


def percent_of(delivered: float, target: int) -> float | None:
    return None if target <= 0 else delivered * 100 / target


def is_short(delivered_minutes: float, target_minutes: int, threshold: int) -> bool:
    """H3: "weniger als 90 %": exactly 90 % is not short."""
    return delivered_minutes * 100 < threshold * target_minutes


class QuarterState(StrEnum):
    met = "met"  # ended, at least the threshold delivered
    short = "short"  # ended, below the threshold
    running = "running"  # today lies in it: a forecast, never counted as missed
    future = "future"
    no_target = "no_target"  # outside the contract term or no planned hours for that year


@dataclass(frozen=True)
class QuarterResult:
    quarter: Quarter
    target_minutes: int | None
    delivered_minutes: int
    state: QuarterState
    forecast_minutes: float | None = None  # running quarter: projected to its end

    @property
    def percent(self) -> float | None:
        if self.target_minutes is None:
            return None
        return percent_of(self.delivered_minutes, self.target_minutes)

    @property
    def forecast_percent(self) -> float | None:
        if self.target_minutes is None or self.forecast_minutes is None:
            return None
        return percent_of(self.forecast_minutes, self.target_minutes)


def forecast(
    quarter: Quarter, delivered_minutes: int, today: date, calendar: WorkCalendar
) -> float | None:
    """Delivered so far, projected linearly over the quarter's working days.

    Working days rather than calendar days, so a quarter with Easter is not over-forecast.
    Today counts as elapsed; before the first working day there is nothing to project.
    """
    total = working_days(quarter.first, quarter.last, calendar)
    elapsed = working_days(quarter.first, min(today, quarter.last), calendar)
    if elapsed == 0 or total == 0:
        return None
    return delivered_minutes * total / elapsed


def working_days(first: date, last: date, calendar: WorkCalendar) -> int:
    """Working days in [first, last] (W1)."""
    n, d = 0, first
    while d <= last:
        n += calendar.is_working_day(d)
        d += timedelta(days=1)
    return n


def evaluate_quarter(
    quarter: Quarter,
    target_minutes: int | None,
    delivered_minutes: int,
    today: date,
    calendar: WorkCalendar,
    threshold: int = THRESHOLD_PERCENT,
) -> QuarterResult:
    """The state of one quarter on `today` (H3)."""
    if target_minutes is None or target_minutes <= 0:
        return QuarterResult(quarter, None, delivered_minutes, QuarterState.no_target)
    if today < quarter.first:
        return QuarterResult(quarter, target_minutes, delivered_minutes, QuarterState.future)
    if today <= quarter.last:
        projected = forecast(quarter, delivered_minutes, today, calendar)
        return QuarterResult(
            quarter, target_minutes, delivered_minutes, QuarterState.running, projected
        )
    short = is_short(delivered_minutes, target_minutes, threshold)
    state = QuarterState.short if short else QuarterState.met
    return QuarterResult(quarter, target_minutes, delivered_minutes, state)


def short_runs(
    results: Sequence[QuarterResult], needed: int = SHORT_QUARTERS
) -> list[tuple[QuarterResult, ...]]:
    """H3: every run of `needed` consecutive ended short quarters, one per quarter that ends it.

    A running quarter is never part of a run; a quarter without a target breaks it. Four short
    quarters in a row give two runs (the second ends one quarter later): one alert each.
    """
    ordered = sorted(results, key=lambda r: r.quarter)
    runs: list[tuple[QuarterResult, ...]] = []
    streak: list[QuarterResult] = []
    for r in ordered:
        adjacent = bool(streak) and streak[-1].quarter.next() == r.quarter
        if r.state is QuarterState.short:
            streak = [*streak, r] if adjacent else [r]
            if len(streak) >= needed:
                runs.append(tuple(streak[-needed:]))
        else:
            streak = []
    return runs


# -- key figures (H4, H5) ---------------------------------------------------------------------


@dataclass(frozen=True)
class HoursRow:
    """One aggregate of hours entries: all entries of one staff type, category and reason."""

    staff_type: StaffType | None
    category: HoursCategory
    missed_reason: MissedReason | None
    minutes: int
    entries: int
    participants: int = 0


@dataclass
class Figures:
    """The figures of one period for one view (an organisation, a person, some cases)."""

    first: date
    last: date
    minutes: dict[tuple[StaffType | None, HoursCategory], int] = field(default_factory=dict)
    entries: dict[HoursCategory, int] = field(default_factory=dict)
    missed_by_reason: dict[MissedReason, int] = field(default_factory=dict)
    missed_count_by_reason: dict[MissedReason, int] = field(default_factory=dict)
    group_participants: int = 0
    cases_served: int = 0  # H5 "people helped": distinct cases with direct hours
    helps_ended: int = 0
    ended_without_follow_up: int = 0  # ended helps recorded without follow-up help outside
    indirect_percent: int = INDIRECT_PERCENT

    def category_minutes(self, category: HoursCategory) -> int:
        return sum(m for (_, c), m in self.minutes.items() if c is category)

    def type_minutes(self, staff_type: StaffType | None, category: HoursCategory) -> int:
        return self.minutes.get((staff_type, category), 0)

    @property
    def direct_minutes(self) -> int:
        return self.category_minutes(HoursCategory.direct)

    @property
    def indirect_minutes(self) -> float:
        return indirect_minutes(self.direct_minutes, self.indirect_percent)

    @property
    def total_logged_minutes(self) -> int:
        return sum(self.minutes.values())

    @property
    def staff_types(self) -> list[StaffType | None]:
        present = {t for t, _ in self.minutes}
        ordered: list[StaffType | None] = [t for t in StaffType if t in present]
        return [*ordered, None] if None in present else ordered


def figures(
    first: date,
    last: date,
    rows: Iterable[HoursRow],
    *,
    cases_served: int = 0,
    helps_ended: int = 0,
    ended_without_follow_up: int = 0,
    indirect_percent: int = INDIRECT_PERCENT,
) -> Figures:
    """Fold aggregate rows into the figures of a period."""
    out = Figures(
        first,
        last,
        cases_served=cases_served,
        helps_ended=helps_ended,
        ended_without_follow_up=ended_without_follow_up,
        indirect_percent=indirect_percent,
    )
    for row in rows:
        key = (row.staff_type, row.category)
        out.minutes[key] = out.minutes.get(key, 0) + row.minutes
        out.entries[row.category] = out.entries.get(row.category, 0) + row.entries
        if row.category is HoursCategory.group:
            out.group_participants += row.participants
        if row.category is HoursCategory.missed and row.missed_reason is not None:
            reason = row.missed_reason
            out.missed_by_reason[reason] = out.missed_by_reason.get(reason, 0) + row.minutes
            out.missed_count_by_reason[reason] = (
                out.missed_count_by_reason.get(reason, 0) + row.entries
            )
    return out


def direct_by_quarter(
    daily: Iterable[tuple[date, int]], quarters: Sequence[Quarter]
) -> dict[Quarter, int]:
    """Direct minutes per day folded into quarters (days outside `quarters` are ignored)."""
    wanted = set(quarters)
    out = dict.fromkeys(quarters, 0)
    for day, minutes in daily:
        q = Quarter.of(day)
        if q in wanted:
            out[q] += minutes
    return out


def week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def month_of(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)
