"""Pure rotation maths with swaps and overrides (issue 6), and the parsing of its inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.commands.reachability import parse_presence
from bot.errors import UserError
from bot.parsing.text import parse_short_text
from bot.rota_common import parse_range
from scheduler.rota import RotaSpec, shift_of
from scheduler.rota_duties import Override, Swap, duties, duty_at, gaps

BERLIN = ZoneInfo("Europe/Berlin")
A, B, C, D = 1, 2, 3, 4
WEEKLY = RotaSpec.single(date(2025, 3, 17), time(9), 7, (A, B, C), BERLIN)


def at(day: int, month: int, hour: int = 12, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("instant", "holder", "number"),
    [
        (at(17, 3, 8, 59), None, None),  # before the first handover
        (at(17, 3, 9), A, 0),
        (at(24, 3, 8, 59), A, 0),
        (at(24, 3, 9), B, 1),
        (at(31, 3, 8, 59), B, 1),  # across the spring change (30.03.)
        (at(31, 3, 9), C, 2),
        (datetime(2025, 3, 31, 7, 0, tzinfo=UTC), C, 2),  # 09:00 summer time
        (at(27, 10, 8, 59), B, 31),  # autumn change on 26.10.
        (datetime(2025, 10, 27, 8, 0, tzinfo=UTC), C, 32),  # 09:00 winter time
    ],
)
def test_handovers_keep_wall_clock_time_across_dst(
    instant: datetime, holder: int | None, number: int | None
) -> None:
    duty = duty_at(WEEKLY, instant)
    assert (duty and duty.staff_id, duty and duty.shift.number) == (holder, number)


def test_the_spring_shift_lasts_167_hours_the_autumn_one_169() -> None:
    spring = shift_of(WEEKLY, at(25, 3))
    autumn = shift_of(WEEKLY, at(21, 10))
    assert spring.end.astimezone(UTC) - spring.start.astimezone(UTC) == timedelta(hours=167)
    assert autumn.end.astimezone(UTC) - autumn.start.astimezone(UTC) == timedelta(hours=169)


def test_a_swap_exchanges_two_shifts_and_a_handover_gives_one_away() -> None:
    swap = Swap(1, shift_a=4, holder_a=B, holder_b=C, shift_b=5)  # 14.04. <-> 21.04.
    assert duty_at(WEEKLY, at(15, 4), swaps=[swap]).staff_id == C  # type: ignore[union-attr]
    assert duty_at(WEEKLY, at(22, 4), swaps=[swap]).staff_id == B  # type: ignore[union-attr]
    give = Swap(2, shift_a=6, holder_a=A, holder_b=D)
    assert duty_at(WEEKLY, at(29, 4), swaps=[swap, give]).staff_id == D  # type: ignore[union-attr]
    # A swap whose holder no longer matches (the shift changed meanwhile) does nothing.
    stale = Swap(3, shift_a=4, holder_a=A, holder_b=D)
    assert duty_at(WEEKLY, at(15, 4), swaps=[stale]).staff_id == B  # type: ignore[union-attr]


def test_an_override_splits_a_shift_and_chains_through_an_absent_substitute() -> None:
    ill = Override(1, absent=B, substitute=C, start=at(15, 4, 0), end=at(17, 4, 0))
    parts = duties(WEEKLY, at(14, 4, 9), at(21, 4, 9), overrides=[ill])
    assert [(p.start, p.end, p.staff_id) for p in parts] == [
        (at(14, 4, 9), at(15, 4, 0), B),
        (at(15, 4, 0), at(17, 4, 0), C),
        (at(17, 4, 0), at(21, 4, 9), B),
    ]
    also = Override(2, absent=C, substitute=D, start=at(16, 4, 0), end=at(17, 4, 0))
    assert duty_at(WEEKLY, at(16, 4, 3), overrides=[ill, also]).staff_id == D  # type: ignore[union-attr]
    loop = Override(3, absent=C, substitute=B, start=at(15, 4, 0), end=at(17, 4, 0))
    assert duty_at(WEEKLY, at(15, 4, 3), overrides=[ill, loop]).staff_id in (B, C)  # type: ignore[union-attr]


def test_gaps_are_absent_or_inactive_holders_not_covered_by_an_override() -> None:
    leave = {B: [(date(2025, 4, 16), date(2025, 4, 18))]}
    found = gaps(WEEKLY, at(7, 4), at(28, 4), absences=leave, active={A, B, C})
    assert [(g.shift.number, g.staff_id, g.reason, g.first_day) for g in found] == [
        (4, B, "absent", date(2025, 4, 16))
    ]
    cover = Override(1, absent=B, substitute=A, start=at(16, 4, 0), end=at(19, 4, 0))
    assert (
        gaps(WEEKLY, at(7, 4), at(28, 4), overrides=[cover], absences=leave, active={A, B, C}) == []
    )
    gone = gaps(WEEKLY, at(7, 4), at(28, 4), absences={}, active={A, B})
    assert [(g.shift.number, g.staff_id, g.reason) for g in gone] == [(5, C, "missing")]


def test_daily_rotation_with_custom_length() -> None:
    daily = RotaSpec.single(date(2025, 4, 7), time(18), 1, (A, B), BERLIN)
    assert duty_at(daily, at(7, 4, 17, 59)) is None
    assert duty_at(daily, at(7, 4, 23)).staff_id == A  # type: ignore[union-attr]
    assert duty_at(daily, at(8, 4, 18)).staff_id == B  # type: ignore[union-attr]
    three = RotaSpec.single(date(2025, 4, 7), time(8), 3, (A, B), BERLIN)
    assert duty_at(three, at(10, 4, 7, 59)).staff_id == A  # type: ignore[union-attr]
    assert duty_at(three, at(10, 4, 8)).staff_id == B  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "Bitte dringend zurückrufen, HB-2025-017",
        "Krise in Familie HB-2026-011, Rückruf",
        "Mutter ruft an, bitte melden",
        "Inobhutnahme nötig?",
    ],
)
def test_short_text_accepts_messages_without_names(text: str) -> None:
    assert parse_short_text(text, 160) == text


@pytest.mark.parametrize(
    "text",
    ["Familie Müller ruft an", "Frau K. braucht Hilfe", "Kind Kevin weg", "Herrn Özdemir anrufen"],
)
def test_short_text_refuses_names_without_echoing_them(text: str) -> None:
    with pytest.raises(UserError) as err:
        parse_short_text(text, 160)
    assert "Namen" in err.value.message and text.split()[1] not in err.value.message


def test_presence_and_date_ranges() -> None:
    rows = parse_presence("Di-Do 08-16 Fr homeoffice 08-14")
    assert rows == [
        (1, time(8), time(16), False),
        (2, time(8), time(16), False),
        (3, time(8), time(16), False),
        (4, time(8), time(14), True),
    ]
    with pytest.raises(UserError):
        parse_presence("Mo 08-12 Mo 13-16")
    today = date(2025, 4, 7)
    assert parse_range("14.04.-18.04.", today) == (date(2025, 4, 14), date(2025, 4, 18))
    assert parse_range("bis 18.04.", today) == (today, date(2025, 4, 18))
    assert parse_range("14.04.2025 bis 25.04.2025", today) == (date(2025, 4, 14), date(2025, 4, 25))
    assert parse_range("heute", today) == (today, today)
    with pytest.raises(UserError):
        parse_range("18.04.-14.04.", today)
