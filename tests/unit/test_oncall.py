from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.oncall import Shift, local_today, shift_at

BERLIN = ZoneInfo("Europe/Berlin")
ANCHOR = date(2026, 1, 5)  # a Monday
NINE = time(9, 0)


def weekly(now: datetime) -> Shift:
    return shift_at(now, anchor=ANCHOR, handover=NINE, shift_days=7, members=3, tz=BERLIN)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("now", "index", "start", "end"),
    [
        (berlin(2026, 1, 5, 9, 0), 0, berlin(2026, 1, 5, 9), berlin(2026, 1, 12, 9)),
        (berlin(2026, 1, 12, 8, 59), 0, berlin(2026, 1, 5, 9), berlin(2026, 1, 12, 9)),
        (berlin(2026, 1, 12, 9, 0), 1, berlin(2026, 1, 12, 9), berlin(2026, 1, 19, 9)),
        (berlin(2026, 1, 18, 23, 59), 1, berlin(2026, 1, 12, 9), berlin(2026, 1, 19, 9)),
        (berlin(2026, 1, 19, 9, 0), 2, berlin(2026, 1, 19, 9), berlin(2026, 1, 26, 9)),
        (berlin(2026, 1, 26, 9, 0), 0, berlin(2026, 1, 26, 9), berlin(2026, 2, 2, 9)),
        # Before the anchor the rotation runs backwards: shift -1 is member 2.
        (berlin(2026, 1, 5, 8, 59), 2, berlin(2025, 12, 29, 9), berlin(2026, 1, 5, 9)),
        (berlin(2026, 1, 1, 12, 0), 2, berlin(2025, 12, 29, 9), berlin(2026, 1, 5, 9)),
        (berlin(2025, 12, 29, 8, 59), 1, berlin(2025, 12, 22, 9), berlin(2025, 12, 29, 9)),
        (berlin(2025, 12, 10, 12, 0), 2, berlin(2025, 12, 8, 9), berlin(2025, 12, 15, 9)),
    ],
)
def test_weekly_rotation(now: datetime, index: int, start: datetime, end: datetime) -> None:
    assert weekly(now) == Shift(index=index, start=start, end=end)


def test_until_is_next_handover() -> None:
    shift = weekly(berlin(2026, 2, 4, 15, 0))
    assert shift.end == berlin(2026, 2, 9, 9, 0)
    assert weekly(shift.end).start == shift.end
    assert weekly(shift.end - timedelta(microseconds=1)) == shift


def test_now_given_in_utc() -> None:
    # 08:00 UTC is 09:00 CET: exactly the handover.
    shift = weekly(datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    assert shift.index == 1
    assert shift.start.tzinfo is BERLIN
    assert weekly(datetime(2026, 1, 12, 7, 59, tzinfo=UTC)).index == 0


@pytest.mark.parametrize(
    ("now_utc", "index"),
    [
        # 29.03.2026: clocks go forward. Handover Mon 30.03. 09:00 CEST = 07:00 UTC.
        (datetime(2026, 3, 30, 6, 59, tzinfo=UTC), 2),
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), 0),
        # 25.10.2026: clocks go back. Handover Mon 26.10. 09:00 CET = 08:00 UTC.
        (datetime(2026, 10, 26, 7, 59, tzinfo=UTC), 2),
        (datetime(2026, 10, 26, 8, 0, tzinfo=UTC), 0),
    ],
)
def test_handover_stays_at_nine_across_dst(now_utc: datetime, index: int) -> None:
    assert weekly(now_utc).index == index


