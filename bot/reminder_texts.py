"""German texts of reminders: one message per person, one line per deadline or meeting."""

from __future__ import annotations

from datetime import date, datetime

from bot.formatting import fmt_date_wd, fmt_datetime, fmt_days_relative, fmt_time
from bot.messages import Button, Reply
from scheduler.ports import Line

MAX_LINES = 25
MAX_BUTTON_DEADLINES = 4  # two buttons each; Telegram keyboards stay readable on a phone

FAILURE_REASON = {
    "blocked": "hat den Bot blockiert oder den Chat verlassen",
    "unknown_user": "hat kein erreichbares Messenger-Konto bei koopbot",
    "rate_limited": "der Messenger hat zu lange gebremst",
    "network": "der Messenger war nicht erreichbar",
}


def deadline_line(
    number: int, what: str, due: date, today: date, *, escalation: bool, responsible: str
) -> Line:
    """`#12 HB-2025-017 Bericht – Di 22.04.2025 (in 7 Tagen)`; escalations name who is due."""
    state = fmt_days_relative(due, today)
    mark = "⚠️ " if due < today else ""
    text = f"{mark}#{number} {what} – {fmt_date_wd(due)} ({state})"
    if escalation:
        text = f"Eskalation: {text}, zuständig: {responsible}"
    return Line(text, number)


def meeting_line(what: str, starts_at: datetime, today: date) -> Line:
    """`HB-2025-017 Hilfeplangespräch – Mo 02.06.2025, 10:00 (in 7 Tagen)`"""
    return Line(
        f"{what} – {fmt_datetime(starts_at)} ({fmt_days_relative(starts_at.date(), today)})"
    )


def undeliverable_line(name: str, handle: str, reason: str) -> Line:
    why = FAILURE_REASON.get(reason, reason)
    return Line(
        f"Erinnerungen an {name} ({handle}) ließen sich nicht zustellen: {why}. "
        "Bitte auf anderem Weg Bescheid geben."
    )


def reminder(lines: list[Line], *, late: bool, now: datetime, limit: int = MAX_LINES) -> Reply:
    """One message with everything due for one person, with buttons for the deadlines."""
    if late:
        head = (
            f"Nachgeholte Erinnerungen (verspätet, Stand {fmt_datetime(now)}):"
            if len(lines) > 1
            else f"Verspätete Erinnerung (Stand {fmt_datetime(now)}):"
        )
    else:
        head = "Erinnerungen:" if len(lines) > 1 else "Erinnerung:"
    shown = lines[:limit]
    body = [head, *(f"• {line.text}" for line in shown)]
    if len(lines) > len(shown):
        body.append(f"… und {len(lines) - len(shown)} weitere. /fristen zeigt alle.")
    numbers = [line.deadline_id for line in shown if line.deadline_id is not None]
    if numbers:
        body.append("Erledigt: /erledigt NUMMER · später erinnern: /spaeter NUMMER TAGE")
    return Reply("\n".join(body), buttons=_buttons(numbers))


def digest(lines: list[str], *, week_start: date, late: bool) -> Reply:
    """The Monday digest: the person's deadlines of the week, overdue ones first."""
    week = week_start.isocalendar().week
    head = f"Deine Fristen in KW {week} (ab {fmt_date_wd(week_start)}):"
    if late:
        head = f"{head} (verspätet zugestellt)"
    return Reply("\n".join([head, *(f"• {line}" for line in lines)]))


def snoozed(number: int, what: str, until: datetime) -> str:
    return (
        f"Okay, ich erinnere dich an #{number} {what} am {fmt_date_wd(until.date())} "
        f"um {fmt_time(until)} wieder."
    )


def _buttons(numbers: list[int]) -> tuple[Button, ...]:
    buttons: list[Button] = []
    for number in dict.fromkeys(numbers):
        if len(buttons) >= 2 * MAX_BUTTON_DEADLINES:
            break
        buttons.append(Button(f"✅ #{number} erledigt", f"/erledigt {number}"))
        buttons.append(Button(f"⏰ #{number} morgen", f"/spaeter {number} 1"))
    return tuple(buttons)
