"""German rendering of dates, times, hours and enum values for chat replies."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from config.enums import (
    DeadlineKind,
    HoursCategory,
    LegalBasis,
    MeetingKind,
    MissedReason,
    SessionKind,
    StaffType,
)

# Index = date.weekday() (Monday = 0).
WEEKDAY_SHORT: Final[tuple[str, ...]] = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
WEEKDAY_LONG: Final[tuple[str, ...]] = (
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
)

LEGAL_BASIS_LABEL: Final[dict[LegalBasis, str]] = {
    LegalBasis.p27_2: "§ 27 Abs. 2 SGB VIII",
    LegalBasis.p29: "§ 29 SGB VIII",
    LegalBasis.p30: "§ 30 SGB VIII",
    LegalBasis.p31: "§ 31 SGB VIII",
    LegalBasis.p35: "§ 35 SGB VIII",
}

CATEGORY_LABEL: Final[dict[HoursCategory, str]] = {
    HoursCategory.direct: "direkt am Klienten",
    HoursCategory.group: "Gruppenangebot / fallübergreifend",
    HoursCategory.non_case: "fallunspezifische Arbeit",
    HoursCategory.network: "Netzwerkarbeit",
    HoursCategory.informal_advice: "Beratung ohne HzE",
    HoursCategory.missed: "ausgefallene Leistung",
}

MISSED_REASON_LABEL: Final[dict[MissedReason, str]] = {
    MissedReason.cancelled_by_family: "von der Familie abgesagt",
    MissedReason.not_met: "nicht angetroffen",
    MissedReason.illness: "Krankheit",
    MissedReason.other: "Sonstiges",
}

STAFF_TYPE_LABEL: Final[dict[StaffType, str]] = {
    StaffType.fachkraft: "Fachkraft",
    StaffType.semiprofessional: "semiprofessionell",
}

DEADLINE_KIND_LABEL: Final[dict[DeadlineKind, str]] = {
    DeadlineKind.action_plan: "Handlungsplan",
    DeadlineKind.help_plan_review: "Folge-Hilfeplangespräch",
    DeadlineKind.report: "Bericht",
    DeadlineKind.coordination: "Abstimmungsgespräch",
    DeadlineKind.annual_report: "Jahresbericht",
}

MEETING_KIND_LABEL: Final[dict[MeetingKind, str]] = {
    MeetingKind.hpg: "Hilfeplangespräch",
    MeetingKind.closing: "Abschlussgespräch",
}

SESSION_KIND_LABEL: Final[dict[SessionKind, str]] = {
    SessionKind.session: "Sitzung",
    SessionKind.workshop: "Workshop",
}


def fmt_date(d: date) -> str:
    """17.04.2025"""
    return f"{d.day:02d}.{d.month:02d}.{d.year:04d}"


def fmt_date_wd(d: date) -> str:
    """Do 17.04.2025"""
    return f"{WEEKDAY_SHORT[d.weekday()]} {fmt_date(d)}"


def fmt_time(t: time | datetime) -> str:
    """09:00"""
    return f"{t.hour:02d}:{t.minute:02d}"


def fmt_datetime(dt: datetime) -> str:
    """Do 17.04.2025, 09:00 – in dt's own time zone (convert before calling)."""
    return f"{fmt_date_wd(dt.date())}, {fmt_time(dt)}"


def fmt_hours(minutes: int) -> str:
    """Minutes as German decimal hours: 90 -> "1,5 Std.", 20 -> "0,33 Std."."""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{hours:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return f"{text.replace('.', ',')} Std."


def fmt_days_relative(due: date, today: date) -> str:
    """How far a due date is from today, in words ("morgen", "seit 2 Tagen überfällig")."""
    days = (due - today).days
    if days == 0:
        return "heute"
    if days == 1:
        return "morgen"
    if days > 1:
        return f"in {days} Tagen"
    if days == -1:
        return "gestern fällig"
    return f"seit {-days} Tagen überfällig"
