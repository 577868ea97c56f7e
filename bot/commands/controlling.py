"""Hours controlling (issue 7): quarter and year figures, charts, exports, closing, contract."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from bot.commands.common import asks_weekday, audit_change, visible_case
from bot.context import Ctx
from bot.controlling_alerts import org_report, queue_alerts, recipients
from bot.controlling_report import (
    Report,
    build,
    cases_text,
    chart_results,
    file_stamp,
    has_chart,
    hours,
    org_text,
    person_text,
    rule_text,
)
from bot.errors import UserError
from bot.formatting import CATEGORY_LABEL, fmt_date, fmt_date_wd
from bot.messages import Attachment, Reply
from bot.names import refuse_names
from bot.parsing.args import split_args
from bot.parsing.dates import parse_date, split_date_range
from bot.parsing.durations import parse_duration
from bot.parsing.echo import shown
from bot.parsing.keywords import parse_bool
from bot.parsing.numbers import parse_count, parse_id
from bot.registry import REGISTRY
from config.enums import HoursCategory, OrgKind, Role
from scheduler.controlling import Quarter, month_of, week_of
from storage import contracts, quarters
from storage.controlling import Scope
from storage.hours import entries_between, minutes_on_day
from storage.models.hours import Contract
from storage.models.staff import Staff
from storage.staff import staff_by_handle

_PREVIOUS = {"letztes", "letzte", "vorquartal", "vorheriges", "vorjahr", "letzter"}
_CURRENT = {"", "aktuell", "aktuelles", "dieses", "laufend", "laufendes"}
_YEAR = re.compile(r"^\d{4}$")
_QUARTER_HELP = "z. B. 2025-Q3, Q3/2025, Q3 (dieses Jahr) oder „letztes“"


# -- periods --------------------------------------------------------------------------------


def parse_quarter(raw: str, today: date) -> Quarter:
    text = raw.strip().lower().removesuffix(" quartal").strip()
    if text in _CURRENT:
        return Quarter.of(today)
    if text in _PREVIOUS:
        return Quarter.of(today).previous()
    quarter = Quarter.parse(raw, today)
    if quarter is None:
        raise UserError(f"{shown(raw)} ist kein Quartal. Bitte so angeben: {_QUARTER_HELP}.")
    _check_year(quarter.year)
    return quarter


def parse_year(raw: str, today: date) -> int:
    text = raw.strip().lower()
    if text in _CURRENT:
        return today.year
    if text in _PREVIOUS:
        return today.year - 1
    if not _YEAR.match(text):
        raise UserError(f"{shown(raw)} ist kein Jahr. Beispiel: /jahr 2025")
    _check_year(int(text))
    return int(text)


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise UserError(f"Das Jahr {year} liegt außerhalb dessen, was ich auswerte (2000–2100).")


def _period(ctx: Ctx, raw: str) -> tuple[str, date, date, str, Quarter | None]:
    """(title, first, last, file stem, quarter) of a quarter or a year."""
    raw = raw.strip()
    if _YEAR.match(raw):
        year = parse_year(raw, ctx.today)
        return str(year), date(year, 1, 1), date(year, 12, 31), str(year), None
    quarter = parse_quarter(raw, ctx.today)
    return quarter.label, quarter.first, quarter.last, quarter.key, quarter


def _future(ctx: Ctx, first: date, title: str) -> None:
    if first > ctx.today:
        raise UserError(f"{title} hat noch nicht begonnen; dafür gibt es noch keine Zahlen.")


# -- views -----------------------------------------------------------------------------------


def _org_name(ctx: Ctx) -> str:
    org = contracts.organisation(ctx.session, ctx.staff.organisation_id)
    return org.name if org is not None else "?"


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
        org_name=_org_name(ctx),
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


# -- closing and corrections ---------------------------------------------------------------------


@REGISTRY.command(
    "quartal_abschliessen",
    "quartal_abschließen",
    "closequarter",
    summary="Quartal abschließen: Einträge werden gesperrt, Korrekturen nur mit Grund",
    example="/quartal_abschliessen 2025-Q1",
    roles={Role.coordinator},
    sides={OrgKind.provider},
)
def close_quarter(ctx: Ctx, args: str) -> Reply:
    """Lock a quarter that has ended."""
    quarter = parse_quarter(args or "letztes", ctx.today)
    org_id = ctx.staff.organisation_id
    if quarter.last >= ctx.today:
        raise UserError(
            f"{quarter.label} läuft noch (bis {fmt_date_wd(quarter.last)}); abschließen geht erst danach."
        )
    if quarters.closing(ctx.session, org_id, quarter.year, quarter.number) is not None:
        raise UserError(f"{quarter.label} ist bereits abgeschlossen.")
    row = quarters.close_quarter(
        ctx.session,
        org_id,
        quarter.year,
        quarter.number,
        (quarter.first, quarter.last),
        ctx.staff_id,
        ctx.now,
    )
    audit_change(ctx, "close", "quarter_closing", row.id, quarter=quarter.key)
    report = org_report(
        ctx.session,
        ctx.settings,
        ctx.calendar,
        org_id,
        _org_name(ctx),
        quarter,
        ctx.today,
        details=False,
    )
    f = report.figures
    return Reply(
        f"{quarter.label} ist abgeschlossen: direkt am Klienten {hours(f.direct_minutes)}, "
        f"insgesamt {hours(f.total_logged_minutes)} erfasst. Einträge vom "
        f"{fmt_date(quarter.first)} bis {fmt_date(quarter.last)} sind gesperrt; "
        "Korrekturen nur über /korrektur mit Grund."
    )


def check_not_locked(ctx: Ctx, day: date) -> None:
    """Refuse a change by staff to a day of a closed quarter (corrections: /korrektur)."""
    if quarters.is_locked(ctx.session, ctx.staff.organisation_id, day):
        raise UserError(
            f"{Quarter.of(day).label} ist abgeschlossen; Einträge vom {fmt_date_wd(day)} sind gesperrt. "
            "Korrekturen macht die Koordination mit /korrektur und Grund."
        )


@REGISTRY.command(
    "korrektur",
    "correction",
    summary="Stundeneintrag korrigieren (auch in abgeschlossenen Quartalen), mit Grund",
    example='/korrektur 42 1,5 grund="Tippfehler" · /korrektur 42 loeschen grund="doppelt"',
    roles={Role.coordinator},
    sides={OrgKind.provider},
)
def correct(ctx: Ctx, args: str) -> Reply:
    """A coordinator changes the duration of an entry or withdraws it; audited with the reason."""
    positional, options = split_args(args)
    usage = '/korrektur 42 1,5 grund="Tippfehler" · /korrektur 42 loeschen grund="doppelt erfasst"'
    reason = (options.pop("grund", None) or "").strip()
    if options or len(positional) < 2:
        raise UserError(f"Beispiele: {usage}")
    raw_id = str(
        parse_id(positional[0], f"Bitte die Nummer des Eintrags angeben. Beispiele: {usage}")
    )
    if not 3 <= len(reason) <= 200:
        raise UserError(
            "Eine Korrektur braucht einen Grund (3 bis 200 Zeichen, ohne Namen von Klient*innen), "
            'z. B. grund="Tippfehler".'
        )
    refuse_names(reason, where="grund=")  # goes into the exports for the Jugendamt
    found = quarters.org_entry(ctx.session, ctx.staff.organisation_id, int(raw_id))
    if found is None or found[0].deleted_at is not None:
        raise UserError(f"Einen gültigen Eintrag #{raw_id} deiner Organisation finde ich nicht.")
    entry, author = found
    action = " ".join(positional[1:]).lower()
    new_minutes: int | None
    if action in ("loeschen", "löschen", "zuruecknehmen", "zurücknehmen", "entfernen"):
        new_minutes = None
    else:
        new_minutes = parse_duration(" ".join(positional[1:]))
        limits = ctx.settings.hours
        if not 0 < new_minutes <= limits.max_entry_minutes:
            raise UserError(
                f"Ein Eintrag hat mehr als 0 und höchstens {hours(limits.max_entry_minutes)}."
            )
        day_total = (
            minutes_on_day(ctx.session, entry.staff_id, entry.day) - entry.minutes + new_minutes
        )
        if day_total > limits.max_day_minutes:
            raise UserError(
                f"Mit {hours(new_minutes)} hätte {author.handle} am {fmt_date_wd(entry.day)} "
                f"mehr als {hours(limits.max_day_minutes)}."
            )
        if new_minutes == entry.minutes:
            raise UserError(f"#{entry.id} hat bereits {hours(new_minutes)}; nichts zu ändern.")
    old = entry.minutes
    correction = quarters.add_correction(
        ctx.session, entry, ctx.staff_id, new_minutes, reason, ctx.now
    )
    locked = quarters.is_locked(ctx.session, entry.organisation_id, entry.day)
    audit_change(
        ctx,
        "correct",
        "hours_entry",
        entry.id,
        correction=correction.id,
        old_minutes=old,
        new_minutes=new_minutes,
        closed_quarter=locked,
        reason=reason,
    )
    what = "zurückgenommen" if new_minutes is None else f"{hours(old)} → {hours(new_minutes)}"
    return Reply(
        f"Korrigiert #{entry.id} ({author.handle}, {fmt_date_wd(entry.day)}, "
        f"{CATEGORY_LABEL[entry.category]}): {what} (Grund: {reason})"
    )


# -- contract ------------------------------------------------------------------------------------


def _contract_text(ctx: Ctx, contract: Contract) -> str:
    assert contract.id is not None
    planned = contracts.planned_hours(ctx.session, contract.id)
    lines = [
        f"Trägerbudgetvereinbarung {_org_name(ctx)}",
        f"Laufzeit: {fmt_date(contract.starts_on)}–{fmt_date(contract.ends_on)}",
        f"Erwarteter Umsteuerungseffekt: bis zu +{contract.steering_percent} % Leistungen",
        "Vereinbarte Stunden am Klienten je Jahr (Quartalssoll = ein Viertel):",
    ]
    for year in range(contract.starts_on.year, contract.ends_on.year + 1):
        value = planned.get(year)
        lines.append(
            f"• {year}: "
            + (
                "noch nicht vereinbart"
                if value is None
                else f"{hours(value * 60)} (Quartal {hours(value * 15)})"
            )
        )
    lines.append(
        f"Indirekte Zeit: {ctx.settings.controlling.indirect_percent} % der direkten, kalkulatorisch. "
        "Ändern: /vertrag 2026 stunden=12500 · /vertrag laufzeit=01.01.2025-31.12.2029"
    )
    return "\n".join(lines)


@REGISTRY.command(
    "vertrag",
    "contract",
    summary="Trägerbudgetvereinbarung: Laufzeit, Stunden am Klienten je Jahr, Umsteuerung",
    example="/vertrag stunden=12000 · /vertrag 2026 stunden=12500",
    roles={Role.coordinator},
    sides={OrgKind.provider},
)
@asks_weekday("vertrag")
def contract(ctx: Ctx, args: str) -> Reply:
    """Show or change the provider's budget contract (planned direct hours per year)."""
    positional, options = split_args(args)
    org_id = ctx.staff.organisation_id
    current = contracts.contract_of(ctx.session, org_id)
    if not positional and not options:
        if current is None:
            return Reply(
                "Es ist noch keine Trägerbudgetvereinbarung hinterlegt. Anlegen mit z. B. "
                "/vertrag stunden=12000 (Laufzeit "
                f"{fmt_date(ctx.settings.periods.contract_start)}–{fmt_date(ctx.settings.periods.contract_end)})."
            )
        return Reply(_contract_text(ctx, current))
    year: int | None = None
    if positional:
        if len(positional) > 1:
            raise UserError("Beispiele: /vertrag stunden=12000 · /vertrag 2026 stunden=12500")
        year = parse_year(positional[0], ctx.today)
    raw_hours = options.pop("stunden", None)
    raw_term = options.pop("laufzeit", None)
    raw_steering = options.pop("steuerung", None) or options.pop("umsteuerung", None)
    if options:
        raise UserError(
            f"Unbekannte Angabe: {', '.join(sorted(options))[:60]}. Möglich: stunden=, laufzeit=, steuerung="
        )
    planned = None
    if raw_hours is not None:
        planned = parse_count(
            raw_hours.replace(".", "").replace(" ", ""),
            1,
            10_000_000,
            f"{shown(raw_hours)}: Stunden bitte als ganze Zahl, z. B. stunden=12000.",
        )
    elif year is not None:
        raise UserError(
            f"Bitte die Stunden für {year} angeben, z. B. /vertrag {year} stunden=12500."
        )
    start, end = (
        (current.starts_on, current.ends_on)
        if current
        else (ctx.settings.periods.contract_start, ctx.settings.periods.contract_end)
    )
    if raw_term is not None:
        parts = split_date_range(raw_term)  # also with weekdays (A2): Mi 01.01.2025-…
        if len(parts) != 2:
            raise UserError("Laufzeit bitte so: laufzeit=01.01.2025-31.12.2029")
        start, end = parse_date(parts[0], ctx.today), parse_date(parts[1], ctx.today)
        if end <= start:
            raise UserError("Das Ende der Laufzeit muss nach ihrem Beginn liegen.")
    steering = current.steering_percent if current else 15
    if raw_steering is not None:
        steering = parse_count(
            raw_steering.rstrip("%"),
            0,
            100,
            "Umsteuerungseffekt bitte in Prozent, z. B. steuerung=15.",
        )
    if year is not None and not start.year <= year <= end.year:
        raise UserError(f"{year} liegt nicht in der Laufzeit {fmt_date(start)}–{fmt_date(end)}.")
    if current is None:
        if planned is None:
            raise UserError(
                "Bitte beim Anlegen die Stunden am Klienten je Jahr angeben, z. B. /vertrag stunden=12000."
            )
        current = Contract(
            provider_org_id=org_id,
            starts_on=start,
            ends_on=end,
            steering_percent=steering,
            updated_at=ctx.now,
        )
        ctx.session.add(current)
        ctx.session.flush()
        action = "create"
    else:
        current.starts_on, current.ends_on = start, end
        current.steering_percent = steering
        current.updated_at = ctx.now
        action = "update"
    assert current.id is not None
    if planned is not None:
        years = [year] if year is not None else list(range(start.year, end.year + 1))
        for y in years:
            contracts.set_planned_hours(ctx.session, current.id, y, planned, ctx.now)
    audit_change(
        ctx,
        action,
        "contract",
        current.id,
        starts_on=start.isoformat(),
        ends_on=end.isoformat(),
        steering_percent=steering,
        year=year,
        planned_direct_hours=planned,
    )
    ctx.session.flush()
    return Reply("Gespeichert.\n" + _contract_text(ctx, current))


