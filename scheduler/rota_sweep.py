"""The on-call sweep (issues 6, 15): page escalation, heads-up and handover reminders, handover
checks, gap reports, the coordinators' weekly summary.

Like the reminder sweep it only writes outbox rows under unique keys, so it may run in any
number of processes, as often as wanted, and after downtime: everything goes out once, through
the dispatcher and the messengers. Pages and handovers bypass quiet hours (see
`storage.rota.URGENT_ITEM_TYPES`); heads-up notices, gap reports and summaries wait for the
sending window.

One tick reads every table once for all rotations, and only the stretch of time it looks at
(`load_states` with a window): its cost does not grow with the age of the rotations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from config.settings import Settings
from scheduler import rota_state
from scheduler.clock import Clock
from scheduler.engine import policy_for
from scheduler.reminders import is_allowed, next_allowed
from scheduler.rota import wall_clock
from scheduler.rota_duties import Duty, Gap, gaps_among
from scheduler.rota_notices import NOTICE, WEEK
from scheduler.workdays import WorkCalendar
from storage import audit, outbox
from storage import rota as store
from storage import rota_queries as queries
from storage.db import Database
from storage.models.rota import OncallHandover, Page, Rotation
from storage.outbox import NewEntry

log = logging.getLogger(__name__)

PAGE, HANDOVER, GAP, SWAP, OVERRIDE = "page", "handover", "rota_gap", "swap", "override"
LAST_LEVEL = 2  # 0 the on-call person, 1 the second line, 2 the coordinators


@dataclass
class RotaStats:
    escalated: int = 0
    handover_rows: int = 0
    gap_rows: int = 0
    notice_rows: int = 0
    summary_rows: int = 0


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


def stamp(at: datetime) -> str:
    """An instant in an outbox stage: UTC minutes, unambiguous also in October's repeated hour."""
    return at.astimezone(UTC).strftime("%Y%m%d%H%M")


def from_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M").replace(tzinfo=UTC)


def escalation_targets(
    session: Session, settings: Settings, page: Page, level: int, now: datetime
) -> list[int]:
    """Who is paged at `level`: the second line (1) or the rotation's coordinators (2); never
    the caller (an on-call person paging is told so, issue 14)."""
    rotation = session.get(Rotation, page.rotation_id)
    if rotation is None:
        return []
    if level == 1:
        state = rota_state.load_state(
            session, rotation, settings.tz, start=now, end=now + timedelta(days=31)
        )
        duty = state.duty_at(now)
        backup = None if duty is None else state.backup_for(duty)
        if backup is None or backup.id is None or backup.id == page.caller_id:
            return []
        return [backup.id]
    return [
        c for c in store.coordinator_ids(session, rotation.organisation_id) if c != page.caller_id
    ]


def summary_week(settings: Settings, now: datetime) -> tuple[date, datetime]:
    """The week (its Monday) the latest weekly summary is about, and when it was due."""
    tz, o = settings.tz, settings.oncall
    today = now.astimezone(tz).date()
    day = today - timedelta(days=(today.weekday() - o.summary_weekday) % 7)
    due = wall_clock(day, o.summary_time, tz)
    if due > now:
        day -= timedelta(days=7)
        due = wall_clock(day, o.summary_time, tz)
    monday = day + timedelta(days=(0 - day.weekday()) % 7)
    return monday, due


