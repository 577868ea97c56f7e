"""What a user in Bremen expects to read, computed independently of koopbot's own code.

The process under test uses the wall clock, so expectations start from the real today in
Europe/Berlin. Working days follow DOMAIN.md W1 with the `holidays` package as the oracle.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAY = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
WEEKDAY_LONG = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
ONE_DAY = timedelta(days=1)

# expand=True (the default) fills in each year on its first lookup.
_BREMEN = holidays.country_holidays("DE", subdiv="HB")


def now() -> datetime:
    return datetime.now(BERLIN)


def today() -> date:
    return now().date()


def d(day: date) -> str:
    """17.04.2025"""
    return day.strftime("%d.%m.%Y")


def wd(day: date) -> str:
    """Do 17.04.2025"""
    return f"{WEEKDAY[day.weekday()]} {d(day)}"


def relative(due: date, ref: date) -> str:
    days = (due - ref).days
    if days == 0:
        return "heute"
    if days == 1:
        return "morgen"
    if days == -1:
        return "gestern fällig"
    return f"in {days} Tagen" if days > 0 else f"seit {-days} Tagen überfällig"


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _BREMEN


def next_working_day(day: date) -> date:
    while not is_working_day(day):
        day += ONE_DAY
    return day


def previous_working_day(day: date) -> date:
    while not is_working_day(day):
        day -= ONE_DAY
    return day


def nth_working_day_after(day: date, n: int) -> date:
    while n:
        day += ONE_DAY
        n -= is_working_day(day)
    return day


def add_months(day: date, months: int) -> date:
    """§ 188 Abs. 3 BGB: a day missing in the target month becomes its last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# ⚠️ #12 HB-2025-117 Bericht – Do 17.04.2025 (in 3 Tagen)
_DEADLINE = re.compile(
    r"^(?P<warn>⚠️ )?#(?P<id>\d+) (?:(?P<code>Organisation|[A-Z]{1,5}-\d{4}-\d{1,5}) )?"
    r"(?P<label>[\wÄÖÜäöüß-]+) – (?P<wd>Mo|Di|Mi|Do|Fr|Sa|So) (?P<date>\d\d\.\d\d\.\d{4})"
    r"(?: \((?P<rel>[^)]+)\))?$"
)


@dataclass(frozen=True)
class DeadlineLine:
    id: int
    code: str | None
    label: str
    due: date
    overdue_mark: bool
    relative: str | None

    def check(self, ref: date) -> None:
        """The weekday, the warning sign and the words agree with the date and `ref`."""
        assert self.overdue_mark == (self.due < ref), self
        if self.relative not in (None, "erledigt", "entfallen"):
            assert self.relative == relative(self.due, ref), self


def parse_deadline(line: str, wd_must_match: bool = True) -> DeadlineLine | None:
    m = _DEADLINE.match(line.strip())
    if m is None:
        return None
    due = datetime.strptime(m["date"], "%d.%m.%Y").date()
    if wd_must_match:
        assert WEEKDAY[due.weekday()] == m["wd"], line
    return DeadlineLine(
        id=int(m["id"]),
        code=m["code"],
        label=m["label"],
        due=due,
        overdue_mark=bool(m["warn"]),
        relative=m["rel"],
    )


def deadlines_in(reply: str) -> list[DeadlineLine]:
    """Every deadline line of a reply, in order (also after `neu: ` or `entfällt: `)."""
    out = []
    for line in reply.splitlines():
        body = re.sub(r"^\s*(?:neu: |entfällt: |verschoben \(vorher [^)]+\): )", "", line)
        parsed = parse_deadline(body)
        if parsed is not None:
            out.append(parsed)
    return out