@pytest.mark.parametrize(
    ("now", "hours", "offset_before", "offset_after"),
    [
        (berlin(2026, 3, 29, 12, 0), 167, 1, 2),  # spring: the shift is one hour shorter
        (berlin(2026, 10, 25, 12, 0), 169, 2, 1),  # autumn: one hour longer
    ],
)
def test_dst_shift_keeps_wall_clock(
    now: datetime, hours: int, offset_before: int, offset_after: int
) -> None:
    shift = weekly(now)
    assert (shift.start.hour, shift.start.minute) == (9, 0)
    assert (shift.end.hour, shift.end.minute) == (9, 0)
    assert shift.start.utcoffset() == timedelta(hours=offset_before)
    assert shift.end.utcoffset() == timedelta(hours=offset_after)
    assert shift.end.astimezone(UTC) - shift.start.astimezone(UTC) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("now", "index", "start", "end"),
    [
        (berlin(2026, 3, 28, 7, 30), 0, berlin(2026, 3, 28, 7, 30), berlin(2026, 3, 29, 7, 30)),
        (berlin(2026, 3, 29, 7, 29), 0, berlin(2026, 3, 28, 7, 30), berlin(2026, 3, 29, 7, 30)),
        (berlin(2026, 3, 29, 7, 30), 1, berlin(2026, 3, 29, 7, 30), berlin(2026, 3, 30, 7, 30)),
        (berlin(2026, 3, 30, 12, 0), 0, berlin(2026, 3, 30, 7, 30), berlin(2026, 3, 31, 7, 30)),
        (berlin(2026, 3, 27, 12, 0), 1, berlin(2026, 3, 27, 7, 30), berlin(2026, 3, 28, 7, 30)),
    ],
)
def test_daily_rotation(now: datetime, index: int, start: datetime, end: datetime) -> None:
    shift = shift_at(
        now, anchor=date(2026, 3, 28), handover=time(7, 30), shift_days=1, members=2, tz=BERLIN
    )
    assert shift == Shift(index=index, start=start, end=end)


def test_single_member_is_always_on_call() -> None:
    shift = shift_at(
        berlin(2030, 6, 1, 3, 0), anchor=ANCHOR, handover=NINE, shift_days=7, members=1, tz=BERLIN
    )
    assert shift.index == 0


def test_handover_in_spring_gap_moves_to_real_instant() -> None:
    # 02:30 does not exist on 29.03.2026; the handover happens at 03:30 CEST (01:30 UTC).
    def daily(now: datetime) -> Shift:
        return shift_at(
            now, anchor=date(2026, 3, 1), handover=time(2, 30), shift_days=1, members=2, tz=BERLIN
        )

    shift = daily(datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert shift.start == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert (shift.start.hour, shift.start.minute) == (3, 30)
    assert daily(datetime(2026, 3, 29, 1, 29, tzinfo=UTC)).end == shift.start


def test_handover_in_autumn_overlap_uses_first_occurrence() -> None:
    # 02:30 happens twice on 25.10.2026; the handover is the first (CEST, 00:30 UTC), and the
    # second 02:15 (CET, 01:15 UTC) already belongs to the new shift.
    def daily(now: datetime) -> Shift:
        return shift_at(
            now, anchor=date(2026, 10, 1), handover=time(2, 30), shift_days=1, members=2, tz=BERLIN
        )

    new = daily(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    # Compare in UTC: == across zones is always False for a time in the repeated hour (PEP 495).
    assert new.start.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert daily(datetime(2026, 10, 25, 1, 15, tzinfo=UTC)) == new
    assert daily(datetime(2026, 10, 25, 0, 29, tzinfo=UTC)).end == new.start
    assert new.end.astimezone(UTC) - new.start.astimezone(UTC) == timedelta(hours=25)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"members": 0}, "members must be at least 1"),
        ({"shift_days": 0}, "shift_days must be at least 1"),
        ({"now": datetime(2026, 1, 12, 9, 0)}, "must be timezone-aware"),
        ({"handover": time(9, 0, tzinfo=UTC)}, "handover must be a wall-clock time"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "now": berlin(2026, 1, 12, 9, 0),
        "anchor": ANCHOR,
        "handover": NINE,
        "shift_days": 7,
        "members": 3,
        "tz": BERLIN,
    } | kwargs
    with pytest.raises(ValueError, match=message):
        shift_at(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), date(2026, 1, 1)),
        (datetime(2026, 7, 1, 21, 59, tzinfo=UTC), date(2026, 7, 1)),
        (datetime(2026, 7, 1, 22, 0, tzinfo=UTC), date(2026, 7, 2)),
        (berlin(2026, 3, 29, 0, 30), date(2026, 3, 29)),
    ],
)
def test_local_today(now: datetime, today: date) -> None:
    assert local_today(now, BERLIN) == today


def test_local_today_rejects_naive() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        local_today(datetime(2026, 1, 1, 12, 0), BERLIN)