class RotaSweeper:
    """One tick over every rotation."""

    def __init__(self, settings: Settings, db: Database, clock: Clock, calendar: WorkCalendar):
        self.settings = settings
        self.db = db
        self.clock = clock
        self.calendar = calendar
        self.policy = policy_for(settings)
        self._written: dict[tuple[str, int, str, int], datetime] = {}  # see `_new_only`

    def tick(self) -> RotaStats:
        # UTC: instants in one ZoneInfo compare by wall time, wrong in October's repeated hour.
        now = self.clock.now().astimezone(UTC)
        stats = RotaStats()
        with self.db.session() as session:
            stats.escalated = self._escalate(session, now)
        with self.db.session() as session:
            self._plan(session, now, stats)
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

    def _plan(self, session: Session, now: datetime, stats: RotaStats) -> None:
        o, tz = self.settings.oncall, self.settings.tz
        confirm = timedelta(minutes=o.handover_confirm_minutes)
        start = now - confirm - timedelta(days=1, hours=1)
        # Handovers look a day ahead, heads-up notices `notice_days` (holidays move them
        # earlier), gap reports `gap_days`.
        near = now + timedelta(days=max(o.notice_days + 5, 2), hours=2)
        gap_end = now + timedelta(days=o.gap_days)
        states = rota_state.load_states(session, tz, start=start, end=max(near, gap_end))
        if not states:
            return
        confirmed = queries.confirmations_since(
            session, [s.id for s in states], now - confirm - timedelta(days=2, hours=1)
        )
        coordinators = queries.coordinators_by_org(
            session, {s.rotation.organisation_id for s in states}
        )
        window_opens = next_allowed(self.policy, self.calendar, now)
        entries: list[NewEntry] = []
        allowed: dict[datetime, datetime] = {}  # many shifts share a handover time
        suspect = self._gap_suspects(session, states, now, gap_end)
        found_gaps = self.gaps_in(session, self.settings, suspect, now, gap_end)
        for state in states:
            orgs = coordinators[state.rotation.organisation_id]
            for duty in state.duties(start, near):
                real = duty.start == duty.shift.start  # a handover, not the end of an override
                number, holder = duty.shift.number, duty.staff_id
                if real and (state.id, number, holder) not in confirmed:
                    rows = self._handover(state.id, number, holder, duty.start, duty.end, now, orgs)
                    entries += rows
                    stats.handover_rows += len(rows)
                lead = duty.start - now
                if (
                    (real or duty.override is not None)
                    and o.notice_days > 1
                    and timedelta(hours=22) < lead < timedelta(days=o.notice_days + 5)
                ):
                    nominal = _days_before(duty.start, o.notice_days, tz)
                    if nominal not in allowed:
                        allowed[nominal] = self._allowed_by(nominal)
                    fire = allowed[nominal]
                    if fire <= now < _days_before(duty.start, 1, tz):
                        stage = f"d{number}:{stamp(duty.start)}"
                        entries.append(NewEntry(NOTICE, state.id, stage, holder, now, window_opens))
                        stats.notice_rows += 1
            for gap in found_gaps.get(state.id, []):
                stage = f"g{gap.shift.number}:{gap.staff_id or 0}:{stamp(gap.shift.start)[2:]}"
                entries += [NewEntry(GAP, state.id, stage, c, now, window_opens) for c in orgs]
                stats.gap_rows += len(orgs)
        if o.weekly_summary:
            monday, due = summary_week(self.settings, now)
            if due <= now < due + timedelta(days=1):
                week_start = wall_clock(monday, time(0), self.settings.tz)
                for org_id, people in coordinators.items():
                    if any(
                        s.rotation.organisation_id == org_id and _runs_after(s, week_start)
                        for s in states
                    ):
                        stage = f"w{monday:%Y%m%d}"
                        entries += [
                            NewEntry(WEEK, org_id, stage, c, now, window_opens) for c in people
                        ]
                        stats.summary_rows += len(people)
        outbox.insert_entries(session, self._new_only(entries, now), now)

    def _new_only(self, entries: list[NewEntry], now: datetime) -> list[NewEntry]:
        """Entries this process has not written in the last days. Only a saving: the outbox
        key keeps each row unique anyway (other processes, a restart), so a tick does not
        write the same pending reminders every few seconds."""
        for key, until in list(self._written.items()):
            if until <= now:
                del self._written[key]
        fresh = [
            e for e in entries if (e.item_type, e.item_id, e.stage, e.staff_id) not in self._written
        ]
        keep = now + timedelta(days=3)
        for e in fresh:
            self._written[(e.item_type, e.item_id, e.stage, e.staff_id)] = keep
        return fresh

    @staticmethod
    def _gap_suspects(
        session: Session, states: list[rota_state.RotaState], now: datetime, end: datetime
    ) -> list[rota_state.RotaState]:
        """The rotations where someone who may hold a duty before `end` is absent then or no
        longer active: only these can have gaps (most ticks compute no duties for gaps)."""
        people: dict[int, set[int]] = {}
        for state in states:
            first = state.spec.index_at(now) or 0
            who = {
                m
                for rule in state.spec.rules[first:]
                if rule.effective_from < end
                for m in rule.members
            }
            who |= {o.substitute for o in state.overrides} | {o.absent for o in state.overrides}
            who |= {w.holder_a for w in state.swaps} | {w.holder_b for w in state.swaps}
            people[state.id] = who
        everyone = set().union(*people.values())
        tz = states[0].spec.tz if states else UTC
        away = set(
            queries.absences_between(
                session, everyone, now.astimezone(tz).date(), end.astimezone(tz).date()
            )
        )
        staff = states[0].staff if states else {}
        gone = {p for p in everyone if (s := staff.get(p)) is None or not s.active}
        return [s for s in states if people[s.id] & (away | gone)]

    def _allowed_by(self, at: datetime) -> datetime:
        """`at`, or if sending is not allowed then, the last hour of the window before it (a
        heads-up due on a holiday or at night goes out before, not after: it must come before
        the shift)."""
        p, local = self.policy, at.astimezone(self.settings.tz)
        if is_allowed(p, self.calendar, local):
            return local.astimezone(UTC)
        day = local.date()
        if not (self.calendar.is_working_day(day) and local.time() >= p.send_until):
            day -= timedelta(days=1)
            for _ in range(14):
                if self.calendar.is_working_day(day):
                    break
                day -= timedelta(days=1)
        # An hour before that window closes, so a tick surely falls between the two.
        closes = wall_clock(day, p.send_until, self.settings.tz)
        opens = wall_clock(day, p.send_from, self.settings.tz)
        return max(opens, closes - timedelta(hours=1)).astimezone(UTC)

    def _handover(
        self,
        rotation_id: int,
        number: int,
        holder: int,
        starts: datetime,
        ends: datetime,
        now: datetime,
        coordinators: list[int],
    ) -> list[NewEntry]:
        window = timedelta(minutes=self.settings.oncall.handover_confirm_minutes)
        if now < starts - timedelta(days=1, hours=2) or now >= starts + window + timedelta(days=1):
            return []  # far from this handover (the check below is exact across DST)
        tag = f"{number}:{stamp(starts)}"
        if _days_before(starts, 1, self.settings.tz) <= now < starts:
            return [NewEntry(HANDOVER, rotation_id, f"pre:{tag}", holder, now, now)]
        if starts <= now < starts + window:
            return [NewEntry(HANDOVER, rotation_id, f"at:{tag}", holder, now, now)]
        if starts + window <= now < min(ends, starts + window + timedelta(days=1)):
            return [
                NewEntry(HANDOVER, rotation_id, f"unc:{tag}", c, now, now)
                for c in coordinators
                if c != holder
            ]
        return []

    @staticmethod
    def gaps_in(
        session: Session,
        settings: Settings,
        states: list[rota_state.RotaState],
        start: datetime,
        end: datetime,
        planned: dict[int, list[Duty]] | None = None,
    ) -> dict[int, list[Gap]]:
        """Per rotation: duties in [start, end) whose holder is absent or no longer active
        (`planned`: each rotation's duties of a window around it, if computed already)."""
        tz = settings.tz
        lo, hi = start.astimezone(UTC), end.astimezone(UTC)
        within = {
            s.id: [
                d
                for d in (planned[s.id] if planned is not None else s.duties(start, end))
                if d.end.astimezone(UTC) > lo and d.start.astimezone(UTC) < hi
            ]
            for s in states
        }
        people = {d.staff_id for found in within.values() for d in found}
        absences = queries.absences_between(
            session, people, start.astimezone(tz).date(), end.astimezone(tz).date()
        )
        out: dict[int, list[Gap]] = {}
        for state in states:
            if not within[state.id]:
                continue
            active = {
                p
                for p in {d.staff_id for d in within[state.id]}
                if (s := state.staff.get(p)) is not None and s.active
            }
            found = gaps_among(state.spec, within[state.id], absences=absences, active=active)
            if found:
                out[state.id] = found
        return out

    @staticmethod
    def gaps_of(
        session: Session,
        settings: Settings,
        state: rota_state.RotaState,
        start: datetime,
        end: datetime,
    ) -> list[Gap]:
        return RotaSweeper.gaps_in(session, settings, [state], start, end).get(state.id, [])


def _runs_after(state: rota_state.RotaState, at: datetime) -> bool:
    ends = state.spec.ends_at()
    return bool(state.spec.rules) and (ends is None or ends > at)


def _days_before(at: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The same wall-clock time `days` calendar days earlier (09:00 -> 09:00, also across a
    DST change: ZoneInfo arithmetic is wall-clock arithmetic), as a UTC instant."""
    return (at.astimezone(tz) - timedelta(days=days)).astimezone(UTC)
