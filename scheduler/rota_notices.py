"""Telling people when their next on-call duty changes (issue 15), and what voids or takeovers
the coordinators hear of. Only outbox rows are written here; the German text is composed when
the row is sent (`bot.rota_texts`), so it says what is true then.

A change notice goes out in the sending window, unless the duty it is about (the old one or
the new one) begins before the window opens: then at once, also at night.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime

from sqlmodel import Session

from config.settings import Settings
from scheduler.engine import policy_for
from scheduler.reminders import next_allowed
from scheduler.rota_duties import Duty
from scheduler.rota_edit import next_duties
from scheduler.rota_state import RotaState
from scheduler.workdays import WorkCalendar
from storage import outbox
from storage import rota_changes as changes
from storage.outbox import NewEntry

CHANGE, CHANGE_NOW = changes.CHANGE_ITEM_TYPES
NOTICE, WEEK, VOID, INFO = "rota_notice", "rota_week", "rota_void", "rota_info"

Snapshot = Mapping[int, Duty | None]


def snapshot(state: RotaState, now: datetime, people: Collection[int] | None = None) -> Snapshot:
    """Everyone's next duty (running now or coming) in the rotation, before or after a change."""
    wanted = set(state.staff) if people is None else set(people)
    return next_duties(state.spec, wanted, now, swaps=state.swaps, overrides=state.overrides)


def tell_changes(
    session: Session,
    settings: Settings,
    calendar: WorkCalendar,
    *,
    rotation_id: int,
    before: Snapshot,
    after: Snapshot,
    cause: str,
    ref_id: int | None,
    now: datetime,
    skip: Collection[int] = (),
) -> list[int]:
    """Queue a notice to each person whose next duty differs; returns who will be told."""
    window_opens = next_allowed(policy_for(settings), calendar, now)
    told: list[int] = []
    entries: list[NewEntry] = []
    for person in sorted(set(before) | set(after)):
        if person in skip:
            continue
        old, new = _span(before.get(person)), _span(after.get(person))
        if old == new:
            continue
        row = changes.add(
            session,
            rotation_id=rotation_id,
            staff_id=person,
            cause=cause,
            ref_id=ref_id,
            before=old,
            after=new,
            now=now,
        )
        if row is None or row.id is None:
            continue
        soon = any(s is not None and s[0] < window_opens for s in (old, new))
        entries.append(NewEntry(CHANGE_NOW if soon else CHANGE, row.id, "n", person, now, now))
        told.append(person)
    outbox.insert_entries(session, entries, now)
    return told


def tell(
    session: Session,
    settings: Settings,
    calendar: WorkCalendar,
    item_type: str,
    item_id: int,
    stage: str,
    people: Collection[int],
    now: datetime,
) -> None:
    """Queue one message of `item_type` to each of `people`, in the sending window."""
    send_after = next_allowed(policy_for(settings), calendar, now)
    outbox.insert_entries(
        session,
        [NewEntry(item_type, item_id, stage, p, now, send_after) for p in sorted(set(people))],
        now,
    )


def _span(duty: Duty | None) -> tuple[datetime, datetime] | None:
    if duty is None:
        return None
    return duty.start.astimezone(UTC), duty.end.astimezone(UTC)
