"""The German text of an hours-controlling report (issue 7): figures, the 90 % rule, forecasts."""

from __future__ import annotations

from bot.controlling_report import Report
from bot.formatting import CATEGORY_LABEL, MISSED_REASON_LABEL, STAFF_TYPE_LABEL, fmt_date
from config.enums import HoursCategory, StaffType
from scheduler.controlling import (
    QuarterResult,
    QuarterState,
)
from scheduler.controlling_rule import catch_up, elapsed_share


def hours(minutes: float) -> str:
    """German hours with thousands separator and at most one decimal: 2.340,5 Std."""
    value = round(minutes / 60, 1)
    text = f"{value:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"{text.removesuffix(',0')} Std."


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def percent(value: float) -> str:
    text = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text} %"


def quarter_line(r: QuarterResult, threshold: int) -> str:
    """`Q2/2025: 1.980 Std. von 2.500 Std. = 79,2 % ⚠️ unter 90 %`"""
    head = f"{r.quarter.label}: {hours(r.delivered_minutes)}"
    if r.target_minutes is None:
        return f"{head} (kein Soll vereinbart)"
    pct = r.percent or 0.0
    head = f"{head} von {hours(r.target_minutes)} = {percent(pct)}"
    if r.state is QuarterState.running:
        if r.forecast_minutes is None:
            return f"{head} – läuft noch"
        projected = r.forecast_percent or 0.0
        mark = " ⚠️" if projected < threshold else ""
        return (
            f"{head} – läuft noch, Prognose {hours(r.forecast_minutes)} = "
            f"{percent(projected)}{mark} (zählt noch nicht)"
        )
    if r.state is QuarterState.future:
        return f"{r.quarter.label}: noch nicht begonnen (Soll {hours(r.target_minutes)})"
    if r.state is QuarterState.short:
        return f"{head} ⚠️ unter {threshold} %"
    return f"{head} ✅"


def rule_text(report: Report) -> list[str]:
    """The 90 % rule (H3) over its window: the quarters up to the last one ended, the running
    one as a forecast, and what it still needs (the same in /pruefen, /quartal and /jahr)."""
    rule = report.rule
    if report.contract is None or rule is None:
        return ["90-%-Regel: kein Vertrag hinterlegt (/vertrag)."]
    lines = [f"90-%-Regel ({report.needed} Quartale in Folge unter {report.threshold} %):"]
    shown = [*rule.ended, *([rule.running] if rule.running else [])]
    lines += [f"• {quarter_line(r, report.threshold)}" for r in shown]
    run = rule.run
    if run is not None:
        lines.append(
            f"⚠️ {', '.join(r.quarter.label for r in run)} liegen in Folge unter "
            f"{report.threshold} %: Die Trägerbudgetvereinbarung ist nachzuverhandeln, "
            "wenn sich das voraussichtlich nicht ändert."
        )
    else:
        lines.append(
            f"Keine {report.needed} abgeschlossenen Quartale in Folge unter {report.threshold} %."
        )
    lines += forecast_lines(report)
    return lines


def forecast_lines(report: Report) -> list[str]:
    """For a running quarter forecast below the threshold: which short quarter in a row it
    would be, and the hours still needed per remaining working day (issue 14)."""
    rule, calendar = report.rule, report.calendar
    if rule is None or calendar is None or rule.running is None or not rule.forecast_short:
        return []
    running = rule.running
    lines = []
    settled = elapsed_share(running.quarter, report.today, calendar) * 100 >= report.settles
    if settled and rule.forecast_streak >= 2:
        then = (
            "danach wäre die Trägerbudgetvereinbarung nachzuverhandeln"
            if rule.forecast_streak >= report.needed
            else f"bei {report.needed} in Folge ist nachzuverhandeln"
        )
        lines.append(
            f"⚠️ Nach der Prognose wäre {running.quarter.label} das {rule.forecast_streak}. "
            f"Quartal in Folge unter {report.threshold} %; {then}."
        )
    need = catch_up(running, report.today, calendar, report.threshold)
    if need is not None:
        until = fmt_date(running.quarter.last)
        per_day = need.minutes_per_day
        lines.append(
            f"Bis {until} fehlen noch {hours(need.missing_minutes)} zu {report.threshold} %"
            + (
                f": {_per_day(per_day)} je verbleibendem Werktag "
                f"({_n(need.days_left, 'Werktag', 'Werktage')})."
                if per_day is not None
                else "; es bleibt kein Werktag mehr."
            )
        )
    return lines


def _per_day(minutes: float) -> str:
    """Hours a day, or minutes below one hour (0,2 Std. reads worse than 10 Min.)."""
    return hours(minutes) if minutes >= 60 else f"{max(1, round(minutes))} Min."


def _type_label(staff_type: StaffType | None) -> str:
    return STAFF_TYPE_LABEL[staff_type] if staff_type else "ohne Typ"


