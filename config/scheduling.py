"""The periodic work: the reminder engine and the emergency contact's checks."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator


class Reminders(BaseModel):
    """The reminder engine (issue 4): stages, quiet hours, digest, delivery and its retries."""

    days_before: list[int] = Field(default_factory=lambda: [14, 7])  # calendar days
    working_days_before: list[int] = Field(default_factory=lambda: [2])
    on_due_day: bool = True
    overdue_daily: bool = True  # each working day while overdue
    escalate_after_working_days: int = Field(3, ge=1, le=60)  # to coordinators and ASD contact
    meeting_days_before: list[int] = Field(default_factory=lambda: [7, 1])  # HPG and AG 78
    ag78_audience: Literal["coordinators", "all"] = "coordinators"
    send_from: time = time(8, 0)  # quiet hours: outside [send_from, send_until) and
    send_until: time = time(18, 0)  # on days that are no working day
    digest_weekday: int = Field(0, ge=0, le=6)  # 0 = Monday
    digest_time: time = time(8, 0)
    sweep_seconds: int = Field(60, ge=1, le=3600)
    dispatch_seconds: float = Field(2.0, gt=0, le=600)
    batch_size: int = Field(500, ge=1, le=100_000)
    # Plan ahead: stages within this many hours are written to the outbox early, at most
    # `max_rows_per_tick` rows per sweep, so the 08:00 burst is spread over the day before:
    # 20 h of 60 s ticks at 100 rows (~11 ms each on SQLite) hold 120,000 rows a morning.
    plan_ahead_hours: int = Field(20, ge=0, le=72)
    max_rows_per_tick: int = Field(100, ge=1, le=100_000)
    lease_seconds: int = Field(120, ge=1, le=3600)  # a crashed sender's rows return after this
    max_in_flight: int = Field(8, ge=1, le=256)  # concurrent sends per process
    max_attempts: int = Field(6, ge=1, le=100)  # then the coordinators are told
    backoff_seconds: int = Field(60, ge=1, le=86_400)  # doubles per failed attempt
    backoff_max_seconds: int = Field(3600, ge=1, le=7 * 86_400)
    late_after_minutes: int = Field(30, ge=1, le=1440)  # later than this is marked "verspätet"
    snooze_default_days: int = Field(1, ge=1, le=30)
    # Under Telegram's 30/s with room for arrival jitter: a 429 stalls every scheduler >= 1 s.
    # Shared by every scheduler on one database (issue 11; PostgreSQL: the rate_limit table).
    rate_per_second: dict[str, float] = Field(
        default_factory=lambda: {"telegram": 28.0, "console": 50.0}
    )
    # Messages/s of the bot's Matrix account: the homeserver's `rc_message.per_second` (Synapse
    # default 0.2) or the override the bot account got.
    matrix_rc_message: float = Field(5.0, gt=0, le=1000)
    messengers: list[str] = Field(default_factory=lambda: ["console"])  # transports to send on

    @field_validator("days_before", "working_days_before", "meeting_days_before")
    @classmethod
    def _positive_days(cls, value: list[int]) -> list[int]:
        if any(d < 1 or d > 365 for d in value):
            raise ValueError(f"Tage müssen zwischen 1 und 365 liegen, angegeben: {value}")
        return sorted(set(value), reverse=True)

    @model_validator(mode="after")
    def _window(self) -> Reminders:
        if self.send_until <= self.send_from:
            raise ValueError("reminders.send_until muss nach reminders.send_from liegen")
        return self


class OnCallSettings(BaseModel):
    """Emergency contact (issue 6): paging, handover confirmation, gap detection."""

    page_ack_minutes: int = Field(10, ge=1, le=240)  # unacknowledged: next escalation level
    page_max_chars: int = Field(160, ge=20, le=200)  # a page is a short message
    handover_confirm_minutes: int = Field(60, ge=1, le=24 * 60)  # then coordinators are told
    gap_days: int = Field(14, ge=1, le=120)  # look this far ahead for uncovered shifts
    check_seconds: int = Field(30, ge=1, le=3600)  # escalation and handover check interval
    # Issue 15: a heads-up this many days before each shift (0 or 1: only the day before).
    notice_days: int = Field(3, ge=0, le=30)
    weekly_summary: bool = True  # coordinators: the coming week's duties, swaps, gaps
    summary_weekday: int = Field(4, ge=0, le=6)  # 0 = Monday; covers the next Monday's week
    summary_time: time = time(12, 0)
