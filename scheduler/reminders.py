"""Reminder rules: which stages a deadline or meeting has, quiet hours, the next allowed minute.

Pure: every function takes the time it needs; nothing here reads a clock or the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import count

from scheduler.workdays import WorkCalendar

_ONE_DAY = timedelta(days=1)


class Audience(StrEnum):
    responsible = "responsible"  # the people responsible for the deadline or meeting
    escalation = "escalation"  # the case's coordinators and ASD contact


@dataclass(frozen=True)
class Policy:
    """The reminder settings the rules need, in plain types."""

    tz: tzinfo
    days_before: tuple[int, ...] = (14, 7)
    working_days_before: tuple[int, ...] = (2,)
    on_due_day: bool = True
    overdue_daily: bool = True
    escalate_after_working_days: int = 3
    meeting_days_before: tuple[int, ...] = (7, 1)
    send_from: time = time(8, 0)
    send_until: time = time(18, 0)
    digest_weekday: int = 0
    digest_time: time = time(8, 0)


@dataclass(frozen=True)
class Stage:
    """One reminder of one deadline or meeting; `key` is unique per target date."""

    key: str
    fire_at: datetime  # nominal time; quiet hours may push the delivery later
    audience: Audience = Audience.responsible
    days_before: int = 0  # calendar days before the due day or meeting (0: due day or overdue)
    working_days_overdue: int = 0


def is_allowed(policy: Policy, cal: WorkCalendar, at: datetime) -> bool:
    """True if `at` lies on a working day within the sending window."""
    local = at.astimezone(policy.tz)
    return cal.is_working_day(local.date()) and policy.send_from <= local.time() < policy.send_until


def next_allowed(policy: Policy, cal: WorkCalendar, at: datetime) -> datetime:
    """`at` itself if sending is allowed then, else the first allowed minute after it."""
    local = at.astimezone(policy.tz)
    if is_allowed(policy, cal, local):
        return local
    day = local.date()
    if not (cal.is_working_day(day) and local.time() < policy.send_from):
        day = cal.next_working_day(day + _ONE_DAY)
    return _at(policy, day, policy.send_from)


def deadline_stages(policy: Policy, cal: WorkCalendar, due: date) -> Iterator[Stage]:
    """Every stage of a deadline due on `due`, in time order; overdue stages never end."""
    tag = due.strftime("%Y%m%d")
    before: list[Stage] = [
        Stage(f"d{n}:{tag}", _at(policy, due - timedelta(days=n), policy.send_from), days_before=n)
        for n in policy.days_before
    ]
    for n in policy.working_days_before:
        day = _nth_working_day_before(cal, due, n)
        before.append(
            Stage(f"w{n}:{tag}", _at(policy, day, policy.send_from), days_before=(due - day).days)
        )
    # Two rules may name the same day (7 calendar days and 5 working days): remind once.
    seen: set[datetime] = set()
    for stage in sorted(before, key=lambda s: (s.fire_at, s.key)):
        if stage.fire_at not in seen:
            seen.add(stage.fire_at)
            yield stage
    if policy.on_due_day:
        yield Stage(f"due:{tag}", _at(policy, due, policy.send_from))
    day = due
    for n in count(1):
        day = cal.next_working_day(day + _ONE_DAY)
        fire = _at(policy, day, policy.send_from)
        if n == policy.escalate_after_working_days:
            yield Stage(f"esc:{tag}", fire, Audience.escalation, working_days_overdue=n)
        elif not policy.overdue_daily and n > policy.escalate_after_working_days:
            return
        if policy.overdue_daily:
            yield Stage(f"o{n}:{tag}", fire, working_days_overdue=n)


def meeting_stages(policy: Policy, starts_at: datetime) -> list[Stage]:
    """The stages of a meeting (HPG, closing meeting, AG 78 session), in time order."""
    local = starts_at.astimezone(policy.tz)
    tag = local.strftime("%Y%m%d%H%M")
    stages = [
        Stage(
            f"m{n}:{tag}",
            _at(policy, local.date() - timedelta(days=n), local.time()),
            days_before=n,
        )
        for n in policy.meeting_days_before
    ]
    return sorted(stages, key=lambda s: s.fire_at)


def plan(
    stages: Iterable[Stage], *, since: datetime, now: datetime, until: datetime | None = None
) -> tuple[list[Stage], datetime | None]:
    """Stages falling due in [since, until] (default: now), and when the next one falls due.

    `until` later than `now` plans ahead: those stages are written early with their future
    send time. The second value is None when no stage follows.
    """
    end = now if until is None else max(now, until)
    due: list[Stage] = []
    for stage in stages:
        if stage.fire_at > end:
            return due, stage.fire_at
        if stage.fire_at >= since:
            due.append(stage)
    return due, None


def is_late(
    policy: Policy, cal: WorkCalendar, fire_at: datetime, now: datetime, grace: timedelta
) -> bool:
    """True if a reminder goes out more than `grace` after it should have gone out."""
    return now - next_allowed(policy, cal, fire_at) > grace


def snooze_until(policy: Policy, cal: WorkCalendar, now: datetime, days: int) -> datetime:
    """Snoozing for `days` days: that morning at the start of the window, or the next allowed."""
    day = now.astimezone(policy.tz).date() + timedelta(days=days)
    return next_allowed(policy, cal, _at(policy, day, policy.send_from))


def digest_at(policy: Policy, cal: WorkCalendar, now: datetime) -> tuple[date, datetime]:
    """The digest of the week containing `now`: the week's Monday and when it goes out."""
    today = now.astimezone(policy.tz).date()
    monday = today - timedelta(days=today.weekday())
    nominal = _at(policy, monday + timedelta(days=policy.digest_weekday), policy.digest_time)
    return monday, next_allowed(policy, cal, nominal)


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Delay before the next attempt after `attempts` failed ones: doubling, capped."""
    exponent = max(0, min(attempts - 1, 30))
    return timedelta(seconds=min(base_seconds * 2**exponent, max_seconds))


def _nth_working_day_before(cal: WorkCalendar, d: date, n: int) -> date:
    for _ in range(n):
        d = cal.previous_working_day(d - _ONE_DAY)
    return d


def _at(policy: Policy, day: date, clock_time: time) -> datetime:
    # Wall-clock time in the organisation's zone: 08:00 stays 08:00 across DST changes.
    return datetime.combine(day, clock_time, tzinfo=policy.tz)