def figures_text(report: Report) -> list[str]:
    f = report.figures
    lines = [f"Direkt am Klienten: {hours(f.direct_minutes)}"]
    target = report.target_minutes
    if target:
        lines[0] += f" von {hours(target)} Soll = {percent(f.direct_minutes * 100 / target)}"
    # H4: by staff type whenever a type logged hours, also when none of them were direct
    # (issue 14: semiprofessional staff with group and non-case work only).
    types = f.staff_types
    if types:
        lines.append(
            "  "
            + " · ".join(
                f"{_type_label(t)} {hours(f.type_minutes(t, HoursCategory.direct))}" for t in types
            )
        )
    if len(types) > 1:
        lines.append(
            "  alle Kategorien: "
            + " · ".join(
                f"{_type_label(t)} {hours(sum(f.type_minutes(t, c) for c in HoursCategory))}"
                for t in types
            )
        )
    lines.append(
        f"Indirekte Zeit ({f.indirect_percent} % kalkulatorisch): {hours(f.indirect_minutes)}"
    )
    groups = f.entries.get(HoursCategory.group, 0)
    lines.append(
        f"Gruppenangebote/fallübergreifend: {_n(groups, 'Termin', 'Termine')}, "
        f"{hours(f.category_minutes(HoursCategory.group))}, {f.group_participants} Teilnehmende"
    )
    lines.append(
        f"Beratung ohne HzE: {_n(f.entries.get(HoursCategory.informal_advice, 0), 'Beratung', 'Beratungen')}, "
        f"{hours(f.category_minutes(HoursCategory.informal_advice))}"
    )
    lines.append(
        f"Fallunspezifische Arbeit: {hours(f.category_minutes(HoursCategory.non_case))} · "
        f"Netzwerkarbeit: {hours(f.category_minutes(HoursCategory.network))}"
    )
    missed = f.entries.get(HoursCategory.missed, 0)
    line = f"Ausgefallen: {_n(missed, 'Termin', 'Termine')}, {hours(f.category_minutes(HoursCategory.missed))}"
    if f.missed_count_by_reason:
        line += (
            " ("
            + " · ".join(
                f"{MISSED_REASON_LABEL[r]} {n}" for r, n in sorted(f.missed_count_by_reason.items())
            )
            + ")"
        )
    lines.append(line)
    lines.append(f"Betreute Fälle (mit direkten Stunden): {f.cases_served}")
    lines.append(
        f"Beendete Hilfen: {f.helps_ended}, davon ohne Anschlusshilfe außerhalb der Familie: "
        f"{f.ended_without_follow_up}"
    )
    return lines


def period_text(report: Report) -> str:
    return f"{fmt_date(report.first)}–{fmt_date(report.last)}"


def org_text(report: Report) -> str:
    """The coordinator's view: figures, closing state, the 90 % rule."""
    head = f"Stundencontrolling {report.title} ({period_text(report)}) · {report.org_name}"
    lines = [head, *figures_text(report)]
    if report.results:
        closed = len(report.closed)
        if closed == len(report.results):
            lines.append("Abgeschlossen: ja (Einträge gesperrt)")
        elif closed:
            lines.append(f"Abgeschlossen: {', '.join(q.label for q in report.closed)}")
        elif report.results[-1].state not in (QuarterState.running, QuarterState.future):
            lines.append(
                "Noch nicht abgeschlossen: /quartal_abschliessen " + report.results[-1].quarter.key
            )
    if report.corrections:
        lines.append(f"Korrekturen nach Abschluss: {len(report.corrections)} (siehe Export)")
    lines += rule_text(report)
    return "\n".join(lines)


def person_text(report: Report) -> str:
    lines = [f"Deine Stunden {report.title} ({period_text(report)}):"]
    f = report.figures
    for category in HoursCategory:
        minutes = f.category_minutes(category)
        if minutes:
            lines.append(f"• {CATEGORY_LABEL[category]}: {hours(minutes)}")
    if len(lines) == 1:
        return f"Für {report.title} hast du keine Stunden erfasst."
    lines.append(
        f"Indirekte Zeit ({f.indirect_percent} % kalkulatorisch): {hours(f.indirect_minutes)}"
    )
    lines.append(f"Betreute Fälle: {f.cases_served}")
    return "\n".join(lines)


def cases_text(report: Report) -> str:
    """The ASD view: hours delivered in the cases one is responsible for."""
    head = f"Stunden in deinen Fällen {report.title} ({period_text(report)}):"
    if not report.cases:
        return f"{head}\nKeine Stunden erfasst."
    per_case: dict[str, dict[HoursCategory, int]] = {}
    for code, category, minutes, _ in report.cases:
        per_case.setdefault(code, {})[category] = minutes
    lines = [head]
    for code, cats in per_case.items():
        line = f"• {code}: direkt {hours(cats.get(HoursCategory.direct, 0))}"
        if cats.get(HoursCategory.missed):
            line += f", ausgefallen {hours(cats[HoursCategory.missed])}"
        lines.append(line)
    f = report.figures
    lines.append(
        f"Summe direkt: {hours(f.direct_minutes)} · ausgefallen: "
        f"{hours(f.category_minutes(HoursCategory.missed))} · Fälle: {f.cases_served}"
    )
    return "\n".join(lines)
