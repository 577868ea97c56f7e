"""The local agreement's rules: its periods (C1-C5), hours bounds (H1) and controlling (H2, H3)."""

from __future__ import annotations

from datetime import date, time

from pydantic import BaseModel, Field


class Periods(BaseModel):
    """The periods of the local agreement (seed 001); defaults are the seed's values."""

    action_plan_weeks: int = Field(6, ge=1, le=52)  # C1/D1: Handlungsplan
    first_help_plan_months: int = Field(6, ge=1, le=36)  # C1/D5: Ersthilfeplan
    report_interval_months: int = Field(6, ge=1, le=24)  # C1/D2: Berichte
    report_before_meeting_weeks: int = Field(6, ge=1, le=26)  # C2/D3
    coordination_working_days: int = Field(7, ge=1, le=60)  # C3/D4
    annual_report_month: int = Field(3, ge=1, le=12)  # C5: 31.03.
    annual_report_day: int = Field(31, ge=1, le=31)
    annual_report_first_year: int = 2026
    contract_start: date = date(2025, 1, 1)
    contract_end: date = date(2029, 12, 31)


class HoursLimits(BaseModel):
    """Bounds of H1."""

    max_entry_minutes: int = Field(12 * 60, ge=1, le=24 * 60)
    max_day_minutes: int = Field(24 * 60, ge=1, le=24 * 60)


class Controlling(BaseModel):
    """Hours controlling (issue 7): the rules of seed 001 II.5 and the quarterly evaluation."""

    threshold_percent: int = Field(90, ge=1, le=100)  # H3: below this share of the target
    short_quarters: int = Field(3, ge=1, le=12)  # H3: ... in this many consecutive quarters
    indirect_percent: int = Field(20, ge=0, le=100)  # H2: indirect time by calculation
    evaluate_time: time = time(7, 0)  # daily: H3 for the quarter ended, the forecast alert
    # Issue 14, one step past H3: mid-quarter, when the forecast says the running quarter
    # would be at least this many short quarters in a row, its coordinators are told once
    # (0: never); from this share of the quarter's working days on (the forecast settles).
    forecast_streak: int = Field(2, ge=0, le=12)
    forecast_from_percent: int = Field(50, ge=1, le=100)
