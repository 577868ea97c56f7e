"""Questions back for AG 78 dates and times: a wrong weekday (DOMAIN.md A2), and a time that
the clocks skip or repeat on the night of a daylight-saving change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Final

from bot.errors import UserError
from bot.formatting import WEEKDAY_LONG, WEEKDAY_SHORT, fmt_date, fmt_time
from bot.formatting import fmt_date_wd as fmt_day
from bot.messages import Button, Reply
from bot.parsing.args import split_args
from bot.parsing.dates import WeekdayMismatch
from bot.parsing.day_words import WEEKDAY_WORDS
from bot.parsing.echo import name_like_word
from scheduler.wallclock import AmbiguousTime, NonexistentTime, Reading, is_ambiguous, local_time

READING_WORDS: Final[dict[str, Reading]] = {
    **dict.fromkeys(
        ("sommerzeit", "sommer", "mesz", "erste", "erstes", "früher", "frueher"), Reading.earlier
    ),
    **dict.fromkeys(
        ("winterzeit", "winter", "mez", "zweite", "zweites", "später", "spaeter"), Reading.later
    ),
}


def weekday_question(exc: WeekdayMismatch, command: str, args: str) -> Reply:
    """A2: ask back, offering the command with the right weekday as a button."""
    wrong = WEEKDAY_SHORT[exc.named_weekday].lower()
    right = WEEKDAY_SHORT[exc.date.weekday()]
    pattern = re.compile(
        r"(?i)\b("
        + "|".join(w for w, d in WEEKDAY_WORDS.items() if d == exc.named_weekday)
        + r")\b\.?,?"
    )
    fixed = pattern.sub(right, args, count=1) if wrong else args
    if repeats_a_name(fixed):
        return Reply(exc.message)
    label = f"Ja, {WEEKDAY_LONG[exc.date.weekday()]}, {fmt_date(exc.date)}"
    return Reply(exc.message, buttons=(Button(label, f"/{command} {fixed}"),))


# Options that are free texts checked by bot/names.py before any question is asked: a
# capitalised word there ("Klausur") is the text itself, not an echo of what was refused.
_CHECKED_TEXTS = frozenset({"titel", "ort", "link", "themen"})


def repeats_a_name(args: str) -> bool:
    """Whether a button with these arguments would repeat a word that may be a name (P1),
    in a positional argument or in an option's value (`grund=Kowalski`)."""
    positional, options = split_args(args)
    values = [v for k, v in options.items() if k not in _CHECKED_TEXTS]
    return any(name_like_word(token) for token in [*positional, *values])


def reading_note(value: datetime) -> str:
    """ " (Sommerzeit)" or " (Winterzeit)" for a wall-clock time that happens twice, else ""."""
    if not is_ambiguous(value):
        return ""
    return " (Sommerzeit)" if value.dst() else " (Winterzeit)"


class ClockChange(Exception):
    """A session time falls into a daylight-saving change; `question` asks which time is meant.

    `typed` is the time range as the user typed it (None: the session's old times were kept).
    """

    def __init__(
        self, problem: AmbiguousTime | NonexistentTime, typed: str | None, start: time, end: time
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.typed = typed
        self.start, self.end = start, end

    def question(self, command: str, args: str) -> Reply:
        reply = self._question(command, args)
        return Reply(reply.text) if repeats_a_name(args) else reply

    def _question(self, command: str, args: str) -> Reply:
        p = self.problem
        day = fmt_day(p.day)
        if isinstance(p, AmbiguousTime):
            at = fmt_time(p.at)
            text = (
                f"Am {day} gibt es {at} zweimal: In dieser Nacht werden die Uhren um "
                f"{fmt_time(p.repeat_end)} auf {fmt_time(p.repeat_start)} zurückgestellt "
                f"(Ende der Sommerzeit). Welches {at} ist gemeint – das erste (noch "
                "Sommerzeit) oder das zweite (schon Winterzeit)?"
            )
            buttons = (
                Button(f"Das erste {at} (Sommerzeit)", f"/{command} {args} zeit=sommerzeit"),
                Button(f"Das zweite {at} (Winterzeit)", f"/{command} {args} zeit=winterzeit"),
            )
            return Reply(text, buttons=buttons)
        jump = datetime.combine(p.day, p.gap_end) - datetime.combine(p.day, p.gap_start)
        start, end = _after_gap(self.start, p, jump), _after_gap(self.end, p, jump)
        suggested = f"{fmt_time(start)}-{fmt_time(end)}"
        text = (
            f"Am {day} gibt es {fmt_time(p.at)} nicht: In dieser Nacht werden die Uhren um "
            f"{fmt_time(p.gap_start)} auf {fmt_time(p.gap_end)} vorgestellt (Beginn der "
            f"Sommerzeit). Meinst du {fmt_time(start)}–{fmt_time(end)}? Sonst bitte eine "
            "andere Uhrzeit angeben."
        )
        fixed = self._with_range(args, suggested)
        label = f"Ja, {fmt_time(start)}–{fmt_time(end)}"
        return Reply(text, buttons=(Button(label, f"/{command} {fixed}"),) if fixed else ())

    def _with_range(self, args: str, suggested: str) -> str | None:
        if self.typed is None:
            return f"{args} {suggested}"
        pattern = r"\s+".join(re.escape(part) for part in self.typed.split())
        fixed, count = re.subn(pattern, suggested, args, count=1)
        return fixed if count else None


def _after_gap(at: time, gap: NonexistentTime, jump: timedelta) -> time:
    """A time in the gap moved past it by the length of the jump (02:30 becomes 03:30)."""
    if gap.gap_start <= at < gap.gap_end:
        return (datetime.combine(gap.day, at) + jump).time()
    return at


@dataclass(frozen=True)
class SessionTimes:
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def resolve(
        cls,
        day: date,
        start: time,
        end: time,
        tz: tzinfo,
        reading: Reading | None,
        typed: str | None,
    ) -> SessionTimes:
        """Both wall-clock times on `day`, or ClockChange when the clocks skip or repeat one."""
        try:
            starts_at = local_time(day, start, tz, reading)
            ends_at = local_time(day, end, tz, reading)
        except (AmbiguousTime, NonexistentTime) as exc:
            raise ClockChange(exc, typed, start, end) from None
        if ends_at <= starts_at:
            raise UserError(
                f"Mit der Zeitumstellung am {fmt_date(day)} liegt das Ende ({fmt_time(end)}) "
                f"nicht nach dem Beginn ({fmt_time(start)}). Bitte die Zeiten prüfen."
            )
        return cls(starts_at, ends_at)
