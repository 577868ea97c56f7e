"""Storing an edit or the end of a rotation from chat (issue 15), and what follows from it:
swaps and overrides it makes void are cancelled and their people told, everyone whose next
shift moved hears what it was and what it is now, and the coordinator gets the new picture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.commands.common import audit_change
from bot.context import Ctx
from bot.formatting import fmt_datetime
from bot.messages import Reply
from bot.rota_common import SHOWN_DUTIES, duty_lines, fmt_span, rule_text, state_of, who
from scheduler import rota_state
from scheduler.rota import shift_of
from scheduler.rota_duties import Swap
from scheduler.rota_edit import Plan, void_overrides, void_swaps
from scheduler.rota_notices import VOID, snapshot, tell, tell_changes
from scheduler.rota_versions import apply_plan
from storage import rota as store
from storage import rota_queries as queries
from storage.models.rota import OncallOverride, OncallSwap, Rotation
from storage.models.staff import Staff


def apply_change(
    ctx: Ctx, rot: Rotation, before: rota_state.RotaState, plan: Plan, cause: str
) -> Reply:
    """Store `plan` (an edit or an end, `cause` "edit" or "end") and answer the coordinator."""
    assert rot.id is not None
    now = ctx.now
    people_before = snapshot(before, now)
    row = apply_plan(ctx.session, rot, before.spec, plan, now=now, actor=ctx.staff_id)
    void_lines: list[str] = []
    # Swaps: pending or confirmed, naming a shift the edit changed.
    open_swaps = queries.open_swaps(ctx.session, rot.id, now)
    for swap in _by_ids(open_swaps, void_swaps(before.spec, plan.spec, _as_swaps(open_swaps), now)):
        if swap.status == store.PENDING:
            swap.decided_at = now
        swap.status = store.VOID
        ctx.session.add(swap)
        audit_change(ctx, "void", "oncall_swap", swap.id, rotation=rot.id)
        people = {swap.holder_a, swap.holder_b, swap.requested_by} - {ctx.staff_id}
        assert swap.id is not None
        tell(ctx.session, ctx.settings, ctx.calendar, VOID, swap.id, "swap", people, now)
        void_lines.append(f"  Tausch #{swap.id}")
    ctx.session.flush()
    after = state_of(ctx, rot)
    overrides = queries.future_overrides(ctx.session, rot.id, now)
    void_ids = void_overrides(
        before.spec,
        plan.spec,
        swaps_before=before.swaps,
        swaps_after=after.swaps,
        overrides=after.overrides,
        now=now,
    )
    for override in overrides:
        if override.id not in void_ids or _applies_elsewhere(ctx, override, rot.id):
            continue
        override.cancelled_at = now
        ctx.session.add(override)
        audit_change(ctx, "void", "oncall_override", override.id, rotation=rot.id)
        people = {
            override.absent_staff_id,
            override.substitute_staff_id,
            override.created_by,
        } - {ctx.staff_id}
        assert override.id is not None
        tell(ctx.session, ctx.settings, ctx.calendar, VOID, override.id, "override", people, now)
        void_lines.append(f"  Vertretung #{override.id}")
    ctx.session.flush()
    after = state_of(ctx, rot)
    told = tell_changes(
        ctx.session,
        ctx.settings,
        ctx.calendar,
        rotation_id=rot.id,
        before=people_before,
        after=snapshot(after, now, set(people_before) | set(after.staff)),
        cause=cause,
        ref_id=row.id,
        now=now,
        skip={ctx.staff_id},
    )
    tz = ctx.settings.tz
    rule = plan.rule
    audit_change(
        ctx,
        "end" if rule.ended else "edit",
        "rotation",
        rot.id,
        rule=row.id,
        effective=rule.effective_from.isoformat(),
        members=len(rule.members),
        void=len(void_lines),
    )
    at = fmt_datetime(rule.effective_from.astimezone(tz))
    lines = (
        [f"Rufbereitschaft „{rot.name}“ endet am {at}."]
        if rule.ended
        else [f"Rufbereitschaft „{rot.name}“ geändert, gültig ab {at}:", rule_text(after, rule)]
    )
    if plan.kept is not None:
        lines.append(
            "Die laufende Schicht bleibt, wie sie ist "
            f"({fmt_span(plan.kept.start, plan.kept.end, tz)})."
        )
    if plan.superseded:
        lines.append("Eine vorher geplante Änderung ab diesem Zeitpunkt ist damit ersetzt.")
    if not rule.ended:
        previous = shift_of(after.spec, _utc(rule.effective_from) - timedelta(microseconds=1))
        since = max(now, previous.start if previous else now, key=_utc)
        lines += [
            "Die Schichten um die Änderung:",
            *duty_lines(ctx, after, SHOWN_DUTIES + 1, since),
        ]
    else:
        last = after.duties(now, rule.effective_from + timedelta(microseconds=1))
        if last:
            lines.append(
                f"Letzte Schicht: {fmt_span(last[-1].start, last[-1].end, tz)}: "
                f"{who(after.staff.get(last[-1].staff_id))}"
            )
    if void_lines:
        lines += ["Hinfällig (die Beteiligten bekommen Bescheid):", *void_lines]
    if told:
        names = ", ".join(who(after.staff.get(p) or ctx.session.get(Staff, p)) for p in told)
        lines.append(f"Über ihre geänderte nächste Schicht informiere ich: {names}.")
    return Reply("\n".join(lines))


def _by_ids(rows: list[OncallSwap], ids: list[int]) -> list[OncallSwap]:
    wanted = set(ids)
    return [r for r in rows if r.id in wanted]


def _as_swaps(rows: list[OncallSwap]) -> list[Swap]:
    return [Swap(r.id or 0, r.shift_a, r.holder_a, r.holder_b, r.shift_b) for r in rows]


def _applies_elsewhere(ctx: Ctx, override: OncallOverride, rotation_id: int) -> bool:
    """Whether an override for every rotation still changes a duty in another one."""
    if override.rotation_id is not None:
        return False
    start = max(override.starts_at, ctx.now, key=_utc)
    others = [r for r in store.find_rotations(ctx.session, "") if r.id != rotation_id]
    for state in rota_state.load_states(
        ctx.session, ctx.settings.tz, start=start, end=override.ends_at, rotations=others
    ):
        for duty in state.duties(start, override.ends_at):
            if duty.override is not None and duty.override.id == override.id:
                return True
    return False


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
