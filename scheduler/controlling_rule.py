"""Which quarters the 90 % rule (H3) looks at, its verdict, and what the running quarter still
needs (issue 14). Pure: `today` is passed in.

One place decides the window, so `/pruefen`, `/quartal`, `/jahr`, the alert after a quarter
and the forecast alert mid-quarter always agree: the quarters up to the last one that has
ended, and the running quarter after them as a forecast that never counts as missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.controlling import (
    SHORT_QUARTERS,
    Quarter,
    QuarterResult,
    QuarterState,
    is_short,
    working_days,
)
from scheduler.workdays import WorkCalendar


@dataclass(frozen=True)
class RuleWindow:
    """The quarters the 90 % rule looks at, decided in this one place for `/pruefen`, every
    `/quartal` and `/jahr`, the alert after a quarter and the forecast alert (issue 14)."""

    ended: tuple[Quarter, ...]  # the `needed` quarters up to the last one that has ended
    running: Quarter | None  # the quarter after them, if it runs today: a forecast only


def rule_window(last: Quarter, today: date, needed: int = SHORT_QUARTERS) -> RuleWindow:
    """The rule as of the end of `last` (a view's last quarter), but never past `today`.

    The last quarter that has ended decides (H3): a view of the running quarter or of the
    year shows the rule up to the quarter before it, with the running one as a forecast.
    """
    current = Quarter.of(today)
    newest = min(last, current.previous())
    quarters = [newest]
    while len(quarters) < needed:
        quarters.insert(0, quarters[0].previous())
    return RuleWindow(tuple(quarters), current if newest.next() == current else None)


@dataclass(frozen=True)
class RuleVerdict:
    """The rule over its window: a run to renegotiate, and what the running quarter forecasts."""

    ended: tuple[QuarterResult, ...]
    running: QuarterResult | None
    threshold: int
    needed: int

    @property
    def run(self) -> tuple[QuarterResult, ...] | None:
        """The `needed` ended quarters if all of them are short: renegotiate (H3)."""
        if len(self.ended) >= self.needed and all(
            r.state is QuarterState.short for r in self.ended[-self.needed :]
        ):
            return self.ended[-self.needed :]
        return None

    @property
    def streak(self) -> int:
        """How many ended quarters in a row, up to the last one, are short."""
        n = 0
        for r in reversed(self.ended):
            if r.state is not QuarterState.short:
                break
            n += 1
        return n

    @property
    def forecast_short(self) -> bool:
        r = self.running
        return (
            r is not None
            and r.forecast_minutes is not None
            and r.target_minutes is not None
            and is_short(r.forecast_minutes, r.target_minutes, self.threshold)
        )

    @property
    def forecast_streak(self) -> int:
        """The short quarters in a row the running one would end, by its forecast (0: none)."""
        return self.streak + 1 if self.forecast_short else 0


@dataclass(frozen=True)
class CatchUp:
    """What the running quarter still needs to reach the threshold."""

    missing_minutes: float  # to the threshold's share of the target
    days_left: int  # working days after today until the quarter ends

    @property
    def minutes_per_day(self) -> float | None:
        return None if self.days_left == 0 else self.missing_minutes / self.days_left


def catch_up(
    result: QuarterResult, today: date, calendar: WorkCalendar, threshold: int
) -> CatchUp | None:
    """The minutes still missing to `threshold` % of the target and the working days left;
    None without a target or once the threshold is reached."""
    if result.target_minutes is None:
        return None
    missing = result.target_minutes * threshold / 100 - result.delivered_minutes
    if missing <= 0:
        return None
    left = working_days(today + timedelta(days=1), result.quarter.last, calendar)
    return CatchUp(missing, left)


def elapsed_share(quarter: Quarter, today: date, calendar: WorkCalendar) -> float:
    """The share of the quarter's working days that have passed, today included (0 to 1)."""
    total = working_days(quarter.first, quarter.last, calendar)
    if total == 0:
        return 1.0
    return working_days(quarter.first, min(today, quarter.last), calendar) / total
