"""Who holds which duty, from chat (issues 6, 15, R1): overrides, taking a shift over,
confirming a handover (swaps: `bot.commands.rota_swaps`).

Every command that acts for a person takes the same leading Kürzel: the person themself, or a
coordinator of their organisation on their behalf (`bot.rota_common.on_behalf`). Whoever's
next shift the change moves is told what it was and what it is now (`scheduler.rota_notices`);
a substitute gets the override's own message instead.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.commands.common import audit_change
from bot.context import Ctx
from bot.errors import UserError
from bot.messages import Reply
from bot.parsing.args import split_args
from bot.parsing.echo import shown
from bot.registry import REGISTRY
from bot.rota_common import (
    coordinates,
    day_after,
    day_start,
    fmt_span,
    on_behalf,
    parse_range,
    person,
    rotation,
    state_of,
    who,
)
from scheduler import rota_state
from scheduler.rota_duties import Duty
from scheduler.rota_notices import INFO, snapshot, tell, tell_changes
from scheduler.rota_sweep import OVERRIDE
from storage import outbox
from storage import rota as store
from storage.bounds import db_id
from storage.models.rota import OncallHandover, OncallOverride, Rotation
from storage.models.staff import Staff
from storage.outbox import NewEntry

_REASONS = {"krank": "krank", "urlaub": "Urlaub", "sonstiges": "sonstiges"}
TAKEN_OVER = "übernommen"


def _states(ctx: Ctx, rot: Rotation | None) -> list[rota_state.RotaState]:
    """The rotation named, or every rotation (an override without rb= holds in all)."""
    rows = [rot] if rot is not None else store.find_rotations(ctx.session, "")
    return rota_state.load_states(
        ctx.session, ctx.settings.tz, start=ctx.now - timedelta(days=1), rotations=rows
    )


def _tell_changes_in(
    ctx: Ctx,
    rot: Rotation | None,
    before: dict[int, dict[int, Duty | None]],
    cause: str,
    ref_id: int,
    skip: set[int],
) -> list[int]:
    told: list[int] = []
    for state in _states(ctx, rot):
        if state.id not in before:
            continue
        told += tell_changes(
            ctx.session,
            ctx.settings,
            ctx.calendar,
            rotation_id=state.id,
            before=before[state.id],
            after=snapshot(state, ctx.now, set(before[state.id])),
            cause=cause,
            ref_id=ref_id,
            now=ctx.now,
            skip=skip | {ctx.staff_id},
        )
    return told


def _snapshots(ctx: Ctx, rot: Rotation | None) -> dict[int, dict[int, Duty | None]]:
    return {s.id: dict(snapshot(s, ctx.now)) for s in _states(ctx, rot)}


@REGISTRY.command(
    "vertretung",
    "override",
    summary="Vertretung in der Rufbereitschaft (krank, Urlaub)",
    example="/vertretung JB 14.04.-18.04. durch=TS grund=krank · /vertretung bis 25.04. durch=MK",
)
def add_override(ctx: Ctx, args: str) -> Reply:
    """Coordinators for their staff, or the person themself: a substitute over a date range."""
    positional, options = split_args(args)
    usage = "/vertretung JB 14.04.-18.04. durch=TS grund=krank"
    raw_sub = options.pop("durch", None) or options.pop("vertretung", None)
    reason = (options.pop("grund", None) or "krank").strip().lower()
    raw_rot = options.pop("rb", None) or options.pop("rufbereitschaft", None)
    if options:
        raise UserError(f"Unbekannte Angabe „{sorted(options)[0]}“. Beispiel: {usage}")
    if not raw_sub:
        raise UserError(f"Bitte angeben, wer vertritt (durch=KÜRZEL). Beispiel: {usage}")
    if reason not in _REASONS:
        raise UserError("grund= kann krank, urlaub oder sonstiges sein.")
    absent = on_behalf(ctx, positional, "Eine Vertretung")
    first, last = parse_range(" ".join(positional), ctx.today)
    substitute = person(ctx, raw_sub)
    if substitute.id == absent.id:
        raise UserError("Vertretung und vertretene Person sind dieselbe.")
    if substitute.organisation_id != absent.organisation_id:
        raise UserError(f"{who(substitute)} gehört nicht zur selben Organisation.")
    rot = rotation(ctx, raw_rot, member=absent) if raw_rot else None
    start, end = max(day_start(ctx, first), ctx.now), day_after(ctx, last)
    before = _snapshots(ctx, rot)
    override = OncallOverride(
        rotation_id=None if rot is None else rot.id,
        absent_staff_id=absent.id or 0,
        substitute_staff_id=substitute.id or 0,
        starts_at=start,
        ends_at=end,
        reason=reason,
        created_by=ctx.staff_id,
        created_at=ctx.now,
    )
    ctx.session.add(override)
    ctx.session.flush()
    assert override.id is not None and substitute.id is not None
    audit_change(ctx, "create", "oncall_override", override.id, absent=absent.id)
    outbox.insert_entries(
        ctx.session,
        [NewEntry(OVERRIDE, override.id, "sub", substitute.id, ctx.now, ctx.now)],
        ctx.now,
    )
    affected = []
    for state in _states(ctx, rot):
        for duty in state.duties(start, end):
            if duty.override is not None and duty.override.id == override.id:
                affected.append(
                    f"  {state.rotation.name}: {fmt_span(duty.start, duty.end, ctx.settings.tz)}"
                )
    _tell_changes_in(ctx, rot, before, "override", override.id, {substitute.id})
    lines = [
        f"Vertretung #{override.id} eingetragen ({_REASONS[reason]}): {who(substitute)} "
        f"übernimmt für {who(absent)}, {fmt_span(start, end, ctx.settings.tz)}.",
        *(
            ["Betroffene Dienste:", *affected]
            if affected
            else ["In diesem Zeitraum hat " + who(absent) + " keinen Rufbereitschaftsdienst."]
        ),
        f"{substitute.name} bekommt eine Nachricht. Zurücknehmen: /vertretung_loeschen {override.id}",
    ]
    return Reply("\n".join(lines))


@REGISTRY.command(
    "vertretung_loeschen",
    "vertretung_absagen",
    summary="Eine Vertretung in der Rufbereitschaft zurücknehmen",
    example="/vertretung_loeschen 3",
)
def cancel_override(ctx: Ctx, args: str) -> Reply:
    number = args.strip().lstrip("#")
    override = ctx.session.get(OncallOverride, found) if (found := db_id(number)) else None
    if override is None or override.cancelled_at is not None:
        raise UserError(f"Eine gültige Vertretung {shown(args or '?')} finde ich nicht.")
    absent = ctx.session.get(Staff, override.absent_staff_id)
    assert absent is not None
    allowed = ctx.staff_id in (override.absent_staff_id, override.created_by) or coordinates(
        ctx, absent.organisation_id
    )
    if not allowed:
        raise UserError("Zurücknehmen dürfen die vertretene Person und ihre Koordination.")
    rot = ctx.session.get(Rotation, override.rotation_id) if override.rotation_id else None
    before = _snapshots(ctx, rot)
    override.cancelled_at = ctx.now
    ctx.session.add(override)
    ctx.session.flush()
    audit_change(ctx, "cancel", "oncall_override", override.id)
    assert override.id is not None
    _tell_changes_in(ctx, rot, before, "unoverride", override.id, set())
    return Reply(f"Vertretung #{override.id} zurückgenommen.")


@REGISTRY.command(
    "uebernehmen",
    "übernehmen",
    "takeover",
    summary="Laufende oder nächste Schicht sofort übernehmen",
    example="/uebernehmen · /uebernehmen Weserufer · Koordination: /uebernehmen TS Weserufer",
)
def take_over(ctx: Ctx, args: str) -> Reply:
    """A member takes the shift running now, or else the next one, at once: an override with
    reason "übernommen"; the person relieved and the coordinators are told."""
    positional, options = split_args(args)
    raw_rot = options.pop("rb", None) or options.pop("rufbereitschaft", None)
    if options:
        raise UserError(
            f"Unbekannte Angabe „{sorted(options)[0]}“. Beispiel: /uebernehmen Weserufer"
        )
    taker = on_behalf(ctx, positional, "Eine Übernahme")
    assert taker.id is not None
    rot = rotation(ctx, raw_rot or " ".join(positional) or None, member=taker)
    state = state_of(ctx, rot)
    index = state.spec.index_at(ctx.now) or 0
    if taker.id not in {m for rule in state.spec.rules[index:] for m in rule.members}:
        raise UserError(
            f"{who(taker)} gehört nicht zu „{rot.name}“. Für andere gibt es /vertretung."
        )
    duty = state.duty_at(ctx.now)
    if duty is None or duty.staff_id == taker.id:
        horizon = timedelta(days=max(r.shift_days for r in state.spec.rules) * 2 + 2)
        duty = next(
            (
                d
                for d in state.duties(ctx.now, ctx.now + horizon)
                if d.staff_id != taker.id and d.start >= ctx.now
            ),
            None,
        )
    if duty is None:
        raise UserError(f"In „{rot.name}“ gibt es gerade keine Schicht zu übernehmen.")
    start = max(duty.start, ctx.now)
    relieved = state.staff.get(duty.staff_id) or ctx.session.get(Staff, duty.staff_id)
    before = snapshot(state, ctx.now)
    override = OncallOverride(
        rotation_id=state.id,
        absent_staff_id=duty.staff_id,
        substitute_staff_id=taker.id,
        starts_at=start,
        ends_at=duty.end,
        reason=TAKEN_OVER,
        created_by=ctx.staff_id,
        created_at=ctx.now,
    )
    ctx.session.add(override)
    ctx.session.flush()
    assert override.id is not None
    audit_change(ctx, "takeover", "oncall_override", override.id, rotation=state.id)
    tell_changes(
        ctx.session,
        ctx.settings,
        ctx.calendar,
        rotation_id=state.id,
        before=before,
        after=snapshot(state_of(ctx, rot), ctx.now, set(before)),
        cause="takeover",
        ref_id=override.id,
        now=ctx.now,
        skip={ctx.staff_id},
    )
    coordinators = set(store.coordinator_ids(ctx.session, rot.organisation_id))
    tell(
        ctx.session,
        ctx.settings,
        ctx.calendar,
        INFO,
        override.id,
        "takeover",
        coordinators - {ctx.staff_id, taker.id, duty.staff_id},  # the relieved heard already
        ctx.now,
    )
    subject = "Du hast" if taker.id == ctx.staff_id else f"{who(taker)} hat"
    return Reply(
        f"{subject} jetzt die Rufbereitschaft „{rot.name}“: "
        f"{fmt_span(start, duty.end, ctx.settings.tz)} (statt {who(relieved)}).\n"
        f"{who(relieved)} und die Koordination bekommen Bescheid. "
        f"Zurücknehmen: /vertretung_loeschen {override.id}"
    )


@REGISTRY.command(
    "uebergabe_ok",
    "übergabe_ok",
    "handover_ok",
    summary="Übernahme der Rufbereitschaft bestätigen",
    example="/uebergabe_ok",
)
def confirm_handover(ctx: Ctx, args: str) -> Reply:
    """The incoming person confirms the shift that has begun or begins within a day."""
    rotations = store.find_rotations(ctx.session, args.strip()) if args.strip() else None
    if rotations is None:
        rotations = store.rotations_of_member(ctx.session, ctx.staff_id)
        rotations += [
            r for r in store.find_rotations(ctx.session, "") if r not in rotations
        ]  # substitutes are no members
    confirmed = []
    for state in rota_state.load_states(
        ctx.session, ctx.settings.tz, start=ctx.now, end=ctx.now + timedelta(days=1),
        rotations=rotations,
    ):  # fmt: skip
        for duty in state.duties(ctx.now, ctx.now + timedelta(days=1)):
            if duty.staff_id != ctx.staff_id or duty.start != duty.shift.start:
                continue
            exists = ctx.session.exec(
                select(OncallHandover).where(
                    OncallHandover.rotation_id == state.id,
                    OncallHandover.shift_number == duty.shift.number,
                    OncallHandover.staff_id == ctx.staff_id,
                )
            ).first()
            if exists is None:
                ctx.session.add(
                    OncallHandover(
                        rotation_id=state.id,
                        shift_number=duty.shift.number,
                        staff_id=ctx.staff_id,
                        confirmed_at=ctx.now,
                    )
                )
                audit_change(ctx, "confirm", "oncall_handover", state.id, shift=duty.shift.number)
            confirmed.append(
                f"{state.rotation.name}: {fmt_span(duty.start, duty.end, ctx.settings.tz)}"
            )
    if not confirmed:
        raise UserError(
            "Du übernimmst in den nächsten 24 Stunden keine Rufbereitschaft. "
            "/rufbereitschaft zeigt die Schichten."
        )
    return Reply("Danke, Übernahme bestätigt:\n" + "\n".join(f"  {c}" for c in confirmed))
