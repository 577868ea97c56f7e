"""Hours controlling (issue 7): the budget contract, the 90 % rule on demand, help outcomes (H5)."""

from __future__ import annotations

from bot.commands.common import asks_weekday, audit_change, visible_case
from bot.commands.controlling_common import org_name, parse_year
from bot.context import Ctx
from bot.controlling_alerts import org_report, queue_alerts, recipients
from bot.controlling_texts import hours, rule_text
from bot.errors import UserError
from bot.formatting import fmt_date
from bot.messages import Reply
from bot.parsing.args import split_args
from bot.parsing.dates import parse_date, split_date_range
from bot.parsing.echo import shown
from bot.parsing.keywords import parse_bool
from bot.parsing.numbers import parse_count
from bot.registry import REGISTRY
from config.enums import OrgKind, Role
from scheduler.controlling import Quarter
from storage import contracts, quarters
from storage.models.hours import Contract


def _contract_text(ctx: Ctx, contract: Contract) -> str:
    assert contract.id is not None
    planned = contracts.planned_hours(ctx.session, contract.id)
    lines = [
        f"Trägerbudgetvereinbarung {org_name(ctx)}",
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
        org_name(ctx),
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
