"""PNG charts of the hours controlling (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: render to bytes, never to a screen

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bot.controlling_texts import percent
from bot.formatting import CATEGORY_LABEL, STAFF_TYPE_LABEL, WEEKDAY_SHORT
from config.enums import HoursCategory, StaffType
from scheduler.controlling import Quarter, QuarterResult, QuarterState

PNG = "image/png"
_COLORS: dict[StaffType | None, str] = {
    StaffType.fachkraft: "#1f5f8b",
    StaffType.semiprofessional: "#6fa8dc",
    None: "#999999",
}
_CATEGORY_COLORS: dict[HoursCategory, str] = {
    HoursCategory.direct: "#1f5f8b",
    HoursCategory.group: "#6fa8dc",
    HoursCategory.non_case: "#93c47d",
    HoursCategory.network: "#f6b26b",
    HoursCategory.informal_advice: "#c27ba0",
    HoursCategory.missed: "#cc4125",
}
# Figures are built with the object API (no pyplot state), but matplotlib's font cache and
# renderer are not documented as thread-safe, and commands run in worker threads.
_LOCK = threading.Lock()


def _de(value: float, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    return out.getvalue()


def quarter_chart(
    title: str,
    results: Sequence[QuarterResult],
    by_type: Mapping[Quarter, Mapping[StaffType | None, int]],
    threshold_percent: int,
    types: Sequence[StaffType | None] = (),
) -> bytes:
    """Direct hours per quarter, stacked by staff type, against the target and the 90 % line.

    `types`: the staff types that logged hours in the period; each gets a legend entry with
    its direct hours, also at 0 (H4: semiprofessional staff without direct hours).
    """
    with _LOCK:
        return _png(quarter_figure(title, results, by_type, threshold_percent, types))


def quarter_figure(
    title: str,
    results: Sequence[QuarterResult],
    by_type: Mapping[Quarter, Mapping[StaffType | None, int]],
    threshold_percent: int,
    types: Sequence[StaffType | None] = (),
) -> Figure:
    """The figure of `quarter_chart` (callers hold `_LOCK` while drawing)."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    x = list(range(len(results)))
    bottoms = [0.0] * len(results)
    handles: list[Patch] = []
    shown = set(types)
    for staff_type in (StaffType.fachkraft, StaffType.semiprofessional, None):
        heights = [by_type.get(r.quarter, {}).get(staff_type, 0) / 60 for r in results]
        if not any(heights) and staff_type not in shown:
            continue
        if any(heights):
            ax.bar(x, heights, bottom=bottoms, color=_COLORS[staff_type], width=0.6)
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        label = STAFF_TYPE_LABEL[staff_type] if staff_type else "ohne Typ"
        handles.append(Patch(color=_COLORS[staff_type], label=f"{label} ({_hours(sum(heights))})"))
    top = max(bottoms, default=0.0)
    for i, r in enumerate(results):
        if r.state is QuarterState.running and r.forecast_minutes is not None:
            ax.bar(
                [i],
                [r.forecast_minutes / 60],
                width=0.6,
                fill=False,
                hatch="//",
                edgecolor="#555555",
            )
            top = max(top, r.forecast_minutes / 60)
        if r.target_minutes:
            target = r.target_minutes / 60
            top = max(top, target)
            ax.hlines(target, i - 0.4, i + 0.4, colors="black", linewidth=2)
            ax.hlines(
                target * threshold_percent / 100,
                i - 0.4,
                i + 0.4,
                colors="#cc0000",
                linestyles="dashed",
                linewidth=1.5,
            )
        if r.percent is not None and r.state is not QuarterState.future:
            ax.annotate(
                percent(r.percent),  # 90,3 %, as the text says: never rounded up to the line
                (i, bottoms[i]),
                ha="center",
                va="bottom",
                fontsize=9,
            )
    handles.append(Patch(facecolor="white", edgecolor="black", label="Soll (Vertrag)"))
    handles.append(
        Patch(
            facecolor="white",
            edgecolor="#cc0000",
            linestyle="--",
            label=f"{threshold_percent} %",
        )
    )
    if any(r.state is QuarterState.running for r in results):
        handles.append(Patch(fill=False, hatch="//", edgecolor="#555555", label="Prognose"))
    ax.set_xticks(x, [r.quarter.label for r in results], fontsize=10)
    # Hours start at 0; headroom for the percentages above the bars.
    ax.set_ylim(0, max(top, 1.0) * 1.12)
    ax.set_ylabel("Stunden am Klienten")
    ax.set_title(title)
    ax.yaxis.set_major_formatter(lambda v, _pos: _de(v))
    ax.legend(handles=handles, fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def person_chart(
    title: str, first: date, last: date, daily: Mapping[date, Mapping[HoursCategory, int]]
) -> bytes:
    """One person's hours per day of a week or month, stacked by category."""
    with _LOCK:
        return _png(person_figure(title, first, last, daily))


def person_figure(
    title: str, first: date, last: date, daily: Mapping[date, Mapping[HoursCategory, int]]
) -> Figure:
    """The figure of `person_chart` (callers hold `_LOCK` while drawing)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    week = len(days) <= 7
    fig = Figure(figsize=(8, 4) if week else (11, 4.5))
    ax = fig.add_subplot()
    x = list(range(len(days)))
    bottoms = [0.0] * len(days)
    handles: list[Patch] = []
    for category in HoursCategory:
        heights = [daily.get(d, {}).get(category, 0) / 60 for d in days]
        if not any(heights):
            continue
        ax.bar(x, heights, bottom=bottoms, color=_CATEGORY_COLORS[category], width=0.7)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        handles.append(Patch(color=_CATEGORY_COLORS[category], label=CATEGORY_LABEL[category]))
    # Two lines per day (weekday, date), large enough to read on a phone (issue 14).
    if week:
        labels = [f"{WEEKDAY_SHORT[d.weekday()]}\n{d.day:02d}.{d.month:02d}." for d in days]
    else:
        labels = [f"{WEEKDAY_SHORT[d.weekday()]}\n{d.day}." for d in days]
    ax.set_xticks(x, labels, fontsize=10 if week else 9)
    for tick, d in zip(ax.get_xticklabels(), days, strict=True):
        if d.weekday() >= 5:
            tick.set_color("#888888")
    ax.set_xlim(-0.6, len(days) - 0.4)
    ax.set_ylim(0, max(max(bottoms, default=0.0), 1.0) * 1.12)
    ax.set_ylabel("Stunden")
    ax.set_title(title)
    ax.yaxis.set_major_formatter(lambda v, _pos: _de(v, 1))
    if handles:
        ax.legend(handles=handles, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def _hours(value: float) -> str:
    return f"{_de(value, 1).removesuffix(',0')} Std."
