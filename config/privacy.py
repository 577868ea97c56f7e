"""Protection of personal data: the limit on invite guessing and the retention periods."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, Field


class StartLimits(BaseModel):
    """Invite brute force (issue 12): failed `/start` attempts per messenger account and overall."""

    per_account: int = Field(5, ge=1, le=1000)  # failures of one account within the window
    overall: int = Field(50, ge=1, le=100_000)  # failures of all accounts within the window
    window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)


class Retention(BaseModel):
    """How long personal data stays (issue 12, DOMAIN.md P4); the daily job enforces it."""

    closed_case_days: int = Field(730, ge=1, le=36_500)  # after the help ended (closed_on)
    staff_days: int = Field(180, ge=1, le=36_500)  # after a person was deactivated
    audit_days: int = Field(1095, ge=30, le=36_500)  # audit entries, then removed
    start_attempt_days: int = Field(7, ge=1, le=3650)  # records of failed /start attempts
    run_time: time = time(3, 15)  # the daily job, in the organisation's time zone
