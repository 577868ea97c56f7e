"""Working days (rule W1): weekdays minus public holidays minus closing days."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import holidays

CLOSING_DAY_NAME = "Schließtag"

_WEEKENDS: dict[str, frozenset[int]] = {
    "mon-fri": frozenset({5, 6}),
    "mon-sat": frozenset({6}),
}
_ONE_DAY = timedelta(days=1)


class WorkCalendar:
    """Which days count as working days for one organisation."""

    def __init__(
        self,
        subdivision: str = "HB",
        workdays: str = "mon-fri",
        closing_days: Iterable[date] = (),
        recurring_closing_days: Iterable[tuple[int, int]] = (),
        country: str = "DE",
    ) -> None:
        if workdays not in _WEEKENDS:
            raise ValueError(f"workdays must be 'mon-fri' or 'mon-sat', got {workdays!r}")
        self.country = country
        self.subdivision = subdivision
        self.workdays = workdays
        self._weekend = _WEEKENDS[workdays]
        self._closing_days = frozenset(closing_days)
        recurring = frozenset(recurring_closing_days)
        for month, day in recurring:
            try:
                date(2000, month, day)  # a leap year, so (2, 29) is accepted
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"recurring closing day must be a (month, day) pair, got {(month, day)!r}"
                ) from exc
        self._recurring = recurring
        # One-off holidays objects per year: the package builds a year in milliseconds, but
        # deadline sweeps ask about tens of thousands of dates, so lookups must be dict hits.
        self._closed_by_year: dict[int, dict[date, str]] = {}
        self._closed(2000)  # fail at start-up, not on the first deadline, for a bad setting

    def _closed(self, year: int) -> dict[date, str]:
        closed = self._closed_by_year.get(year)
        if closed is None:
            closed = self._build_year(year)
            self._closed_by_year[year] = closed
        return closed

    def _build_year(self, year: int) -> dict[date, str]:
        try:
            # language is explicit: without it the package guesses from the process locale
            # (LANG=C.UTF-8 yields English names).
            public = holidays.country_holidays(
                self.country, subdiv=self.subdivision, years=year, language="de"
            )
        except NotImplementedError as exc:
            raise ValueError(
                f"unknown country/subdivision {self.country!r}/{self.subdivision!r}: {exc}"
            ) from exc
        closed: dict[date, str] = {}
        for month, day in self._recurring:
            if month == 2 and day == 29 and not _is_leap(year):
                continue
            closed[date(year, month, day)] = CLOSING_DAY_NAME
        for d in self._closing_days:
            if d.year == year:
                closed[d] = CLOSING_DAY_NAME
        # Public holidays win over closing days so the name shown is the more informative one.
        closed.update((d, str(name)) for d, name in public.items())
        return closed

    def is_working_day(self, d: date) -> bool:
        """True if `d` is neither a weekend day nor a holiday nor a closing day."""
        if d.weekday() in self._weekend:
            return False
        return d not in self._closed(d.year)

    def holiday_name(self, d: date) -> str | None:
        """The public holiday's German name, "Schließtag" for closing days, else None."""
        return self._closed(d.year).get(d)

    def next_working_day(self, d: date) -> date:
        """`d` if it is a working day, else the next working day."""
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def previous_working_day(self, d: date) -> date:
        """`d` if it is a working day, else the previous working day."""
        while not self.is_working_day(d):
            d -= _ONE_DAY
        return d

    def nth_working_day_after(self, d: date, n: int) -> date:
        """The `n`-th working day after `d`; `d` itself does not count."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n!r}")
        for _ in range(n):
            d = self.next_working_day(d + _ONE_DAY)
        return d

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(subdivision={self.subdivision!r}, workdays={self.workdays!r}, "
            f"closing_days={sorted(self._closing_days)!r}, "
            f"recurring_closing_days={sorted(self._recurring)!r}, country={self.country!r})"
        )


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
