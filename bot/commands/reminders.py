"""Snoozing a deadline's reminders (`/spaeter`); `/erledigt` stops them for good."""

from __future__ import annotations

from bot import reminder_texts
from bot.commands.common import audit_change
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import DEADLINE_KIND_LABEL
from bot.messages import Reply
from bot.parsing.numbers import parse_count, parse_id
from bot.registry import REGISTRY
from config.enums import DeadlineStatus, OrgKind, Role
from scheduler.engine import policy_for
from scheduler.reminders import snooze_until
from storage import outbox
from storage.cases import can_see_case
from storage.models.cases import Case, Deadline

_MAX_DAYS = 30


@REGISTRY.command(
    "spaeter",
    "später",
    "snooze",
    summary="Erinnerung an eine Frist für ein paar Tage pausieren",
    example="/spaeter 12 3 (in 3 Tagen wieder erinnern)",
)
def snooze(ctx: Ctx, args: str) -> Reply:
    """Pause the sender's reminders of one deadline for N days (default from the settings)."""
    usage = (
        "Bitte Nummer der Frist und Tage angeben, z. B. /spaeter 12 3. /fristen zeigt die Nummern."
    )
    parts = args.replace("#", " ").split()
    if not parts or len(parts) > 2:
        raise UserError(usage)
    number = parse_id(parts[0], usage)
    days = ctx.settings.reminders.snooze_default_days
    if len(parts) == 2:
        raw_days = parts[1].lower().removesuffix("t").removesuffix("tage").removesuffix("tag")
        days = parse_count(
            raw_days,
            1,
            _MAX_DAYS,
            f"Wie viele Tage? Bitte eine Zahl von 1 bis {_MAX_DAYS}, z. B. /spaeter {number} 3.",
        )
    deadline = ctx.session.get(Deadline, number)
    case = (
        None
        if deadline is None or deadline.case_id is None
        else ctx.session.get(Case, deadline.case_id)
    )
    visible = deadline is not None and (
        (case is not None and can_see_case(ctx.staff, ctx.staff_side, case))
        or (
            deadline.case_id is None
            and ctx.staff.role is Role.coordinator
            and ctx.staff_side is OrgKind.provider
            and deadline.organisation_id == ctx.staff.organisation_id
        )
    )
    if deadline is None or not visible:
        raise UserError(
            f"Eine Frist #{number} finde ich bei deinen Fällen nicht. /fristen zeigt deine Fristen."
        )
    if deadline.status is not DeadlineStatus.open:
        state = "erledigt" if deadline.status is DeadlineStatus.done else "entfallen"
        raise UserError(f"Die Frist #{number} ist {state}; es kommen keine Erinnerungen mehr.")
    until = snooze_until(policy_for(ctx.settings), ctx.calendar, ctx.now, days)
    outbox.postpone(ctx.session, "deadline", number, ctx.staff_id, until)
    outbox.insert_entries(
        ctx.session,
        [
            outbox.NewEntry(
                "deadline",
                number,
                f"snz:{until.strftime('%Y%m%d%H%M')}",
                ctx.staff_id,
                until,
                until,
            )
        ],
        ctx.now,
    )
    audit_change(ctx, "snooze", "deadline", number, days=days)
    what = DEADLINE_KIND_LABEL[deadline.kind]
    if case is not None:
        what = f"{case.code} {what}"
    return Reply(reminder_texts.snoozed(number, what, until.astimezone(ctx.settings.tz)))
