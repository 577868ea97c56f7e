"""Helpers several command modules share: the visible case, options, dates, deadline lines."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime, time

from bot import texts
from bot.commands.ag78_questions import repeats_a_name
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import (
    DEADLINE_KIND_LABEL,
    WEEKDAY_LONG,
    WEEKDAY_SHORT,
    fmt_date,
    fmt_date_wd,
    fmt_days_relative,
)
from bot.messages import Button, Reply
from bot.parsing.case_codes import parse_case_code
from bot.parsing.dates import WeekdayMismatch, looks_like_date, parse_date
from bot.parsing.day_words import WEEKDAY_WORDS
from bot.registry import Handler
from config.enums import DeadlineStatus
from storage import audit
from storage.cases import ChainChanges, can_see_case, case_by_code
from storage.models.cases import Case, Deadline


def visible_case(ctx: Ctx, raw_code: str) -> Case:
    """The case with this code if the sender may see it; the same answer when it does not exist."""
    code = parse_case_code(raw_code, ctx.settings.case_code_pattern)
    case = case_by_code(ctx.session, code)
    if case is None or not can_see_case(ctx.staff, ctx.staff_side, case):
        raise UserError(texts.unknown_case(code))
    return case


def deadline_line(
    deadline: Deadline, code: str | None, today: date, *, with_state: bool = True
) -> str:
    """`#12 HB-2025-017 Bericht – Do 17.04.2025 (in 3 Tagen)`; `code` None leaves it out."""
    label = DEADLINE_KIND_LABEL[deadline.kind]
    where = "Organisation " if deadline.case_id is None else (f"{code} " if code else "")
    line = f"#{deadline.id} {where}{label} – {fmt_date_wd(deadline.due)}"
    if not with_state:
        return line
    if deadline.status is DeadlineStatus.done:
        return f"{line} (erledigt)"
    if deadline.status is DeadlineStatus.cancelled:
        return f"{line} (entfallen)"
    mark = "⚠️ " if deadline.due < today else ""
    return f"{mark}{line} ({fmt_days_relative(deadline.due, today)})"


def changes_lines(changes: ChainChanges, code: str, today: date) -> list[str]:
    """What a recomputation changed, for the reply."""
    lines = [f"neu: {deadline_line(d, code, today)}" for d in changes.added]
    lines += [
        f"verschoben (vorher {fmt_date_wd(old)}): {deadline_line(d, code, today)}"
        for d, old in changes.moved
    ]
    lines += [
        f"entfällt: {deadline_line(d, code, today, with_state=False)}" for d in changes.cancelled
    ]
    return lines


def audit_change(
    ctx: Ctx, action: str, entity: str, entity_id: int | None, **details: str | int | bool | None
) -> None:
    audit.record(
        ctx.session,
        at=ctx.now,
        actor_staff_id=ctx.staff_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details=dict(details),
    )


def local_datetime(ctx: Ctx, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ctx.settings.tz)


def split_date_time(tokens: list[str]) -> tuple[str, str | None]:
    """Split `Mo 02.06.2025 10:00` or `02.06. 10 Uhr` into the date part and the time part."""
    if not tokens:
        raise UserError("Bitte ein Datum angeben, z. B. 02.06.2025 10:00.")
    take = 1
    if (
        len(tokens) >= 2
        and tokens[0].lower().rstrip(".,") in WEEKDAY_WORDS
        and looks_like_date(tokens[1])
        and tokens[1].lower().rstrip(".,") not in WEEKDAY_WORDS
    ):
        take = 2  # a weekday and a date; parse_date checks that they agree (A2)
    rest = " ".join(tokens[take:])
    return " ".join(tokens[:take]), rest or None


def asks_weekday(command: str) -> Callable[[Handler], Handler]:
    """A2: a weekday that does not fit its date is asked back, with the corrected command as
    a button. Handlers parse their dates before they write, so nothing is left behind."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def asking(ctx: Ctx, args: str) -> Reply:
            try:
                return handler(ctx, args)
            except WeekdayMismatch as exc:
                return _weekday_question(exc, command, args)

        return asking

    return wrap


def _weekday_question(exc: WeekdayMismatch, command: str, args: str) -> Reply:
    # Only a weekday right before a date is replaced, never a Kürzel such as traeger=MI.
    words = "|".join(w for w, d in WEEKDAY_WORDS.items() if d == exc.named_weekday)
    pattern = re.compile(rf"(?i)\b(?:{words})\b[.,]?(?=\s+\d)")
    fixed, count = pattern.subn(WEEKDAY_SHORT[exc.date.weekday()], args, count=1)
    if not count or repeats_a_name(fixed):
        return Reply(exc.message)
    label = f"Ja, {WEEKDAY_LONG[exc.date.weekday()]}, {fmt_date(exc.date)}"
    return Reply(exc.message, buttons=(Button(label, f"/{command} {fixed}"),))


def pop_option(options: dict[str, str], *names: str) -> str | None:
    """The value of the first of these options given, removed from the options."""
    for name in names:
        if name in options:
            return options.pop(name)
    return None


def day_not_after_today(ctx: Ctx, tokens: list[str], future_refusal: str) -> date:
    """The date the tokens name (today when there are none), refused when in the future."""
    day = parse_date(" ".join(tokens), ctx.today, prefer="past") if tokens else ctx.today
    if day > ctx.today:
        raise UserError(future_refusal)
    return day
