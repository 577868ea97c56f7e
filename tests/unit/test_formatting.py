"""Table-driven tests for bot.formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

import pytest

from bot.formatting import (
    CATEGORY_LABEL,
    DEADLINE_KIND_LABEL,
    LEGAL_BASIS_LABEL,
    MEETING_KIND_LABEL,
    MISSED_REASON_LABEL,
    SESSION_KIND_LABEL,
    STAFF_TYPE_LABEL,
    WEEKDAY_LONG,
    WEEKDAY_SHORT,
    fmt_date,
    fmt_date_wd,
    fmt_datetime,
    fmt_days_relative,
    fmt_hours,
    fmt_time,
)
from config.enums import (
    DeadlineKind,
    HoursCategory,
    LegalBasis,
    MeetingKind,
    MissedReason,
    SessionKind,
    StaffType,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("d", "plain", "with_weekday"),
    [
        (date(2025, 4, 17), "17.04.2025", "Do 17.04.2025"),
        (date(2023, 3, 20), "20.03.2023", "Mo 20.03.2023"),  # DOMAIN.md A2
        (date(2025, 4, 22), "22.04.2025", "Di 22.04.2025"),
        (date(2026, 1, 4), "04.01.2026", "So 04.01.2026"),
    ],
)
def test_fmt_date(d: date, plain: str, with_weekday: str) -> None:
    assert fmt_date(d) == plain
    assert fmt_date_wd(d) == with_weekday


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (time(9), "09:00"),
        (time(14, 5, 59), "14:05"),
        (datetime(2025, 4, 17, 23, 30, tzinfo=BERLIN), "23:30"),
    ],
)
def test_fmt_time(value: time | datetime, expected: str) -> None:
    assert fmt_time(value) == expected


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (datetime(2025, 4, 17, 9, 0, tzinfo=BERLIN), "Do 17.04.2025, 09:00"),
        # formatted in its own zone, not converted
        (datetime(2025, 4, 17, 22, 30, tzinfo=UTC), "Do 17.04.2025, 22:30"),
        (
            datetime(2025, 4, 17, 22, 30, tzinfo=UTC).astimezone(BERLIN),
            "Fr 18.04.2025, 00:30",
        ),
    ],
)
def test_fmt_datetime(dt: datetime, expected: str) -> None:
    assert fmt_datetime(dt) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (90, "1,5 Std."),
        (60, "1 Std."),
        (75, "1,25 Std."),
        (20, "0,33 Std."),
        (40, "0,67 Std."),
        (0, "0 Std."),
        (1, "0,02 Std."),
        (600, "10 Std."),
        (-90, "-1,5 Std."),
        (123456, "2057,6 Std."),
    ],
)
def test_fmt_hours(minutes: int, expected: str) -> None:
    assert fmt_hours(minutes) == expected


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (date(2025, 4, 16), "heute"),
        (date(2025, 4, 17), "morgen"),
        (date(2025, 4, 18), "in 2 Tagen"),
        (date(2025, 4, 19), "in 3 Tagen"),
        (date(2025, 4, 15), "gestern fällig"),
        (date(2025, 4, 14), "seit 2 Tagen überfällig"),
        (date(2025, 3, 16), "seit 31 Tagen überfällig"),
    ],
)
def test_fmt_days_relative(due: date, expected: str) -> None:
    assert fmt_days_relative(due, date(2025, 4, 16)) == expected


def test_weekday_names() -> None:
    assert WEEKDAY_SHORT == ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
    assert WEEKDAY_LONG[0] == "Montag"
    assert WEEKDAY_LONG[6] == "Sonntag"
    assert len(WEEKDAY_LONG) == 7


@pytest.mark.parametrize(
    ("labels", "enum"),
    [
        (LEGAL_BASIS_LABEL, LegalBasis),
        (CATEGORY_LABEL, HoursCategory),
        (MISSED_REASON_LABEL, MissedReason),
        (STAFF_TYPE_LABEL, StaffType),
        (DEADLINE_KIND_LABEL, DeadlineKind),
        (MEETING_KIND_LABEL, MeetingKind),
        (SESSION_KIND_LABEL, SessionKind),
    ],
)
def test_every_enum_member_has_a_label(labels: dict[StrEnum, str], enum: type[StrEnum]) -> None:
    assert set(labels) == set(enum)
    assert all(label.strip() for label in labels.values())


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        (LEGAL_BASIS_LABEL[LegalBasis.p27_2], "§ 27 Abs. 2 SGB VIII"),
        (LEGAL_BASIS_LABEL[LegalBasis.p30], "§ 30 SGB VIII"),
        (STAFF_TYPE_LABEL[StaffType.fachkraft], "Fachkraft"),
        (STAFF_TYPE_LABEL[StaffType.semiprofessional], "semiprofessionell"),
        (DEADLINE_KIND_LABEL[DeadlineKind.action_plan], "Handlungsplan"),
        (DEADLINE_KIND_LABEL[DeadlineKind.help_plan_review], "Folge-Hilfeplangespräch"),
        (DEADLINE_KIND_LABEL[DeadlineKind.report], "Bericht"),
        (DEADLINE_KIND_LABEL[DeadlineKind.coordination], "Abstimmungsgespräch"),
        (DEADLINE_KIND_LABEL[DeadlineKind.annual_report], "Jahresbericht"),
        (MEETING_KIND_LABEL[MeetingKind.hpg], "Hilfeplangespräch"),
        (MEETING_KIND_LABEL[MeetingKind.closing], "Abschlussgespräch"),
    ],
)
def test_labels(label: str, expected: str) -> None:
    assert label == expected
