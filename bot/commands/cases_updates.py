"""Changes to a running case: who is responsible for it, and closing it."""

from __future__ import annotations

from bot.commands.cases_staffing import (
    CASE_MANAGERS,
    check_binding_staff_type,
    may_manage_cases,
    staff_of_side,
)
from bot.commands.common import (
    asks_weekday,
    audit_change,
    changes_lines,
    day_not_after_today,
    deadline_line,
    pop_option,
    visible_case,
)
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import MEETING_KIND_LABEL, fmt_date, fmt_datetime
from bot.messages import Reply
from bot.parsing.args import split_args
from bot.registry import REGISTRY
from config.enums import CaseStatus, DeadlineStatus, OrgKind
from scheduler.casework import recompute_chain
from storage.cases import cancel_meetings_from, deadlines_of_case
from storage.planning import replan_case


@REGISTRY.command(
    "zuweisen",
    "assign",
    summary="Zuständige Person eines Falls ändern",
    example="/zuweisen HB-2025-017 traeger=MK",
    allow=may_manage_cases,
    refusal=CASE_MANAGERS,
)
def assign(ctx: Ctx, args: str) -> Reply:
    """Change the responsible staff on either side; C6 binds the staff type."""
    positional, options = split_args(args)
    if len(positional) != 1 or not options:
        raise UserError("Beispiel: /zuweisen HB-2025-017 traeger=MK (oder asd=TB)")
    case = visible_case(ctx, positional[0])
    changed = []
    raw_provider = pop_option(options, "traeger", "träger", "fk", "mitarbeiter")
    raw_asd = pop_option(options, "asd", "jugendamt")
    if options:
        raise UserError(
            f"Unbekannte Angabe: {', '.join(sorted(options))[:60]}. Beispiel: /zuweisen HB-2025-017 traeger=MK"
        )
    if raw_provider is not None:
        staff = staff_of_side(
            ctx, raw_provider, OrgKind.provider, "Mitarbeiterin eines freien Trägers"
        )
        if staff.organisation_id != case.provider_org_id:
            raise UserError("Die Person gehört nicht zum Träger dieses Falls.")
        check_binding_staff_type(case, staff)
        case.provider_staff_id = staff.id
        changed.append(f"Träger: {staff.name} ({staff.handle})")
    if raw_asd is not None:
        staff = staff_of_side(ctx, raw_asd, OrgKind.jugendamt, "ASD-Fachkraft")
        if staff.organisation_id != case.jugendamt_org_id:
            raise UserError("Die Person gehört nicht zum Stadtteilbüro dieses Falls.")
        case.asd_staff_id = staff.id
        changed.append(f"ASD: {staff.name} ({staff.handle})")
    # Reminders already planned ahead go to whoever is responsible now.
    replan_case(ctx.session, case.id or 0, ctx.now)
    audit_change(
        ctx,
        "assign",
        "case",
        case.id,
        code=case.code,
        provider_staff_id=case.provider_staff_id,
        asd_staff_id=case.asd_staff_id,
    )
    return Reply(f"{case.code} zugewiesen – " + " · ".join(changed))


@REGISTRY.command(
    "fall_schliessen",
    "fall_schließen",
    "closecase",
    summary="Fall beenden: künftige Fristen entfallen, offene bleiben sichtbar",
    example="/fall_schliessen HB-2025-017 30.09.2025",
    allow=may_manage_cases,
    refusal=CASE_MANAGERS,
)
@asks_weekday("fall_schliessen")
def close_case(ctx: Ctx, args: str) -> Reply:
    """Close a case (C4)."""
    positional, _ = split_args(args)
    if not positional:
        raise UserError(
            "Beispiel: /fall_schliessen HB-2025-017 (optional mit Datum des Hilfeendes)"
        )
    case = visible_case(ctx, positional[0])
    if case.status is CaseStatus.closed:
        raise UserError(f"Der Fall {case.code} ist bereits abgeschlossen.")
    closed_on = day_not_after_today(
        ctx, positional[1:], "Ein Fall kann nur mit heutigem oder vergangenem Datum beendet werden."
    )
    if closed_on < case.start_date:
        raise UserError(
            f"Das Hilfeende kann nicht vor dem Hilfebeginn ({fmt_date(case.start_date)}) liegen."
        )
    case.status, case.closed_on = CaseStatus.closed, closed_on
    # C4: meetings still to come do not take place; the report due before one goes with it.
    meetings = cancel_meetings_from(ctx.session, case.id or 0, ctx.now)
    changes = recompute_chain(
        ctx.session, case, calendar=ctx.calendar, periods=ctx.settings.periods, now=ctx.now
    )
    audit_change(
        ctx,
        "close",
        "case",
        case.id,
        code=case.code,
        closed_on=closed_on.isoformat(),
        meetings_cancelled=len(meetings),
    )
    still_open = [
        d for d in deadlines_of_case(ctx.session, case.id or 0) if d.status is DeadlineStatus.open
    ]
    lines = [f"Fall {case.code} zum {fmt_date(closed_on)} beendet."]
    lines += [
        f"abgesagt: {MEETING_KIND_LABEL[m.kind]} am "
        f"{fmt_datetime(m.starts_at.astimezone(ctx.settings.tz))}"
        for m in meetings
    ]
    lines += changes_lines(changes, case.code, ctx.today)
    if still_open:
        lines.append("Noch offen (bitte erledigen):")
        lines += [f"  {deadline_line(d, case.code, ctx.today)}" for d in still_open]
    return Reply("\n".join(lines))
