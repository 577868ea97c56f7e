"""Paging the on-call person (issue 6): at once, also at night, escalating until acknowledged."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.commands.common import audit_change
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import fmt_datetime
from bot.messages import Button, Reply
from bot.parsing.echo import shown
from bot.parsing.numbers import parse_id
from bot.parsing.text import parse_short_text
from bot.registry import REGISTRY
from bot.rota_common import coordinates, phone, who
from scheduler import rota_state
from scheduler.rota_sweep import LAST_LEVEL, PAGE
from storage import outbox
from storage import rota as store
from storage.models.outbox import OutboxEntry
from storage.models.rota import Page, Rotation
from storage.models.staff import Staff
from storage.outbox import NewEntry

_USAGE = "/anpiepen Bitte dringend zurückrufen, HB-2025-017"


@REGISTRY.command(
    "anpiepen",
    "pager",
    "page",
    summary="Rufbereitschaft anpiepen: kurze Nachricht ohne Namen",
    example=_USAGE,
)
def page(ctx: Ctx, args: str) -> Reply:
    """Page the current on-call person; unacknowledged pages escalate (second line, then
    coordinators) after `oncall.page_ack_minutes`."""
    rotations = store.find_rotations(ctx.session, "")
    if not rotations:
        raise UserError("Es ist keine Rufbereitschaft eingerichtet.")
    text = args.strip()
    rot: Rotation | None = rotations[0] if len(rotations) == 1 else None
    if rot is None:
        first, _, rest = text.partition(" ")
        matches = store.find_rotations(ctx.session, first) if first else []
        if len(matches) == 1:
            rot, text = matches[0], rest.strip()
        else:
            return Reply(
                "Welche Rufbereitschaft? Bitte den Namen (oder die Nummer) voranstellen, "
                "z. B. /anpiepen "
                f"{rotations[0].id} Bitte dringend zurückrufen.",
                buttons=tuple(
                    Button(r.name, f"/anpiepen {r.id} {text}") for r in rotations if text
                ),
            )
    message = parse_short_text(text, ctx.settings.oncall.page_max_chars)
    state = rota_state.load_state(
        ctx.session, rot, ctx.settings.tz, start=ctx.now, end=ctx.now + timedelta(days=31)
    )
    duty = state.duty_at(ctx.now)
    ack = timedelta(minutes=ctx.settings.oncall.page_ack_minutes)
    targets = [] if duty is None else [duty.staff_id]
    level = 0
    backup = None if duty is None else state.backup_for(duty)
    coordinators = [
        c for c in store.coordinator_ids(ctx.session, rot.organisation_id) if c != ctx.staff_id
    ]
    own = duty is not None and duty.staff_id == ctx.staff_id
    if own:  # the on-call person pages (issue 14): not themself, the next level at once
        if backup is not None and backup.id is not None and backup.id != ctx.staff_id:
            level, targets = 1, [backup.id]
        elif coordinators:
            level, targets = LAST_LEVEL, coordinators
        else:
            raise UserError(
                f"Du hast gerade selbst Rufbereitschaft in „{rot.name}“. Einen Piepser an dich "
                "selbst brauchst du nicht, und eine zweite Linie oder Koordination, an die er "
                "gehen könnte, gibt es nicht. Für einen Notruf: 110 oder 112."
            )
    elif not targets:  # nobody scheduled: straight to the coordinators
        level = LAST_LEVEL
        targets = store.coordinator_ids(ctx.session, rot.organisation_id)
    row = Page(
        rotation_id=state.id,
        caller_id=ctx.staff_id,
        text=message,
        created_at=ctx.now,
        level=level,
        escalate_at=ctx.now + ack if level < LAST_LEVEL else None,
    )
    ctx.session.add(row)
    ctx.session.flush()
    assert row.id is not None
    outbox.insert_entries(
        ctx.session,
        # "d": sent directly (not escalated), so its text does not speak of a missed page.
        [
            NewEntry(PAGE, row.id, f"{'d' if own else 'l'}{level}", t, ctx.now, ctx.now)
            for t in targets
        ],
        ctx.now,
    )
    audit_change(ctx, "page", "page", row.id, rotation=state.id, level=level)
    if duty is None:
        return Reply(
            f"Piepser #{row.id}: in „{rot.name}“ ist gerade niemand eingeteilt; "
            "ich habe die Koordination angepiept."
        )
    minutes = ctx.settings.oncall.page_ack_minutes
    if own:
        if level == 1:
            onward = " und ohne Quittung in {m} Minuten an die Koordination" if coordinators else ""
            to = f"an {who(backup)} (zweite Linie){onward.format(m=minutes)}"
        else:
            to = "an die Koordination"
        return Reply(
            f"Du hast gerade selbst Rufbereitschaft in „{rot.name}“, deshalb geht Piepser "
            f"#{row.id} nicht an dich, sondern sofort {to}. Du bekommst Bescheid, sobald "
            "quittiert ist."
        )
    holder = state.staff[duty.staff_id]
    chain = f"an {who(backup)} (zweite Linie), dann " if backup else ""
    return Reply(
        f"Piepser #{row.id} geht sofort an {who(holder)}, {phone(holder)} – bei Dringendem "
        f"bitte auch anrufen.\nOhne Quittung in {ctx.settings.oncall.page_ack_minutes} Minuten "
        f"geht er {chain}an die Koordination. Du bekommst Bescheid, sobald quittiert ist."
    )


@REGISTRY.command(
    "quittieren",
    "ack",
    summary="Einen Piepser quittieren (stoppt die Eskalation)",
    example="/quittieren 7",
)
def acknowledge(ctx: Ctx, args: str) -> Reply:
    """Whoever was paged (or a coordinator of the rotation) acknowledges; the caller is told."""
    number = args.strip().lstrip("#")
    paged_me = select(OutboxEntry.item_id).where(
        OutboxEntry.item_type == PAGE, OutboxEntry.staff_id == ctx.staff_id
    )
    found: Page | None
    if number:
        found = ctx.session.get(
            Page, parse_id(number, "Das ist keine Piepser-Nummer. Beispiel: /quittieren 7")
        )
    else:
        found = ctx.session.exec(
            select(Page)
            .where(col(Page.id).in_(paged_me), col(Page.acked_at).is_(None))
            .order_by(col(Page.id).desc())
        ).first()
        if found is None:
            raise UserError("Es gibt keinen offenen Piepser an dich.")
    rot = None if found is None else ctx.session.get(Rotation, found.rotation_id)
    was_paged = found is not None and found.id in set(ctx.session.exec(paged_me))
    if found is None or rot is None or not (was_paged or coordinates(ctx, rot.organisation_id)):
        raise UserError(f"Einen Piepser {shown(args)} an dich finde ich nicht.")
    if found.acked_at is not None:
        by = ctx.session.get(Staff, found.acked_by) if found.acked_by else None
        return Reply(
            f"Piepser #{found.id} ist schon quittiert: {who(by)}, "
            f"{fmt_datetime(found.acked_at.astimezone(ctx.settings.tz))}."
        )
    assert found.id is not None
    found.acked_at, found.acked_by, found.escalate_at = ctx.now, ctx.staff_id, None
    ctx.session.add(found)
    audit_change(ctx, "acknowledge", "page", found.id, level=found.level)
    outbox.insert_entries(
        ctx.session, [NewEntry(PAGE, found.id, "ack", found.caller_id, ctx.now, ctx.now)], ctx.now
    )
    caller = ctx.session.get(Staff, found.caller_id)
    return Reply(
        f"Piepser #{found.id} quittiert; keine weitere Eskalation. Anrufer: {who(caller)}"
        + (f", {phone(caller)}." if caller else ".")
    )
