"""The on-call sweep (issue 6): page escalation, handover reminders and checks, gap reports.

Like the reminder sweep it only writes outbox rows under unique keys, so it may run in any
number of processes, as often as wanted, and after downtime: everything goes out once, through
the dispatcher and the messengers. Pages and handovers bypass quiet hours (see
`storage.rota.URGENT_ITEM_TYPES`); gap reports wait for working hours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from config.settings import Settings
from scheduler.clock import Clock
from scheduler.engine import policy_for
from scheduler.reminders import next_allowed
from scheduler.rota import Gap, gaps
from scheduler.workdays import WorkCalendar
from storage import audit, outbox
from storage import rota as store
from storage.db import Database
from storage.models import OncallHandover, Page, Rotation
from storage.outbox import NewEntry

log = logging.getLogger(__name__)

PAGE, HANDOVER, GAP, SWAP, OVERRIDE = "page", "handover", "rota_gap", "swap", "override"
LAST_LEVEL = 2  # 0 the on-call person, 1 the second line, 2 the coordinators


@dataclass
class RotaStats:
    escalated: int = 0
    handover_rows: int = 0
    gap_rows: int = 0


def handover_confirmed(session: Session, rotation_id: int, number: int, staff_id: int) -> bool:
    return (
        session.exec(
            select(OncallHandover.id).where(
                OncallHandover.rotation_id == rotation_id,
                OncallHandover.shift_number == number,
                OncallHandover.staff_id == staff_id,
            )
        ).first()
        is not None
    )


def escalation_targets(
    session: Session, settings: Settings, page: Page, level: int, now: datetime
) -> list[int]:
    """Who is paged at `level`: the second line (1) or the rotation's coordinators (2)."""
    rotation = session.get(Rotation, page.rotation_id)
    if rotation is None:
        return []
    state = store.load_state(session, rotation, settings.tz)
    if level == 1:
        duty = state.duty_at(now)
        backup = None if duty is None else state.backup_for(duty)
        return [] if backup is None or backup.id is None else [backup.id]
    return [c for c in store.coordinator_ids(session, rotation.organisation_id)]


class RotaSweeper:
    """One tick: escalate unacknowledged pages, remind and check handovers, report gaps."""

    def __init__(self, settings: Settings, db: Database, clock: Clock, calendar: WorkCalendar):
        self.settings = settings
        self.db = db
        self.clock = clock
        self.calendar = calendar
        self.policy = policy_for(settings)

    def tick(self) -> RotaStats:
        # UTC: instants in one ZoneInfo compare by wall time, wrong in October's repeated hour.
        now = self.clock.now().astimezone(UTC)
        stats = RotaStats()
        with self.db.session() as session:
            stats.escalated = self._escalate(session, now)
        with self.db.session() as session:
            for state in store.all_states(session, self.settings.tz):
                stats.handover_rows += self._handovers(session, state, now)
                stats.gap_rows += self._gaps(session, state, now)
        return stats

    def _escalate(self, session: Session, now: datetime) -> int:
        ack = timedelta(minutes=self.settings.oncall.page_ack_minutes)
        done = 0
        for page in store.open_pages_due(session, now):
            assert page.id is not None
            level, targets = page.level, list[int]()
            while not targets and level < LAST_LEVEL:
                level += 1
                targets = escalation_targets(session, self.settings, page, level, now)
            page.level = level
            page.escalate_at = now + ack if level < LAST_LEVEL and targets else None
            if not targets:
                log.error("page %s: nobody left to escalate to", page.id)
                session.add(page)
                continue
            outbox.insert_entries(
                session, (NewEntry(PAGE, page.id, f"l{level}", t, now, now) for t in targets), now
            )
            audit.record(
                session,
                at=now,
                actor="system",
                action="page_escalate",
                entity="page",
                entity_id=page.id,
                details={"level": level, "recipients": ",".join(map(str, targets))},
            )
            session.add(page)
            done += 1
            log.info("page %s escalated to level %d (%d people)", page.id, level, len(targets))
        return done

    def _handovers(self, session: Session, state: store.RotaState, now: datetime) -> int:
        window = timedelta(minutes=self.settings.oncall.handover_confirm_minutes)
        start = now - window - timedelta(days=1)
        end = now + timedelta(days=1, hours=2)  # the day before, across a DST change
        entries: list[NewEntry] = []
        for duty in state.duties(start, end):
            if duty.start != duty.shift.start:
                continue  # only real handovers; a substitute hears of it when entered
            number, holder = duty.shift.number, duty.staff_id
            day_before = _day_before(duty.start)
            if handover_confirmed(session, state.id, number, holder):
                continue
            if day_before <= now < duty.start:
                entries.append(NewEntry(HANDOVER, state.id, f"pre:{number}", holder, now, now))
            elif duty.start <= now < duty.start + window:
                entries.append(NewEntry(HANDOVER, state.id, f"at:{number}", holder, now, now))
            elif (
                duty.start + window <= now < min(duty.end, duty.start + window + timedelta(days=1))
            ):
                for c in store.coordinator_ids(session, state.rotation.organisation_id):
                    if c != holder:
                        entries.append(NewEntry(HANDOVER, state.id, f"unc:{number}", c, now, now))
        outbox.insert_entries(session, entries, now)
        return len(entries)

    @staticmethod
    def gaps_of(
        session: Session, settings: Settings, state: store.RotaState, start: datetime, end: datetime
    ) -> list[Gap]:
        """Duties in [start, end) whose holder is absent or no longer active, not overridden."""
        if not state.spec.members:
            return []
        today = start.astimezone(settings.tz).date()
        people = {d.staff_id for d in state.duties(start, end)}
        absences: dict[int, list[tuple[date, date]]] = {}
        for row in store.absences(session, people, today):
            assert row.absent_from is not None and row.absent_until is not None
            absences.setdefault(row.staff_id, []).append((row.absent_from, row.absent_until))
        active = {p for p in people if (s := state.staff.get(p)) is not None and s.active}
        return gaps(
            state.spec,
            start,
            end,
            swaps=state.swaps,
            overrides=state.overrides,
            absences=absences,
            active=active,
        )

    def _gaps(self, session: Session, state: store.RotaState, now: datetime) -> int:
        end = now + timedelta(days=self.settings.oncall.gap_days)
        found = self.gaps_of(session, self.settings, state, now, end)
        if not found:
            return 0
        coordinators = store.coordinator_ids(session, state.rotation.organisation_id)
        send_after = next_allowed(self.policy, self.calendar, now)
        entries = [
            NewEntry(GAP, state.id, f"g{g.shift.number}:{g.staff_id or 0}", c, now, send_after)
            for g in found
            for c in coordinators
        ]
        outbox.insert_entries(session, entries, now)
        return len(entries)


def _day_before(at: datetime) -> datetime:
    """The same wall-clock time one calendar day earlier (09:00 -> 09:00 the day before, also
    across a DST change: ZoneInfo arithmetic is wall-clock arithmetic), as a UTC instant."""
    return (at - timedelta(days=1)).astimezone(UTC)
