from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.clock import Clock, FixedClock, SystemClock

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)


def test_fixed_clock_stands_still() -> None:
    clock: Clock = FixedClock(START)
    assert clock.now() == START
    assert clock.now() == START


def test_advance_is_elapsed_time() -> None:
    clock = FixedClock(START)
    # Across the spring-forward gap three real hours end at 04:30 CEST, not 03:30.
    after = clock.advance(timedelta(hours=3))
    assert after == clock.now()
    assert after.astimezone(UTC) == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert (after.hour, after.minute, after.tzinfo) == (4, 30, BERLIN)


def test_set_jumps() -> None:
    clock = FixedClock(START)
    later = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    clock.set(later)
    assert clock.now() == later


@pytest.mark.parametrize("naive", [datetime(2026, 1, 1, 9, 0)])
def test_fixed_clock_rejects_naive(naive: datetime) -> None:
    with pytest.raises(ValueError, match="aware"):
        FixedClock(naive)
    clock = FixedClock(START)
    with pytest.raises(ValueError, match="aware"):
        clock.set(naive)


def test_system_clock_is_aware_in_its_zone() -> None:
    clock: Clock = SystemClock(BERLIN)
    assert clock.now().tzinfo is BERLIN
