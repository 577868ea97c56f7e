"""Helpers of the on-call and reachability commands (issue 6): people, rotations, date ranges."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import WEEKDAY_LONG, fmt_date_wd, fmt_datetime, fmt_time
from bot.parsing.dates import parse_date, split_date_range
from bot.parsing.echo import shown
from config.enums import Role
from scheduler import rota_state
from scheduler.rota import Rule, base_holder
from storage import rota as store
from storage.models.rota import Rotation
from storage.models.staff import Staff
from storage.staff import staff_by_handle

RANGE_EXAMPLES = "Beispiele: 14.04.-18.04., bis 18.04., 14.04.2025 bis 25.04.2025, heute"


def person(ctx: Ctx, handle: str) -> Staff:
    """Active staff by Kürzel; a German error otherwise."""
    found = staff_by_handle(ctx.session, handle.strip())
    if found is None or not found.active:
        raise UserError(
            f"Eine Person mit dem Kürzel {shown(handle)} finde ich nicht. "
            "Kürzel stehen z. B. in /notfall und /fall."
        )
    return found


def is_handle(ctx: Ctx, token: str) -> bool:
    return bool(re.fullmatch(r"@?[A-Za-zÄÖÜ]{1,5}\d{0,3}", token)) and (
        staff_by_handle(ctx.session, token) is not None
    )


def on_behalf(ctx: Ctx, positional: list[str], what: str) -> Staff:
    """Whom a command is for: a leading Kürzel (the person, or a coordinator of their
    organisation on their behalf), else the sender. Removes the Kürzel from `positional`."""
    if not positional or not is_handle(ctx, positional[0]):
        return ctx.staff
    target = person(ctx, positional.pop(0))
    if target.id != ctx.staff_id and not coordinates(ctx, target.organisation_id):
        raise UserError(f"{what} tragen die Person selbst oder ihre Koordination ein.")
    return target


def state_of(ctx: Ctx, rot: Rotation) -> rota_state.RotaState:
    """The rotation from a day ago on: what a command may look at or change."""
    return rota_state.load_state(
        ctx.session, rot, ctx.settings.tz, start=ctx.now - timedelta(days=1)
    )


def length_text(shift_days: int) -> str:
    return {1: "täglich", 7: "wöchentlich", 14: "alle zwei Wochen"}.get(
        shift_days, f"alle {shift_days} Tage"
    )


def rule_text(state: rota_state.RotaState, rule: Rule) -> str:
    """`Reihenfolge: …; Schicht wöchentlich, Übergabe montags 09:00; zweite Linie: …`."""
    order = ", ".join(who(state.staff.get(m)) for m in rule.members) or "–"
    weekly = rule.shift_days % 7 == 0
    when = f"{WEEKDAY_LONG[rule.anchor.weekday()].lower()}s " if weekly else ""
    if rule.backup_next:
        second = "die/der Nächste in der Reihe"
    elif rule.backup_staff_id is not None:
        second = who(state.staff.get(rule.backup_staff_id))
    else:
        second = "keine"
    return (
        f"Reihenfolge: {order}; Schicht {length_text(rule.shift_days)}, Übergabe "
        f"{when}{fmt_time(rule.handover)}; zweite Linie: {second}"
    )


def who(staff: Staff | None) -> str:
    return "–" if staff is None else f"{staff.name} ({staff.handle})"


def phone(staff: Staff) -> str:
    return (
        f"Tel. {staff.work_phone}" if staff.work_phone else "keine Diensttelefonnummer hinterlegt"
    )


def coordinates(ctx: Ctx, organisation_id: int) -> bool:
    """Whether the sender coordinates this organisation."""
    return ctx.staff.role is Role.coordinator and ctx.staff.organisation_id == organisation_id


def rotation(ctx: Ctx, name: str | None, *, member: Staff | None = None) -> Rotation:
    """The rotation named (part of its name or its number), else the only one that fits."""
    if name:
        found = store.find_rotations(ctx.session, name)
    elif member is not None and member.id is not None:
        found = store.rotations_of_member(ctx.session, member.id)
        if not found:
            found = store.find_rotations(ctx.session, "")
    else:
        found = store.find_rotations(ctx.session, "")
    if len(found) == 1:
        return found[0]
    every = store.find_rotations(ctx.session, "")
    names = ", ".join(f"„{r.name}“" for r in every) or "keine"
    if not found:
        raise UserError(
            f"Diese Rufbereitschaft finde ich nicht. Eingerichtet sind: {names}."
            if name
            else "Es ist keine Rufbereitschaft eingerichtet. Koordinationen legen eine an mit "
            "/rufbereitschaft_neu."
        )
    raise UserError(
        f"Es gibt mehrere Rufbereitschaften ({names}). Bitte eine angeben, z. B. "
        f"rb=„{found[0].name}“."
    )


def parse_range(text: str, today: date) -> tuple[date, date]:
    """A date range of whole days: `14.04.-18.04.`, `bis 18.04.`, `14.04.`, `heute`."""
    raw = " ".join(text.split())
    if not raw:
        raise UserError(f"Bitte einen Zeitraum angeben. {RANGE_EXAMPLES}.")
    lowered = raw.lower()
    if lowered.startswith("bis "):
        first, last = today, parse_date(raw[4:], today)
    else:
        if lowered.startswith(("ab ", "von ")):
            raw = raw.split(" ", 1)[1]
        parts = split_date_range(raw)  # also with weekdays: Mi 19.03.2025-Fr 21.03.2025
        if len(parts) == 1:
            first = last = parse_date(parts[0], today)
        elif len(parts) == 2:
            first, last = parse_date(parts[0], today), parse_date(parts[1], today)
        else:
            raise UserError(f"{shown(text)} verstehe ich nicht als Zeitraum. {RANGE_EXAMPLES}.")
    if last < today:
        raise UserError(f"Der Zeitraum bis {fmt_date_wd(last)} liegt schon in der Vergangenheit.")
    if last < first:
        raise UserError(
            f"Das Ende ({fmt_date_wd(last)}) liegt vor dem Beginn ({fmt_date_wd(first)})."
        )
    if (last - first).days > 366:
        raise UserError("Ein Zeitraum von mehr als einem Jahr ist hier nicht vorgesehen.")
    return first, last


def day_start(ctx: Ctx, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.settings.tz)


def day_after(ctx: Ctx, day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ctx.settings.tz)


def fmt_span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """`Mo 14.04.2025, 09:00 – Mo 21.04.2025, 09:00` in the organisation's zone."""
    return f"{fmt_datetime(start.astimezone(tz))} – {fmt_datetime(end.astimezone(tz))}"


SHOWN_DUTIES = 4  # how many coming duties a reply lists


def duty_lines(ctx: Ctx, state: rota_state.RotaState, count: int, since: datetime) -> list[str]:
    """The next `count` duties from `since`, marked where swapped or covered."""
    lines: list[str] = []
    horizon = timedelta(days=max(r.shift_days for r in state.spec.rules) * count + 2)
    for duty in state.duties(since, since + horizon):
        if len(lines) >= count:
            break
        holder = state.staff.get(duty.staff_id)
        note = ""
        if duty.override is not None:
            note = f" (vertritt {who(state.staff.get(duty.override.absent))})"
        elif duty.scheduled != base_holder(state.spec, duty.shift):
            note = " (getauscht)"
        lines.append(f"  {fmt_span(duty.start, duty.end, ctx.settings.tz)}: {who(holder)}{note}")
    return lines
