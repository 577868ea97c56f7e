"""The on-call shifts of a calendar feed (issues 6, 13, 15): one event per duty, with RFC 5545
change data that only moves when that shift's data moves.

DTSTAMP and LAST-MODIFIED are the last change of the shift itself: the rule version that gave
it its present times and holder, a swap of it, an override on it (entered or cancelled), never
the rotation's start or an unrelated edit. SEQUENCE counts those changes, so it only rises, and
an override raises it only on the shifts it really changes (its absent person holds them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from scheduler import rota_state
from scheduler.ics import FeedEvent
from scheduler.rota import RotaSpec, Shift, base_holder, shift_by_number
from scheduler.rota_duties import scheduled_holder
from scheduler.rota_versions import implicit_rule, to_rule
from storage import rota_queries as queries
from storage.models.rota import OncallOverride, OncallSwap, RotationRule
from storage.models.staff import Staff
from storage.rota_rules import legacy_members, rule_rows

Change = tuple[int, datetime]  # (SEQUENCE, last change)


def rotation_events(
    session: Session,
    state: rota_state.RotaState,
    *,
    start: datetime,
    end: datetime,
    person: Staff | None,
    domain: str,
) -> list[FeedEvent]:
    """The duties of [start, end) as events (only `person`'s, if given)."""
    rot = state.rotation
    assert rot.id is not None
    found = state.duties(start, end)
    if not found:
        return []
    history = _history(session, state)
    low, high = found[0].shift.start, found[-1].shift.end
    swaps = queries.feed_swaps(session, rot.id, low.astimezone(UTC), high.astimezone(UTC))
    overrides = queries.feed_overrides(session, rot.id, low.astimezone(UTC), high.astimezone(UTC))
    changes: dict[int, Change] = {}
    events: list[FeedEvent] = []
    seen: set[str] = set()
    for duty in found:
        member = state.staff[duty.staff_id]
        number = duty.shift.number
        if number not in changes:
            changes[number] = _changes(state, duty.shift, history, swaps, overrides)
        count, changed = changes[number]
        # The holder is part of the UID: a shift given to someone else is a new event; a shift
        # split by an override gets one event per part.
        uid = f"oncall-{rot.id}-{number}-{member.id}"
        if uid in seen:
            uid += f"-{duty.start.astimezone(UTC):%Y%m%d%H%M}"
        seen.add(uid)
        if person is not None and member.id != person.id:
            continue
        phone = f"Diensttelefon: {member.work_phone}" if member.work_phone else None
        note = None
        if duty.override is not None:
            absent = state.staff.get(duty.override.absent)
            note = f"Vertretung für {absent.name if absent else '–'}"
        events.append(
            FeedEvent(
                uid=f"{uid}@{domain}",
                summary=f"Rufbereitschaft: {member.name} ({member.handle})",
                start=duty.start.astimezone(state.spec.tz),
                end=duty.end.astimezone(state.spec.tz),
                sequence=count,
                last_modified=changed,
                description="\n".join(x for x in (rot.name, note, phone) if x),
                categories=("Rufbereitschaft",),
            )
        )
    return events


def _history(
    session: Session, state: rota_state.RotaState
) -> list[tuple[datetime | None, RotaSpec]]:
    """The rotation as it stood after each rule version was written: (written at, rule);
    None for a rotation stored before issue 15 without a creation time."""
    tz: ZoneInfo = state.spec.tz
    rot = state.rotation
    assert rot.id is not None
    rows = rule_rows(session, [rot.id], superseded=True).get(rot.id, [])
    if not rows:
        rule = implicit_rule(rot, legacy_members(session, [rot.id]).get(rot.id, []), tz)
        return [(rot.created_at, RotaSpec((rule,), tz))]
    ordered = sorted(rows, key=lambda r: r.id or 0)
    out: list[tuple[datetime | None, RotaSpec]] = []
    for row in ordered:
        assert row.id is not None
        active: list[RotationRule] = [
            r
            for r in ordered
            if (r.id or 0) <= row.id and (r.superseded_by is None or r.superseded_by > row.id)
        ]
        active.sort(key=lambda r: (r.effective_from, r.id or 0))
        out.append((row.created_at, RotaSpec(tuple(to_rule(r) for r in active), tz)))
    return out


def _changes(
    state: rota_state.RotaState,
    shift: Shift,
    history: list[tuple[datetime | None, RotaSpec]],
    swaps: Sequence[OncallSwap],
    overrides: Sequence[OncallOverride],
) -> Change:
    number = shift.number
    count, stamp, seen = 0, None, False
    previous: tuple[datetime, datetime, int] | None = None
    for written, spec in history:
        found = shift_by_number(spec, number)
        current = (
            None
            if found is None
            else (found.start.astimezone(UTC), found.end.astimezone(UTC), base_holder(spec, found))
        )
        if not seen:
            seen, stamp = current is not None, written
        elif current != previous:
            count, stamp = count + 1, written
        previous = current
    if stamp is None:
        # Stored before issue 15 without a creation time: its first handover stands in, as
        # it did then, never later than the shift itself.
        first = state.spec.first_start or shift.start
        stamp = min(first.astimezone(UTC), shift.start.astimezone(UTC))
    for swap in swaps:
        if number in (swap.shift_a, swap.shift_b):
            count += 1
            if swap.decided_at is not None:
                stamp = max(stamp, swap.decided_at)
    holders = {scheduled_holder(state.spec, number, state.swaps)}
    lo, hi = shift.start.astimezone(UTC), shift.end.astimezone(UTC)
    near = [o for o in overrides if o.starts_at < hi and o.ends_at > lo]
    for _ in range(len(near)):  # a substitute absent too: follow the chain
        grown = holders | {o.substitute_staff_id for o in near if o.absent_staff_id in holders}
        if grown == holders:
            break
        holders = grown
    for o in near:
        if o.absent_staff_id in holders:
            count += 1 if o.cancelled_at is None else 2
            stamp = max(stamp, o.cancelled_at or o.created_at)
    return count, stamp
