"""Swapping on-call shifts from chat (issues 6, 15, R1): a swap holds once both have confirmed.

A coordinator may propose one for a member (`/tausch JB …`, the same leading Kürzel as every
command that acts for someone); both members then confirm. Whoever's next shift the swap moves
is told what it was and what it is now; the other parties hear that the swap holds.
"""

from __future__ import annotations

from datetime import datetime, time

from bot.commands.common import audit_change
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import fmt_date_wd
from bot.messages import Reply
from bot.parsing.args import split_args
from bot.parsing.dates import parse_date
from bot.parsing.echo import shown
from bot.registry import REGISTRY
from bot.rota_common import (
    coordinates,
    fmt_span,
    is_handle,
    on_behalf,
    person,
    rotation,
    state_of,
    who,
)
from scheduler import rota_state
from scheduler.rota import shift_by_number, shift_of
from scheduler.rota_duties import scheduled_holder
from scheduler.rota_notices import snapshot, tell_changes
from scheduler.rota_sweep import SWAP
from scheduler.rota_versions import swap_span
from storage import outbox
from storage import rota as store
from storage.bounds import db_id
from storage.models.rota import OncallSwap, Rotation
from storage.models.staff import Staff
from storage.outbox import NewEntry


def _swap_text(ctx: Ctx, swap: OncallSwap, state: rota_state.RotaState) -> str:
    tz = ctx.settings.tz
    a = shift_by_number(state.spec, swap.shift_a)
    assert a is not None
    text = (
        f"Tausch #{swap.id} ({state.rotation.name}): {who(state.staff.get(swap.holder_b))} "
        f"übernimmt {fmt_span(a.start, a.end, tz)} von {who(state.staff.get(swap.holder_a))}"
    )
    if swap.shift_b is not None:
        b = shift_by_number(state.spec, swap.shift_b)
        assert b is not None
        text += f", {who(state.staff.get(swap.holder_a))} dafür {fmt_span(b.start, b.end, tz)}"
    return text + "."


@REGISTRY.command(
    "tausch",
    "swap",
    summary="Dienst tauschen: gilt, sobald beide bestätigt haben",
    example="/tausch 14.04. 28.04. · /tausch 14.04. TS (TS übernimmt deinen Dienst) · "
    "Koordination: /tausch JB 14.04. TS",
)
def request_swap(ctx: Ctx, args: str) -> Reply:
    """Swap the shift covering a date with another date's shift, or hand it to a colleague;
    a coordinator may propose one for a member (both sides then confirm)."""
    positional, options = split_args(args)
    raw_rot = options.pop("rb", None) or options.pop("rufbereitschaft", None)
    usage = "/tausch 14.04. 28.04. oder /tausch 14.04. TS"
    named = len(positional) == 3 and is_handle(ctx, positional[0])
    member = on_behalf(ctx, positional, "Einen Tausch") if named else ctx.staff
    if options or len(positional) != 2:
        raise UserError(f"Bitte zwei Angaben: dein Dienst und der andere. Beispiele: {usage}")
    rot = rotation(ctx, raw_rot, member=member)
    state = state_of(ctx, rot)

    def shift_on(raw: str) -> tuple[int, int]:
        day = parse_date(raw, ctx.today)
        shift = shift_of(state.spec, datetime.combine(day, time(12), tzinfo=ctx.settings.tz))
        if shift is None:
            raise UserError(f"Am {fmt_date_wd(day)} hat „{rot.name}“ keinen Dienst.")
        if shift.end <= ctx.now:
            raise UserError(f"Der Dienst am {fmt_date_wd(day)} ist schon vorbei.")
        holder = scheduled_holder(state.spec, shift.number, state.swaps)
        assert holder is not None
        return shift.number, holder

    shift_a, holder_a = shift_on(positional[0])
    if named and holder_a != member.id:
        raise UserError(
            f"Den Dienst am {positional[0]} hat nicht {who(member)}, sondern "
            f"{who(state.staff.get(holder_a))}."
        )
    shift_b: int | None = None
    if is_handle(ctx, positional[1]):
        partner = person(ctx, positional[1])
        if partner.organisation_id != rot.organisation_id:
            raise UserError(f"{who(partner)} gehört nicht zu dieser Rufbereitschaft.")
        holder_b = partner.id or 0
    else:
        shift_b, holder_b = shift_on(positional[1])
        if shift_b == shift_a:
            raise UserError("Das ist zweimal derselbe Dienst.")
    if holder_a == holder_b:
        raise UserError(f"Beide Dienste hat {who(state.staff.get(holder_a))}; nichts zu tauschen.")
    if ctx.staff_id not in (holder_a, holder_b) and not coordinates(ctx, rot.organisation_id):
        raise UserError(
            "Tauschen können die beiden Beteiligten (oder die Koordination schlägt es vor). "
            f"Den Dienst hat {who(state.staff.get(holder_a))}."
        )
    span = swap_span(state.spec, (shift_a, shift_b))
    assert span is not None
    swap = OncallSwap(
        rotation_id=state.id,
        shift_a=shift_a,
        holder_a=holder_a,
        holder_b=holder_b,
        shift_b=shift_b,
        requested_by=ctx.staff_id,
        confirmed_a_at=ctx.now if ctx.staff_id == holder_a else None,
        confirmed_b_at=ctx.now if ctx.staff_id == holder_b else None,
        created_at=ctx.now,
        first_start=span[0],
        last_end=span[1],
    )
    ctx.session.add(swap)
    ctx.session.flush()
    assert swap.id is not None
    audit_change(ctx, "request", "oncall_swap", swap.id)
    waiting = [
        h
        for h, done in ((holder_a, swap.confirmed_a_at), (holder_b, swap.confirmed_b_at))
        if done is None
    ]
    outbox.insert_entries(
        ctx.session, [NewEntry(SWAP, swap.id, "ask", h, ctx.now, ctx.now) for h in waiting], ctx.now
    )
    names = " und ".join(who(state.staff.get(h) or ctx.session.get(Staff, h)) for h in waiting)
    return Reply(
        f"{_swap_text(ctx, swap, state)}\nDer Tausch gilt, sobald {names} bestätigt "
        f"(/tausch_ok {swap.id}); ich habe nachgefragt."
    )


