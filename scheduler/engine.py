"""The reminder sweep: finds reminders that fell due and writes them to the outbox.

It reads only rows whose `reminder_at` has come or lies within `plan_ahead_hours` (an index
range scan; the latter at most `max_rows_per_tick` a tick), plans them with the pure rules of
`scheduler.reminders`, and stores when each row needs looking at next. The
outbox key makes the writes idempotent, so several sweeping processes, a crash between two
batches or a sweep after days of downtime all end with each reminder written exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session

from config.settings import Settings
from scheduler.clock import Clock
from scheduler.reminders import (
    Audience,
    Policy,
    Stage,
    deadline_stages,
    digest_at,
    meeting_stages,
    next_allowed,
    plan,
)
from scheduler.workdays import WorkCalendar
from storage import outbox, planning, recipients
from storage.db import Database
from storage.outbox import NewEntry
from storage.planning import EPOCH, DueItem
from storage.recipients import CaseParties
from storage.rota import absence_routes

log = logging.getLogger(__name__)

# Deadline kinds the provider alone must deliver; the others concern both sides (a joint
# meeting), so the ASD contact is reminded too.
_PROVIDER_ONLY = frozenset({"action_plan", "report"})
# A meeting or session planned anew (created or moved) reminds of stages from this long ago
# on, so a sweep that runs a little after the change still catches a stage due right now.
_REPLAN_WINDOW = timedelta(minutes=10)
_ITEM_TYPES = ("deadline", "meeting", "session")


def policy_for(settings: Settings) -> Policy:
    """The pure rules' view of the `[reminders]` settings."""
    r = settings.reminders
    return Policy(
        tz=settings.tz,
        days_before=tuple(r.days_before),
        working_days_before=tuple(r.working_days_before),
        on_due_day=r.on_due_day,
        overdue_daily=r.overdue_daily,
        escalate_after_working_days=r.escalate_after_working_days,
        meeting_days_before=tuple(r.meeting_days_before),
        send_from=r.send_from,
        send_until=r.send_until,
        digest_weekday=r.digest_weekday,
        digest_time=r.digest_time,
    )


@dataclass
class SweepStats:
    items: int = 0
    ahead: int = 0  # of `items`: rows planned ahead, bounded by `max_rows_per_tick`
    written: int = 0
    batches: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


