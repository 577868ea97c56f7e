"""Who is the emergency contact right now (DOMAIN.md R1, R2).

Asked in an emergency, so it must answer at once: every rotation is read with a fixed number of
queries, and only the swaps and overrides of the coming weeks (`scheduler.rota_state.load_states`).
"""

from __future__ import annotations

from datetime import timedelta

from bot import texts
from bot.context import Ctx
from bot.formatting import fmt_datetime
from bot.messages import Reply
from bot.registry import REGISTRY
from bot.rota_common import phone, who
from scheduler import rota_state
from storage import rota as store
from storage import rota_queries as queries
from storage.models.staff import Staff

# Longer than any shift (28 days at most): the duty after the current one is inside.
_AHEAD = timedelta(days=31)


@REGISTRY.command(
    "notfall",
    "oncall",
    summary="Wer hat jetzt Rufbereitschaft? (Name, Diensttelefon, bis wann)",
    example="/notfall",
    group_safe=True,
)
def on_call(ctx: Ctx, args: str) -> Reply:
    """The current on-call person of every rotation, for both sides (R2), with swaps,
    overrides (issue 6) and the second line; what to do when they are absent (issue 14)."""
    tz = ctx.settings.tz
    found = []
    for state in rota_state.load_states(ctx.session, tz, start=ctx.now, end=ctx.now + _AHEAD):
        duty, following = state.duty_and_next(ctx.now)
        if duty is not None:
            found.append((state, duty, following, state.backup_for(duty, following)))
    if not found:
        return Reply(texts.NO_ONCALL)
    absent = queries.absences_between(
        ctx.session, {d.staff_id for _, d, _, _ in found}, ctx.today, ctx.today
    )
    lines = []
    for state, duty, following, backup in found:
        person = state.staff[duty.staff_id]
        then = "–" if following is None else state.staff[following.staff_id].name
        block = [
            f"{state.rotation.name} ({state.organisation.name}):",
            f"  {person.name} ({person.handle}), {phone(person)}",
        ]
        if duty.override is not None:
            replaced = state.staff.get(duty.override.absent)
            block.append(f"  (Vertretung für {replaced.name if replaced else '–'})")
        block.append(f"  bis {fmt_datetime(duty.end.astimezone(tz))}, danach {then}")
        if backup is not None:
            backup_phone = f", Tel. {backup.work_phone}" if backup.work_phone else ""
            block.append(f"  Zweite Linie: {backup.name} ({backup.handle}){backup_phone}")
        if duty.staff_id in absent:
            block.append(_absent_hint(ctx, state, person, backup))
        lines.append("\n".join(block))
    return Reply("Notfallkontakt jetzt:\n" + "\n".join(lines))


def _absent_hint(ctx: Ctx, state: rota_state.RotaState, person: Staff, backup: Staff | None) -> str:
    """What to do when the on-call person is absent: the second line, else the coordinators."""
    if backup is not None:
        return "  ⚠️ laut Eintrag heute abwesend – bitte die zweite Linie anrufen"
    ids = [
        c
        for c in store.coordinator_ids(ctx.session, state.rotation.organisation_id)
        if c != person.id
    ]
    away = queries.absences_between(ctx.session, ids, ctx.today, ctx.today)
    present = [c for c in ids if c not in away]
    reachable = [p for p in (ctx.session.get(Staff, c) for c in present) if p is not None]
    if reachable:
        numbers = "; ".join(f"{who(c)}, {phone(c)}" for c in reachable)
        return (
            "  ⚠️ laut Eintrag heute abwesend, und eine zweite Linie gibt es nicht – "
            f"bitte die Koordination anrufen: {numbers}"
        )
    return (
        "  ⚠️ laut Eintrag heute abwesend, und eine zweite Linie gibt es nicht; die Koordination "
        "ist heute auch nicht erreichbar – bitte /anpiepen: ohne Quittung geht der Piepser "
        f"nach {ctx.settings.oncall.page_ack_minutes} Minuten an die Koordination weiter."
    )