def _own_swap(ctx: Ctx, args: str) -> tuple[OncallSwap, rota_state.RotaState]:
    number = args.strip().lstrip("#")
    swap = ctx.session.get(OncallSwap, found) if (found := db_id(number)) else None
    if swap is None or ctx.staff_id not in (swap.holder_a, swap.holder_b, swap.requested_by):
        raise UserError(f"Einen Tausch {shown(args or '?')} mit dir finde ich nicht.")
    if swap.status != store.PENDING:
        word = {
            store.CONFIRMED: "gilt bereits",
            store.VOID: "gilt nicht mehr: die Rufbereitschaft wurde geändert",
        }.get(swap.status, "wurde abgelehnt")
        raise UserError(f"Tausch #{swap.id} {word}.")
    rot = ctx.session.get(Rotation, swap.rotation_id)
    assert rot is not None
    return swap, state_of(ctx, rot)


def _notify(ctx: Ctx, swap: OncallSwap, stage: str, skip: set[int] | None = None) -> None:
    assert swap.id is not None
    people = {swap.holder_a, swap.holder_b, swap.requested_by} - {ctx.staff_id} - (skip or set())
    outbox.insert_entries(
        ctx.session,
        [NewEntry(SWAP, swap.id, stage, p, ctx.now, ctx.now) for p in sorted(people)],
        ctx.now,
    )


@REGISTRY.command(
    "tausch_ok",
    "swap_ok",
    summary="Einem Diensttausch zustimmen",
    example="/tausch_ok 4",
)
def confirm_swap(ctx: Ctx, args: str) -> Reply:
    swap, state = _own_swap(ctx, args)
    if ctx.staff_id == swap.holder_a and swap.confirmed_a_at is None:
        swap.confirmed_a_at = ctx.now
    elif ctx.staff_id == swap.holder_b and swap.confirmed_b_at is None:
        swap.confirmed_b_at = ctx.now
    else:
        raise UserError(
            f"Du hast Tausch #{swap.id} schon bestätigt; es fehlt noch die andere Seite."
            if ctx.staff_id in (swap.holder_a, swap.holder_b)
            else f"Tausch #{swap.id} bestätigen die beiden Beteiligten."
        )
    if swap.confirmed_a_at is None or swap.confirmed_b_at is None:
        ctx.session.add(swap)
        audit_change(ctx, "confirm", "oncall_swap", swap.id)
        return Reply(f"Bestätigt. Tausch #{swap.id} gilt, sobald auch die andere Seite zustimmt.")
    # Both agreed: the shifts must still be as they were when asked.
    still = scheduled_holder(state.spec, swap.shift_a, state.swaps) == swap.holder_a and (
        swap.shift_b is None
        or scheduled_holder(state.spec, swap.shift_b, state.swaps) == swap.holder_b
    )
    shifts = [shift_by_number(state.spec, n) for n in (swap.shift_a, swap.shift_b) if n is not None]
    if not still or any(s is None or s.end <= ctx.now for s in shifts):
        swap.status, swap.decided_at = store.DECLINED, ctx.now
        ctx.session.add(swap)
        audit_change(ctx, "void", "oncall_swap", swap.id)
        return Reply(
            f"Tausch #{swap.id} geht nicht mehr: die Dienste haben sich inzwischen geändert "
            "oder sind vorbei. /rufbereitschaft zeigt den Stand."
        )
    before = snapshot(state, ctx.now)
    swap.status, swap.decided_at = store.CONFIRMED, ctx.now
    ctx.session.add(swap)
    ctx.session.flush()
    audit_change(ctx, "confirm", "oncall_swap", swap.id)
    assert swap.id is not None
    told = tell_changes(
        ctx.session,
        ctx.settings,
        ctx.calendar,
        rotation_id=state.id,
        before=before,
        after=snapshot(state_of(ctx, state.rotation), ctx.now, set(before)),
        cause="swap",
        ref_id=swap.id,
        now=ctx.now,
        skip={ctx.staff_id},
    )
    _notify(ctx, swap, "done", skip=set(told))  # whose next shift moved heard of it just now
    return Reply(f"Der Tausch gilt ab sofort. {_swap_text(ctx, swap, state)}")


@REGISTRY.command(
    "tausch_nein",
    "swap_no",
    summary="Einen Diensttausch ablehnen",
    example="/tausch_nein 4",
)
def decline_swap(ctx: Ctx, args: str) -> Reply:
    swap, _state = _own_swap(ctx, args)
    swap.status, swap.decided_at = store.DECLINED, ctx.now
    ctx.session.add(swap)
    audit_change(ctx, "decline", "oncall_swap", swap.id)
    _notify(ctx, swap, "no")
    return Reply(f"Tausch #{swap.id} abgelehnt; die Dienste bleiben, wie sie waren.")
