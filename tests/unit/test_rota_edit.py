"""Rule maths of rotation edits (issue 15): where a new version begins, that begun shifts never
change, DST, swaps and overrides an edit makes void, and the cost of an old rotation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.rota import RotaSpec, base_holder, shift_by_number, shift_of
from scheduler.rota_duties import Override, Swap, duties, duty_and_next, duty_at, next_duty
from scheduler.rota_edit import (
    RuleChange,
    next_duties,
    plan_edit,
    plan_end,
    void_overrides,
    void_swaps,
)

BERLIN = ZoneInfo("Europe/Berlin")
A, B, C, D = 1, 2, 3, 4
# Weekly from Mon 17.03.2025 09:00: #3 A (07.04.), #4 B (14.04.), #5 C (21.04.), #6 A ...
WEEKLY = RotaSpec.single(date(2025, 3, 17), time(9), 7, (A, B, C), BERLIN)


def at(day: int, month: int, hour: int = 12, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def schedule(
    spec: RotaSpec, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, int]]:
    return [(d.start, d.end, d.staff_id) for d in duties(spec, start, end)]


def test_past_and_running_shifts_never_change() -> None:
    now = at(9, 4, 10)  # A's shift 07.04.-14.04. is running
    for change in (
        RuleChange(members=(D, C)),
        RuleChange(shift_days=1),
        RuleChange(handover=time(18), weekday=2),
        RuleChange(first=C),
    ):
        plan = plan_edit(WEEKLY, change, date(2025, 4, 9), now)
        assert schedule(plan.spec, at(1, 1), now) == schedule(WEEKLY, at(1, 1), now)
        assert duty_at(plan.spec, now) == duty_at(WEEKLY, now)
        assert plan.effective >= at(14, 4, 9)  # not before the running shift ends


def test_a_new_member_joins_at_the_next_handover_in_order() -> None:
    plan = plan_edit(WEEKLY, RuleChange(members=(A, B, C, D)), date(2025, 4, 9), at(9, 4, 10))
    assert plan.effective == at(14, 4, 9) and plan.kept is None
    assert plan.rule.first_number == 4  # the replaced shift keeps its number
    assert schedule(plan.spec, at(14, 4, 9), at(12, 5, 9)) == [
        (at(14, 4, 9), at(21, 4, 9), B),  # after A comes B, as before
        (at(21, 4, 9), at(28, 4, 9), C),
        (at(28, 4, 9), at(5, 5, 9), D),
        (at(5, 5, 9), at(12, 5, 9), A),
    ]
    # Shifts whose times and person stayed keep their numbers: a swap on them still holds.
    assert [shift_by_number(plan.spec, n) for n in (4, 5)] == [
        shift_by_number(WEEKLY, n) for n in (4, 5)
    ]


def test_a_change_mid_shift_waits_for_the_running_shift() -> None:
    # Daily from today: the first daily handover (Thu 10.04. 09:00) falls into A's running
    # week, so the change begins when that week ends.
    plan = plan_edit(WEEKLY, RuleChange(shift_days=1), date(2025, 4, 9), at(9, 4, 10))
    assert plan.kept is not None and (plan.kept.start, plan.kept.end) == (at(7, 4, 9), at(14, 4, 9))
    assert schedule(plan.spec, at(14, 4, 9), at(17, 4, 9)) == [
        (at(14, 4, 9), at(15, 4, 9), B),
        (at(15, 4, 9), at(16, 4, 9), C),
        (at(16, 4, 9), at(17, 4, 9), A),
    ]


def test_a_new_handover_weekday_cuts_a_planned_shift_short() -> None:
    plan = plan_edit(
        WEEKLY, RuleChange(handover=time(8), weekday=2), date(2025, 4, 16), at(9, 4, 10)
    )
    assert plan.effective == at(16, 4, 8) and plan.kept is None
    assert schedule(plan.spec, at(14, 4, 9), at(30, 4, 8)) == [
        (at(14, 4, 9), at(16, 4, 8), B),  # B's week ends at the first Wednesday handover
        (at(16, 4, 8), at(23, 4, 8), C),
        (at(23, 4, 8), at(30, 4, 8), A),
    ]


def test_a_later_handover_time_stretches_one_shift_instead_of_leaving_an_hour() -> None:
    plan = plan_edit(WEEKLY, RuleChange(handover=time(10)), date(2025, 4, 14), at(9, 4, 10))
    assert schedule(plan.spec, at(14, 4, 9), at(28, 4, 10)) == [
        (at(14, 4, 9), at(21, 4, 10), B),
        (at(21, 4, 10), at(28, 4, 10), C),
    ]
    assert plan.rule.first_number == 4


def test_an_edit_across_the_spring_change_keeps_wall_clock_handovers() -> None:
    # Thu 27.03.: daily from Sat 29.03.; the running week (24.03.-31.03.) stays whole and
    # lasts 167 hours across the change in the night to Sun 30.03.
    plan = plan_edit(WEEKLY, RuleChange(shift_days=1), date(2025, 3, 29), at(27, 3, 10))
    assert plan.kept is not None
    assert plan.kept.end.astimezone(UTC) - plan.kept.start.astimezone(UTC) == timedelta(hours=167)
    first = shift_of(plan.spec, at(31, 3, 12))
    assert first is not None and first.start == datetime(2025, 3, 31, 7, 0, tzinfo=UTC)  # 09:00
    assert first.end - first.start == timedelta(hours=24)


def test_an_autumn_handover_in_the_repeated_hour() -> None:
    daily = RotaSpec.single(date(2025, 10, 20), time(2, 30), 1, (A, B), BERLIN)
    plan = plan_edit(daily, RuleChange(members=(A, B, C)), date(2025, 10, 25), at(22, 10, 12))
    long = shift_of(plan.spec, at(26, 10, 12))
    assert long is not None
    assert long.start == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # the first 02:30 (summer)
    assert long.end - long.start == timedelta(hours=25)


def test_ending_keeps_the_running_shift_and_voids_what_follows() -> None:
    plan = plan_end(WEEKLY, date(2025, 4, 9), at(9, 4, 10))
    assert plan.kept is not None and plan.effective == at(14, 4, 9)
    assert duty_at(plan.spec, at(13, 4, 23)) is not None
    assert duty_at(plan.spec, at(14, 4, 9)) is None
    assert duties(plan.spec, at(14, 4, 9), at(1, 6)) == []
    later = plan_end(WEEKLY, date(2025, 5, 1), at(9, 4, 10))
    assert schedule(later.spec, at(28, 4, 9), at(10, 5)) == [(at(28, 4, 9), at(1, 5, 9), A)]
    with pytest.raises(ValueError):
        plan_end(later.spec, date(2025, 5, 5), at(9, 4, 10))
    # Started again later: the order goes on after the last holder.
    again = plan_edit(later.spec, RuleChange(), date(2025, 6, 2), at(9, 4, 10))
    assert schedule(again.spec, at(2, 6, 9), at(9, 6, 9)) == [(at(2, 6, 9), at(9, 6, 9), B)]


def test_a_removed_member_with_future_swaps_voids_only_the_swaps_that_changed() -> None:
    # From 21.04. B leaves: 14.04. stays B's, 21.04. C, 28.04. A, 05.05. C (was B), 12.05. A,
    # 19.05. C, 26.05. A (was B) ...
    now = at(9, 4, 10)
    plan = plan_edit(WEEKLY, RuleChange(members=(A, C)), date(2025, 4, 21), now)
    before_end = shift_by_number(WEEKLY, 7)
    after_end = shift_by_number(plan.spec, 7)
    assert before_end is not None and after_end is not None
    assert (base_holder(WEEKLY, before_end), base_holder(plan.spec, after_end)) == (B, C)
    keeps = Swap(1, shift_a=4, holder_a=B, holder_b=D)  # B's 14.04., before the change
    also = Swap(2, shift_a=5, holder_a=C, holder_b=A, shift_b=6)  # 21.04. and 28.04.: same
    gone = Swap(3, shift_a=7, holder_a=B, holder_b=D)  # B's 05.05. is not B's any more
    assert void_swaps(WEEKLY, plan.spec, [keeps, also, gone], now) == [3]
    ill = Override(10, absent=B, substitute=D, start=at(27, 5, 0), end=at(28, 5, 0))
    early = Override(11, absent=B, substitute=D, start=at(15, 4, 0), end=at(16, 4, 0))
    assert void_overrides(
        WEEKLY,
        plan.spec,
        swaps_before=[keeps, also, gone],
        swaps_after=[keeps, also],
        overrides=[ill, early],
        now=now,
    ) == [10]
    # B's next duty is still 14.04. (given to D by swap 1: then none at all).
    found = next_duties(plan.spec, [B, C], now, swaps=[keeps, also], overrides=[])
    assert found[B] is None
    assert found[C] is not None and found[C].start == at(28, 4, 9)  # swapped with A


def test_a_rotation_ten_years_old_costs_the_same() -> None:
    old = RotaSpec.single(date(2015, 4, 6), time(9), 1, (A, B, C), BERLIN)
    plan = plan_edit(old, RuleChange(members=(A, B, C, D)), date(2025, 4, 9), at(9, 4, 10))
    shift = shift_of(plan.spec, at(20, 4, 12))
    assert shift is not None and shift.number > 3600
    # Ten years of daily shifts, yet the duty is found from the version in force alone: the
    # same answer as counting from the first handover.
    count = (date(2025, 4, 20) - date(2015, 4, 6)).days
    assert shift_of(old, at(20, 4, 12)) == shift_by_number(old, count)


def test_duty_and_next_agrees_with_duty_at_and_next_duty() -> None:
    plan = plan_edit(
        WEEKLY, RuleChange(members=(A, C), shift_days=1), date(2025, 4, 21), at(9, 4, 10)
    )
    ended = plan_end(plan.spec, date(2025, 5, 2), at(9, 4, 10)).spec
    overrides = [
        Override(1, absent=B, substitute=D, start=at(15, 4, 0), end=at(16, 4, 0)),
        Override(2, absent=D, substitute=C, start=at(15, 4, 6), end=at(15, 4, 8)),
    ]
    swaps = [Swap(3, shift_a=5, holder_a=C, holder_b=B)]
    for spec in (WEEKLY, plan.spec, ended):
        moment = at(7, 4, 0)
        while moment < at(6, 5, 0):
            found = duty_and_next(spec, moment, swaps=swaps, overrides=overrides)
            now = duty_at(spec, moment, swaps=swaps, overrides=overrides)
            following = (
                None if now is None else next_duty(spec, now, swaps=swaps, overrides=overrides)
            )
            assert found == (now, following), moment
            moment += timedelta(hours=5)
