"""The controlling charts as drawn (issue 14): axes from 0, percentages as the text shows them,
every staff type that logged hours in the legend, day labels large enough for a phone."""

from __future__ import annotations

from datetime import date

from matplotlib.figure import Figure

from bot import charts
from config.enums import HoursCategory, StaffType
from scheduler.controlling import Quarter, QuarterResult, QuarterState

Q3 = Quarter(2026, 3)


def _legend(fig: Figure) -> list[str]:
    (ax,) = fig.axes
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def test_the_axis_starts_at_zero_and_90_3_percent_is_not_rounded() -> None:
    met = QuarterResult(Q3, 600 * 30, 542 * 30, QuarterState.met)  # 271 h of 300 h = 90,3 %
    fig = charts.quarter_figure(
        "Q3/2026", [met], {Q3: {StaffType.fachkraft: 542 * 30}}, 90, [StaffType.fachkraft]
    )
    (ax,) = fig.axes
    low, high = ax.get_ylim()
    assert low == 0 and high > 300  # the target (300 h) and the label above the bar fit
    assert [t.get_text() for t in ax.texts] == ["90,3 %"]


def test_every_staff_type_that_logged_hours_is_in_the_legend() -> None:
    """H4: semiprofessional staff with group and non-case work only still appear, at 0."""
    r = QuarterResult(Q3, 600, 300, QuarterState.short)
    fig = charts.quarter_figure(
        "Q3/2026",
        [r],
        {Q3: {StaffType.fachkraft: 300}},
        90,
        [StaffType.fachkraft, StaffType.semiprofessional],
    )
    assert _legend(fig)[:2] == ["Fachkraft (5 Std.)", "semiprofessionell (0 Std.)"]


def test_a_month_has_readable_day_labels() -> None:
    first, last = date(2026, 12, 1), date(2026, 12, 31)
    fig = charts.person_figure(
        "JB · 12/2026", first, last, {date(2026, 12, 1): {HoursCategory.direct: 90}}
    )
    (ax,) = fig.axes
    labels = ax.get_xticklabels()
    assert [t.get_text() for t in labels[:3]] == ["Di\n1.", "Mi\n2.", "Do\n3."]
    assert len(labels) == 31 and all(t.get_fontsize() >= 9 for t in labels)
    assert labels[4].get_color() == "#888888"  # Sat 05.12.
    assert tuple(fig.get_size_inches()) == (11, 4.5)
    assert ax.get_ylim()[0] == 0


def test_a_week_is_labelled_with_weekday_and_date() -> None:
    first, last = date(2026, 11, 30), date(2026, 12, 6)
    fig = charts.person_figure("JB · KW 49/2026", first, last, {})
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[0] == "Mo\n30.11." and labels[-1] == "So\n06.12."