class Sweeper:
    """Plans reminders of deadlines, meetings and AG 78 sessions into the outbox."""

    def __init__(self, settings: Settings, db: Database, clock: Clock, calendar: WorkCalendar):
        self.settings = settings
        self.db = db
        self.clock = clock
        self.calendar = calendar
        self.policy = policy_for(settings)

    def sweep(self) -> SweepStats:
        """One tick: plan every row whose time has come, then a bounded share of what is near.

        Rows whose next stage has come (new or changed rows, catch-up after downtime) are
        planned at once, however many. Rows whose next stage lies within `plan_ahead_hours`
        are planned early, at most `max_rows_per_tick` per tick and nearest first, so a
        morning's burst is written during the night in ticks of bounded length. The
        dispatcher re-checks every row at send time (done, moved, cancelled, snoozed, absent).
        """
        now = self.clock.now()
        r = self.settings.reminders
        horizon = now + timedelta(hours=r.plan_ahead_hours)
        stats = SweepStats()
        for item_type in _ITEM_TYPES:
            self._sweep_type(item_type, now, now, horizon, None, stats)
        budget = r.max_rows_per_tick
        if horizon > now:
            for item_type in _ITEM_TYPES:
                if budget <= 0:
                    break
                read = self._sweep_type(item_type, now, horizon, horizon, budget, stats)
                stats.ahead += read
                budget -= read
        if stats.items:
            log.info(
                "sweep: %d rows planned (%d ahead), %d reminders written",
                stats.items,
                stats.ahead,
                stats.written,
            )
        return stats

    def _sweep_type(
        self,
        item_type: str,
        now: datetime,
        select_until: datetime,
        horizon: datetime,
        limit: int | None,
        stats: SweepStats,
    ) -> int:
        """Plan rows of one type whose reminder_at <= select_until; returns the rows read."""
        batch = self.settings.reminders.batch_size
        read = 0
        # Bounded: a row changed by someone else mid-batch is simply read again.
        for _ in range(1_000_000 // batch + 10):
            size = batch if limit is None else min(batch, limit - read)
            if size <= 0:
                break
            with self.db.session() as session:
                items = planning.due_items(session, item_type, select_until, size)
                if not items:
                    break
                entries, changes = self._plan(session, item_type, items, now, horizon)
                outbox.insert_entries(session, entries, now)
                planning.set_reminder_at(session, item_type, changes)
            read += len(items)
            stats.items += len(items)
            stats.written += len(entries)
            stats.batches += 1
            stats.by_type[item_type] = stats.by_type.get(item_type, 0) + len(entries)
            if len(items) < size:
                break
        return read

    def queue_digest(self) -> int:
        """Write this week's digest rows once its time has come (idempotent per week)."""
        now = self.clock.now()
        monday, at = digest_at(self.policy, self.calendar, now)
        if now < at:
            return 0
        week = int(monday.strftime("%Y%m%d"))
        with self.db.session() as session:
            staff = recipients.staff_with_identity(session)
            away = absence_routes(session, staff, now.astimezone(self.settings.tz).date())
            staff = [s for s in staff if s not in away]  # nothing until they return (issue 6)
            outbox.insert_entries(
                session,
                (NewEntry("digest", week, "week", s, at, at) for s in staff),
                now,
            )
        return len(staff)

    def _plan(
        self,
        session: Session,
        item_type: str,
        items: list[DueItem],
        now: datetime,
        horizon: datetime,
    ) -> tuple[list[NewEntry], list[tuple[int, datetime, datetime | None]]]:
        parties = recipients.case_parties(
            session, (i.case_id for i in items if i.case_id is not None)
        )
        orgs = {p.provider_org_id for p in parties.values()} | {
            p.jugendamt_org_id for p in parties.values()
        }
        orgs |= {i.organisation_id for i in items if i.organisation_id is not None}
        coordinators = recipients.coordinators(session, orgs)
        session_audience: list[int] | None = None
        wanted: list[tuple[DueItem, Stage, list[int]]] = []
        changes: list[tuple[int, datetime, datetime | None]] = []
        for item in items:
            if not item.active:
                changes.append((item.id, item.reminder_at, None))
                continue
            stages: Iterable[Stage]
            if item_type == "deadline":
                stages = deadline_stages(self.policy, self.calendar, item.due_date)
                since = item.reminder_at
                if since == EPOCH:  # new or changed: stages from the change on
                    since = item.changed_at or now
            else:
                assert item.due is not None
                stages = meeting_stages(self.policy, item.due)
                since = item.reminder_at
                if since == EPOCH:
                    since = max(item.changed_at or now, now - _REPLAN_WINDOW)
            due, next_at = plan(stages, since=since, now=now, until=horizon)
            changes.append((item.id, item.reminder_at, next_at))
            for stage in due:
                if item_type == "session":
                    if session_audience is None:
                        session_audience = self._session_audience(session)
                    people = session_audience
                else:
                    people = _recipients(item, stage, parties.get(item.case_id or -1), coordinators)
                wanted.append((item, stage, people))
        # Absence routing (issue 6): an absent person's reminders go to their deputy. Routed
        # for the day the reminder goes out (it may be planned the evening before); the
        # dispatcher routes again at send time for absences entered after planning.
        tz = self.settings.tz
        planned = [
            (item, stage, people, next_allowed(self.policy, self.calendar, stage.fire_at))
            for item, stage, people in wanted
        ]
        routes_by_day: dict[date, dict[int, int | None]] = {}
        for day in sorted({send.astimezone(tz).date() for *_, send in planned}):
            people_that_day = {
                p for *_, ps, send in planned if send.astimezone(tz).date() == day for p in ps
            }
            routes_by_day[day] = absence_routes(session, sorted(people_that_day), day)
        routed = [
            (
                item,
                stage,
                [
                    r
                    for p in people
                    if (r := routes_by_day[send.astimezone(tz).date()].get(p, p)) is not None
                ],
                send,
            )
            for item, stage, people, send in planned
        ]
        active = recipients.active_staff(session, (p for _, _, people, _ in routed for p in people))
        entries = [
            NewEntry(item_type, item.id, stage.key, person, stage.fire_at, send)
            for item, stage, people, send in routed
            for person in dict.fromkeys(people)
            if person in active
        ]
        return entries, changes

    def _session_audience(self, session: Session) -> list[int]:
        if self.settings.reminders.ag78_audience == "all":
            return recipients.all_active_staff(session)
        return recipients.all_coordinators(session)


def _recipients(
    item: DueItem, stage: Stage, case: CaseParties | None, coordinators: dict[int, list[int]]
) -> list[int]:
    """Who gets this stage: the responsible people, or on escalation coordinators and ASD."""
    if case is None:  # the organisation's own deadline (annual report): its coordinators
        return list(coordinators.get(item.organisation_id or -1, []))
    provider = (
        [case.provider_staff_id]
        if case.provider_staff_id
        else coordinators.get(case.provider_org_id, [])
    )
    asd = [case.asd_staff_id] if case.asd_staff_id else coordinators.get(case.jugendamt_org_id, [])
    if stage.audience is Audience.escalation:
        return [*coordinators.get(case.provider_org_id, []), *asd]
    if item.item_type == "deadline" and item.deadline_kind in _PROVIDER_ONLY:
        return list(provider)
    return [*provider, *asd]


def week_of(d: date) -> date:
    return d - timedelta(days=d.weekday())