@REGISTRY.command(
    "pruefen",
    "prüfen",
    "regel90",
    summary="90-%-Regel jetzt prüfen (drei Quartale in Folge unter 90 % des Solls)",
    example="/pruefen",
    roles={Role.coordinator},
    sides={OrgKind.provider},
)
def check_rule(ctx: Ctx, args: str) -> Reply:
    """On-demand H3 for the own organisation; the alert itself goes out once, by the scheduler."""
    org_id = ctx.staff.organisation_id
    if contracts.contract_of(ctx.session, org_id) is None:
        raise UserError(
            "Es ist noch keine Trägerbudgetvereinbarung hinterlegt: /vertrag stunden=12000"
        )
    quarter = Quarter.of(ctx.today)
    report = org_report(
        ctx.session,
        ctx.settings,
        ctx.calendar,
        org_id,
        _org_name(ctx),
        quarter,
        ctx.today,
        details=False,
    )
    # The same once-only alert the quarterly job writes (the outbox key makes it idempotent).
    findings = queue_alerts(ctx.session, ctx.settings, ctx.calendar, ctx.now, org_id)
    lines = rule_text(report)
    if any(not f.forecast for f in findings):
        people = recipients(ctx.session, org_id)
        lines.append(
            f"Die Koordinationen ({len(people)} Personen) werden einmalig für dieses Quartal benachrichtigt."
        )
    if any(f.forecast for f in findings):
        lines.append(
            "Die Koordination des Trägers bekommt die Prognose einmalig für dieses Quartal "
            "als Nachricht."
        )
    return Reply("\n".join(lines))


@REGISTRY.command(
    "hilfeende",
    "helpoutcome",
    summary="Beendete Hilfe: mit oder ohne Anschlusshilfe außerhalb der Familie (Kennzahl)",
    example="/hilfeende HB-2025-017 anschluss=nein",
)
def help_outcome(ctx: Ctx, args: str) -> Reply:
    """Record whether an ended help had follow-up help outside the family (H5)."""
    positional, options = split_args(args)
    raw = options.pop("anschluss", None)
    if len(positional) != 1 or raw is None or options:
        raise UserError(
            "Beispiel: /hilfeende HB-2025-017 anschluss=nein (ohne Anschlusshilfe außerhalb der Familie)"
        )
    case = visible_case(ctx, positional[0])
    if case.closed_on is None:
        raise UserError(f"{case.code} ist noch nicht beendet (/fall_schliessen).")
    outside = parse_bool(raw)
    assert case.id is not None
    quarters.record_outcome(ctx.session, case.id, outside, ctx.staff_id, ctx.now)
    audit_change(ctx, "outcome", "hzcase", case.id, follow_up_outside=outside)
    what = "mit" if outside else "ohne"
    return Reply(f"Gespeichert: {case.code} endete {what} Anschlusshilfe außerhalb der Familie.")
