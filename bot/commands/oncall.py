"""Who is the emergency contact right now (DOMAIN.md R1, R2)."""

from __future__ import annotations

from bot import texts
from bot.context import Ctx
from bot.formatting import fmt_datetime
from bot.messages import Reply
from bot.registry import REGISTRY
from scheduler.oncall import shift_at
from storage.models import Organisation
from storage.oncall import rotations


@REGISTRY.command(
    "notfall",
    "oncall",
    summary="Wer hat jetzt Rufbereitschaft? (Name, Diensttelefon, bis wann)",
    example="/notfall",
    group_safe=True,
)
def on_call(ctx: Ctx, args: str) -> Reply:
    """The current on-call person of every rotation, for both sides (R2)."""
    lines = []
    for rotation, members in rotations(ctx.session):
        if not members:
            continue
        shift = shift_at(
            ctx.now,
            anchor=rotation.anchor,
            handover=rotation.handover,
            shift_days=rotation.shift_days,
            members=len(members),
            tz=ctx.settings.tz,
        )
        person = members[shift.index]
        following = members[(shift.index + 1) % len(members)]
        org = ctx.session.get(Organisation, rotation.organisation_id)
        phone = (
            f"Tel. {person.work_phone}"
            if person.work_phone
            else "keine Diensttelefonnummer hinterlegt"
        )
        lines.append(
            f"{rotation.name} ({org.name if org else '–'}):\n"
            f"  {person.name} ({person.handle}), {phone}\n"
            f"  bis {fmt_datetime(shift.end)}, danach {following.name}"
        )
    if not lines:
        return Reply(texts.NO_ONCALL)
    return Reply("Notfallkontakt jetzt:\n" + "\n".join(lines))
