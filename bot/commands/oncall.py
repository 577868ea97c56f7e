"""Who is the emergency contact right now (DOMAIN.md R1, R2)."""

from __future__ import annotations

from bot import texts
from bot.context import Ctx
from bot.formatting import fmt_datetime
from bot.messages import Reply
from bot.registry import REGISTRY
from storage.rota import absence_on, all_states


@REGISTRY.command(
    "notfall",
    "oncall",
    summary="Wer hat jetzt Rufbereitschaft? (Name, Diensttelefon, bis wann)",
    example="/notfall",
    group_safe=True,
)
def on_call(ctx: Ctx, args: str) -> Reply:
    """The current on-call person of every rotation, for both sides (R2), with swaps,
    overrides (issue 6) and the second line."""
    lines = []
    for state in all_states(ctx.session, ctx.settings.tz):
        duty = state.duty_at(ctx.now)
        if duty is None:
            continue
        person = state.staff[duty.staff_id]
        following = state.next_duty(duty)
        then = "–" if following is None else state.staff[following.staff_id].name
        phone = (
            f"Tel. {person.work_phone}"
            if person.work_phone
            else "keine Diensttelefonnummer hinterlegt"
        )
        block = [
            f"{state.rotation.name} ({state.organisation.name}):",
            f"  {person.name} ({person.handle}), {phone}",
        ]
        if duty.override is not None:
            absent = state.staff.get(duty.override.absent)
            block.append(f"  (Vertretung für {absent.name if absent else '–'})")
        block.append(f"  bis {fmt_datetime(duty.end.astimezone(ctx.settings.tz))}, danach {then}")
        backup = state.backup_for(duty)
        if backup is not None:
            backup_phone = f", Tel. {backup.work_phone}" if backup.work_phone else ""
            block.append(f"  Zweite Linie: {backup.name} ({backup.handle}){backup_phone}")
        if person.id is not None and absence_on(ctx.session, person.id, ctx.today) is not None:
            block.append("  ⚠️ laut Eintrag heute abwesend – bitte die zweite Linie anrufen")
        lines.append("\n".join(block))
    if not lines:
        return Reply(texts.NO_ONCALL)
    return Reply("Notfallkontakt jetzt:\n" + "\n".join(lines))
