"""Hours controlling (issue 7): quarter and year figures, charts and exports."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from bot.commands.controlling_common import YEAR, org_name, parse_quarter, parse_year
from bot.context import Ctx
from bot.controlling_report import Report, build, chart_results, file_stamp, has_chart
from bot.controlling_texts import cases_text, hours, org_text, person_text
from bot.errors import UserError
from bot.formatting import fmt_date
from bot.messages import Attachment, Reply
from bot.parsing.args import split_args
from bot.parsing.echo import shown
from bot.registry import REGISTRY
from config.enums import HoursCategory, OrgKind, Role
from scheduler.controlling import Quarter, month_of, week_of
from storage.controlling import Scope
from storage.hours import entries_between
from storage.models.staff import Staff
from storage.staff import staff_by_handle


def _period(ctx: Ctx, raw: str) -> tuple[str, date, date, str, Quarter | None]:
    """(title, first, last, file stem, quarter) of a quarter or a year."""
    raw = raw.strip()
    if YEAR.match(raw):
        year = parse_year(raw, ctx.today)
        return str(year), date(year, 1, 1), date(year, 12, 31), str(year), None
    quarter = parse_quarter(raw, ctx.today)
    return quarter.label, quarter.first, quarter.last, quarter.key, quarter


def _future(ctx: Ctx, first: date, title: str) -> None:
    if first > ctx.today:
        raise UserError(f"{title} hat noch nicht begonnen; dafür gibt es noch keine Zahlen.")


# -- views -----------------------------------------------------------------------------------


def _own_scope(ctx: Ctx) -> Scope:
    """What the sender may see (P2): coordinators their organisation, staff their own hours,
    ASD staff the hours in the cases they are responsible for."""
    if ctx.staff_side is OrgKind.provider:
        if ctx.is_coordinator:
            return Scope(organisation_id=ctx.staff.organisation_id)
        return Scope(staff_id=ctx.staff_id)
    if ctx.is_coordinator:
        return Scope(jugendamt_org_id=ctx.staff.organisation_id)
    return Scope(asd_staff_id=ctx.staff_id)


def _report(ctx: Ctx, title: str, first: date, last: date, scope: Scope) -> Report:
    org_view = scope.organisation_id is not None
    return build(
        ctx.session,
        ctx.settings,
        ctx.calendar,
        scope,
        title=title,
        org_name=org_name(ctx),
        first=first,
        last=last,
        today=ctx.today,
        contract_org_id=scope.organisation_id if org_view else None,
    )


def _text(report: Report, scope: Scope) -> str:
    if scope.organisation_id is not None:
        return org_text(report)
    if scope.case_bound:
        return cases_text(report)
    return person_text(report)


def chart_attachment(report: Report, stem: str) -> Attachment | None:
    """The quarters chart as a PNG; None when it would show no bar (no direct hours)."""
    from bot import charts  # matplotlib/openpyxl load on first use, not at start-up

    if not has_chart(report):
        return None
    png = charts.quarter_chart(
        f"Stunden am Klienten {report.title} · {report.org_name}",
        chart_results(report),
        report.by_type,
        report.threshold,
        report.figures.staff_types,
    )
    return Attachment(
        f"stunden_{stem}.png",
        charts.PNG,
        png,
        f"Stunden am Klienten {report.title}: Ist nach Mitarbeitendentyp, Soll und "
        f"{report.threshold}-%-Linie",
    )


def no_chart_text(report: Report) -> str:
    return (
        f"Keine Grafik: Für {report.title} und die Quartale davor sind noch keine Stunden am "
        "Klienten erfasst."
    )


def xlsx_attachment(report: Report, stem: str) -> Attachment:
    from bot import exports  # matplotlib/openpyxl load on first use, not at start-up

    return Attachment(
        f"stunden_{stem}.xlsx",
        exports.XLSX,
        exports.xlsx(report),
        f"Stundencontrolling {report.title} (XLSX)",
    )


def _figures_reply(ctx: Ctx, args: str, *, year: bool) -> Reply:
    raw = args.strip()
    if year:
        y = parse_year(raw, ctx.today)
        title, first, last, stem = str(y), date(y, 1, 1), date(y, 12, 31), str(y)
    else:
        title, first, last, stem, _ = _period(ctx, raw)
    _future(ctx, first, title)
    scope = _own_scope(ctx)
    report = _report(ctx, title, first, last, scope)
    text = _text(report, scope)
    if scope.organisation_id is None:
        return Reply(text)
    stem = f"{stem}_{file_stamp(ctx.now)}"
    png = chart_attachment(report, stem)
    if png is None:
        text += "\n" + no_chart_text(report)
    if year:
        text += f"\nJahresbericht {title}: Zahlen{', Grafik' if png else ''} und XLSX anbei."
    attachments = (png, xlsx_attachment(report, stem)) if png else (xlsx_attachment(report, stem),)
    return Reply(text, attachments=attachments)


@REGISTRY.command(
    "quartal",
    "quarter",
    summary="Stunden eines Quartals (Koordination: gegen den Vertrag, mit Grafik und XLSX)",
    example="/quartal letztes · /quartal 2025-Q3",
)
def quarter_figures(ctx: Ctx, args: str) -> Reply:
    """Quarter figures for what the sender may see; coordinators get chart and XLSX."""
    return _figures_reply(ctx, args, year=False)


@REGISTRY.command(
    "jahr",
    "jahresbericht",
    "year",
    summary="Zahlen eines Jahres (Koordination: der Jahresbericht mit Grafik und XLSX)",
    example="/jahr 2025",
)
def year_figures(ctx: Ctx, args: str) -> Reply:
    """Year figures; for provider coordinators the yearly report in one command (C5)."""
    return _figures_reply(ctx, args, year=True)


@REGISTRY.command(
    "grafik",
    "chart",
    summary="Grafik als Bild: Quartal/Jahr gegen das Soll, oder deine Woche/dein Monat",
    example="/grafik · /grafik 2025 · /grafik monat",
    sides={OrgKind.provider},
)
def chart(ctx: Ctx, args: str) -> Reply:
    """A PNG: the organisation's quarters (coordinators) or one person's week or month."""
    positional, options = split_args(args)
    if options:
        raise UserError("Beispiele: /grafik · /grafik 2025-Q3 · /grafik woche · /grafik monat JB")
    words = [p.lower() for p in positional]
    person_period = next((w for w in words if w in ("woche", "monat", "week", "month")), None)
    if person_period is None and not ctx.is_coordinator:
        person_period = words[0] if words else "woche"
        if person_period not in ("woche", "monat", "week", "month"):
            raise UserError(
                "Du siehst deine eigene Woche oder deinen Monat: /grafik woche · /grafik monat"
            )
    if person_period is not None:
        others = [p for p in positional if p.lower() != person_period]
        return _person_chart(ctx, person_period, others)
    title, first, last, stem, _ = _period(ctx, " ".join(positional))
    _future(ctx, first, title)
    report = _report(ctx, title, first, last, Scope(organisation_id=ctx.staff.organisation_id))
    png = chart_attachment(report, f"{stem}_{file_stamp(ctx.now)}")
    if png is None:
        return Reply(no_chart_text(report))
    return Reply(
        f"Grafik {title}: Stunden am Klienten nach Mitarbeitendentyp gegen das Soll.",
        attachments=(png,),
    )


def _person_chart(ctx: Ctx, period: str, others: list[str]) -> Reply:
    from bot import charts  # matplotlib/openpyxl load on first use, not at start-up

    person: Staff = ctx.staff
    if others:
        if not ctx.is_coordinator:
            raise UserError(
                "Du siehst deine eigene Woche oder deinen Monat: /grafik woche · /grafik monat"
            )
        if len(others) > 1:
            raise UserError("Beispiele: /grafik woche · /grafik monat JB")
        found = staff_by_handle(ctx.session, others[0].upper())
        if found is None or found.organisation_id != ctx.staff.organisation_id:
            raise UserError(
                f"Eine Person mit dem Kürzel {shown(others[0])} finde ich in deiner Organisation nicht."
            )
        person = found
    month = period in ("monat", "month")
    first, last = month_of(ctx.today) if month else week_of(ctx.today)
    assert person.id is not None
    daily: dict[date, dict[HoursCategory, int]] = defaultdict(dict)
    for entry, _ in entries_between(ctx.session, person.id, first, last):
        day = daily[entry.day]
        day[entry.category] = day.get(entry.category, 0) + entry.minutes
    label = (
        f"{ctx.today.month:02d}/{ctx.today.year}"
        if month
        else f"KW {first.isocalendar().week}/{first.isocalendar().year}"
    )
    title = f"{person.handle} · {label}"
    span = f"{fmt_date(first)}–{fmt_date(last)}"
    if not daily:  # a German notice instead of an empty chart (issue 14)
        who = "Du hast" if person.id == ctx.staff_id else f"{person.handle} hat"
        return Reply(
            f"{who} vom {fmt_date(first)} bis {fmt_date(last)} ({label}) noch keine Stunden "
            "erfasst; eine Grafik gibt es, sobald Stunden erfasst sind."
        )
    png = charts.person_chart(title, first, last, daily)
    total = sum(m for d in daily.values() for m in d.values())
    name = f"stunden_{person.handle}_{first.isoformat()}_{file_stamp(ctx.now)}.png"
    return Reply(
        f"Stunden {title} ({span}): {hours(total)}",
        attachments=(Attachment(name, charts.PNG, png, title),),
    )


@REGISTRY.command(
    "export",
    summary="Export als XLSX oder CSV (ein Blatt je Ansicht) für ein Quartal oder Jahr",
    example="/export xlsx 2025-Q3 · /export csv 2025",
    roles={Role.coordinator},
    sides={OrgKind.provider},
)
def export(ctx: Ctx, args: str) -> Reply:
    """The organisation's figures as a document to hand on."""
    from bot import exports  # matplotlib/openpyxl load on first use, not at start-up

    positional, options = split_args(args)
    if options:
        raise UserError("Beispiele: /export xlsx 2025-Q3 · /export csv 2025")
    fmt = "xlsx"
    if positional and positional[0].lower() in ("xlsx", "csv", "excel"):
        fmt = "csv" if positional.pop(0).lower() == "csv" else "xlsx"
    title, first, last, stem, _ = _period(ctx, " ".join(positional))
    _future(ctx, first, title)
    report = _report(ctx, title, first, last, Scope(organisation_id=ctx.staff.organisation_id))
    stem = f"{stem}_{file_stamp(ctx.now)}"
    if fmt == "xlsx":
        return Reply(
            f"Export {title} als XLSX (Blätter: {', '.join(v.title for v in exports.views(report))}).",
            attachments=(xlsx_attachment(report, stem),),
        )
    files = exports.csv_files(report, f"stunden_{stem}")
    return Reply(
        f"Export {title} als CSV: {len(files)} Dateien (Semikolon, Dezimalkomma).",
        attachments=tuple(Attachment(n, exports.CSV, data, n) for n, data in files),
    )
