"""The sender's deadlines, and marking one done."""

from __future__ import annotations

from datetime import timedelta

from bot import texts
from bot.commands.common import audit_change, deadline_line
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import DEADLINE_KIND_LABEL, fmt_date
from bot.messages import Button, Reply
from bot.parsing.numbers import parse_id
from bot.registry import REGISTRY
from config.enums import DeadlineStatus, OrgKind, Role
from storage.cases import can_see_case, open_deadlines_for
from storage.models.cases import Case, Deadline

_HORIZON_DAYS = 60
_MAX_LINES = 30
_MAX_BUTTONS = 5  # one-tap "done" for the soonest deadlines


@REGISTRY.command(
    "fristen",
    "deadlines",
    summary="Deine offenen und überfälligen Fristen, die nächste zuerst",
    example="/fristen (oder /fristen alle)",
)
def my_deadlines(ctx: Ctx, args: str) -> Reply:
    """Open deadlines of the sender's cases, soonest first; overdue ones on top."""
    everything = args.strip().lower() in ("alle", "all")
    until = None if everything else ctx.today + timedelta(days=_HORIZON_DAYS)
    page = open_deadlines_for(
        ctx.session, ctx.staff, ctx.staff_side, today=ctx.today, until=until, limit=_MAX_LINES
    )
    rows, total, overdue = page.rows, page.total, page.overdue
    if not rows:
        return Reply(
            texts.NO_DEADLINES
            if everything
            else f"In den nächsten {_HORIZON_DAYS} Tagen keine offenen Fristen. /fristen alle zeigt alle."
        )
    scope = (
        "Alle deine offenen Fristen"
        if everything
        else f"Deine offenen Fristen bis {fmt_date(until or ctx.today)}"
    )
    head = f"{scope}: {total}" + (f", davon {overdue} überfällig" if overdue else "")
    lines = [head, *(deadline_line(d, code, ctx.today) for d, code in rows)]
    if total > len(rows):
        lines.append(f"… und {total - len(rows)} weitere.")
    lines.append("Erledigt? /erledigt NUMMER, z. B. /erledigt " + str(rows[0][0].id))
    buttons = tuple(
        Button(
            f"✓ #{d.id} {code or 'Organisation'} {DEADLINE_KIND_LABEL[d.kind]}", f"/erledigt {d.id}"
        )
        for d, code in rows[:_MAX_BUTTONS]
    )
    return Reply("\n".join(lines), buttons=buttons)


@REGISTRY.command(
    "erledigt", "done", summary="Frist als erledigt markieren", example="/erledigt 12"
)
def mark_done(ctx: Ctx, args: str) -> Reply:
    """Mark a deadline done; the chain keeps it as history."""
    number = parse_id(
        args,
        "Bitte die Nummer der Frist angeben, z. B. /erledigt 12. /fristen zeigt die Nummern.",
    )
    raw = str(number)
    deadline = ctx.session.get(Deadline, number)
    case = None
    if deadline is not None and deadline.case_id is not None:
        case = ctx.session.get(Case, deadline.case_id)
    visible = deadline is not None and (
        (case is not None and can_see_case(ctx.staff, ctx.staff_side, case))
        or (
            case is None
            and ctx.staff.role is Role.coordinator
            and ctx.staff_side is OrgKind.provider
            and deadline.organisation_id == ctx.staff.organisation_id
        )
    )
    if deadline is None or not visible:
        raise UserError(
            f"Eine Frist #{raw} finde ich bei deinen Fällen nicht. /fristen zeigt deine Fristen."
        )
    if deadline.status is DeadlineStatus.done:
        raise UserError(f"Die Frist #{raw} ist bereits erledigt.")
    if deadline.status is DeadlineStatus.cancelled:
        raise UserError(f"Die Frist #{raw} ist entfallen und muss nicht erledigt werden.")
    deadline.status, deadline.done_at, deadline.done_by, deadline.updated_at = (
        DeadlineStatus.done,
        ctx.now,
        ctx.staff_id,
        ctx.now,
    )
    audit_change(
        ctx,
        "done",
        "deadline",
        deadline.id,
        kind=deadline.kind.value,
        case=None if case is None else case.code,
    )
    code = case.code if case else "Organisation"
    return Reply(
        f"Erledigt: {code} {DEADLINE_KIND_LABEL[deadline.kind]} (fällig {fmt_date(deadline.due)}). Danke!"
    )
