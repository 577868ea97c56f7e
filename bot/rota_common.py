"""Helpers of the on-call and reachability commands (issue 6): people, rotations, date ranges."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import fmt_date_wd, fmt_datetime
from bot.parsing import parse_date, shown
from storage import rota as store
from storage.enums import Role
from storage.models import Rotation, Staff
from storage.staff import staff_by_handle

_RANGE_RE = re.compile(r"\s*(?:–|—|\bbis\b|(?<=\.)-|-(?=\s))\s*")
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
        parts = [p for p in _RANGE_RE.split(raw) if p]
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
