"""Cases: create one, list them, show one."""

from __future__ import annotations

from bot import texts
from bot.commands.cases_staffing import (
    CASE_MANAGERS,
    check_binding_staff_type,
    may_manage_cases,
    staff_of_side,
)
from bot.commands.common import asks_weekday, audit_change, deadline_line, pop_option, visible_case
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import (
    LEGAL_BASIS_LABEL,
    MEETING_KIND_LABEL,
    STAFF_TYPE_LABEL,
    fmt_date,
    fmt_datetime,
)
from bot.messages import Reply
from bot.parsing.args import split_args
from bot.parsing.case_codes import parse_case_code
from bot.parsing.dates import looks_like_date, parse_date
from bot.parsing.echo import shown
from bot.parsing.keywords import parse_bool, parse_legal_basis, parse_staff_type
from bot.parsing.numbers import parse_count
from bot.registry import REGISTRY
from config.enums import CaseStatus, DeadlineStatus, OrgKind, StaffType
from scheduler.casework import recompute_chain
from scheduler.deadlines import valid_until
from storage.cases import (
    case_by_code,
    deadlines_of_case,
    meetings_of,
    next_open_deadlines,
    visible_cases_page,
)
from storage.models.cases import Case
from storage.models.staff import Staff

_NEW_CASE_EXAMPLE = (
    "/fall_neu HB-2025-017 §30 beginn=03.03.2025 traeger=MK asd=TB empfehlung=fk "
    "kinderschutz=nein bericht=3"
)
_MAX_CASES_LISTED = 50
_MANY_OVERDUE = 3


@REGISTRY.command(
    "fall_neu",
    "neuerfall",
    "newcase",
    summary="Fall anlegen; die Fristen werden berechnet",
    example=_NEW_CASE_EXAMPLE,
    allow=may_manage_cases,
    refusal=CASE_MANAGERS,
)
@asks_weekday("fall_neu")
def new_case(ctx: Ctx, args: str) -> Reply:
    """Create a case and derive its deadline chain (C1)."""
    positional, options = split_args(args)
    if not positional:
        raise UserError(f"So legst du einen Fall an:\n{_NEW_CASE_EXAMPLE}")
    code = parse_case_code(positional.pop(0), ctx.settings.case_code_pattern)
    raw_basis = pop_option(options, "hilfe", "hilfeart", "paragraf", "rechtsgrundlage")
    raw_start = pop_option(options, "beginn", "start", "ab", "hilfebeginn")
    for token in positional:
        if raw_start is None and looks_like_date(token):
            raw_start = token
        elif raw_basis is None:
            raw_basis = token
        else:
            raise UserError(
                f"{shown(token)} kann ich hier nicht zuordnen. Beispiel:\n{_NEW_CASE_EXAMPLE}"
            )
    if raw_basis is None or raw_start is None:
        raise UserError(
            f"Es fehlen {'die Hilfeart (z. B. §30)' if raw_basis is None else 'der Hilfebeginn (beginn=03.03.2025)'}. "
            f"Beispiel:\n{_NEW_CASE_EXAMPLE}"
        )
    basis = parse_legal_basis(raw_basis)
    start = parse_date(raw_start, ctx.today, prefer="past")
    raw_provider = pop_option(options, "traeger", "träger", "fk", "mitarbeiter")
    raw_asd = pop_option(options, "asd", "jugendamt")
    if ctx.staff_side is OrgKind.jugendamt and raw_asd is None:
        raw_asd = ctx.staff.handle
    if raw_provider is None or raw_asd is None:
        raise UserError(
            "Bitte die Zuständigen beider Seiten mit Kürzel angeben: traeger=MK asd=TB. "
            f"Beispiel:\n{_NEW_CASE_EXAMPLE}"
        )
    provider_staff = staff_of_side(
        ctx, raw_provider, OrgKind.provider, "Mitarbeiterin eines freien Trägers"
    )
    asd_staff = staff_of_side(ctx, raw_asd, OrgKind.jugendamt, "ASD-Fachkraft")
    if (
        ctx.staff_side is OrgKind.provider
        and provider_staff.organisation_id != ctx.staff.organisation_id
    ):
        raise UserError("Du kannst Fälle nur für Mitarbeitende deines eigenen Trägers anlegen.")
    if (
        ctx.staff_side is OrgKind.jugendamt
        and asd_staff.organisation_id != ctx.staff.organisation_id
    ):
        raise UserError("Du kannst Fälle nur für dein eigenes Stadtteilbüro anlegen.")
    raw_child = pop_option(options, "kinderschutz", "ks")
    child_protection = False if raw_child is None else parse_bool(raw_child)
    if child_protection and ctx.staff_side is not OrgKind.jugendamt:
        raise UserError("Die Kennzeichnung „kinderschutzrelevant“ setzt das Jugendamt (ASD).")
    raw_type = pop_option(options, "empfehlung", "typ")
    if raw_type is not None:
        recommended = parse_staff_type(raw_type)
    elif child_protection:
        raise UserError(
            "Bei kinderschutzrelevanten Fällen bitte die verbindliche Empfehlung angeben: empfehlung=fk oder empfehlung=semi."
        )
    else:
        recommended = provider_staff.staff_type or StaffType.fachkraft
    raw_interval = pop_option(options, "bericht", "berichte", "berichtsintervall")
    interval = None
    if raw_interval is not None:
        default = ctx.settings.periods.report_interval_months
        interval = parse_count(
            raw_interval.removesuffix("monate").removesuffix("m"),
            1,
            default,
            f"Das Berichtsintervall darf zwischen 1 und {default} Monaten liegen (kürzere "
            "Zeiträume nach individueller Absprache), als Zahl, z. B. bericht=3.",
        )
    if options:
        raise UserError(
            f"Unbekannte Angabe: {', '.join(sorted(options))[:60]}. Beispiel:\n{_NEW_CASE_EXAMPLE}"
        )
    if case_by_code(ctx.session, code) is not None:
        raise UserError(f"Den Fall {code} gibt es schon. /fall {code} zeigt ihn.")
    case = Case(
        code=code,
        legal_basis=basis,
        start_date=start,
        provider_org_id=provider_staff.organisation_id,
        jugendamt_org_id=asd_staff.organisation_id,
        provider_staff_id=provider_staff.id,
        asd_staff_id=asd_staff.id,
        child_protection=child_protection,
        recommended_staff_type=recommended,
        report_interval_months=interval,
        created_at=ctx.now,
    )
    check_binding_staff_type(case, provider_staff)
    ctx.session.add(case)
    ctx.session.flush()
    changes = recompute_chain(
        ctx.session, case, calendar=ctx.calendar, periods=ctx.settings.periods, now=ctx.now
    )
    audit_change(
        ctx,
        "create",
        "case",
        case.id,
        code=code,
        legal_basis=basis.value,
        child_protection=child_protection,
    )
    lines = [
        f"Fall {code} angelegt ({LEGAL_BASIS_LABEL[basis]}, Beginn {fmt_date(start)}).",
        f"Zuständig: {provider_staff.name} ({provider_staff.handle}) · {asd_staff.name} ({asd_staff.handle})",
        "Fristen:",
        *(deadline_line(d, code, ctx.today) for d in sorted(changes.added, key=lambda d: d.due)),
    ]
    overdue = sum(1 for d in changes.added if d.due < ctx.today)
    if overdue >= _MANY_OVERDUE:
        # Issue 14: a help that began long ago is usually an existing case entered late.
        lines.append(
            f"⚠️ Der Hilfebeginn liegt weit zurück: {overdue} Fristen sind schon überfällig. "
            "Was bereits erledigt ist, bitte mit /erledigt NUMMER abhaken; viele bestehende "
            "Fälle übernimmt die Koordination besser mit koopbot import cases --done-before."
        )
    return Reply("\n".join(lines))


@REGISTRY.command(
    "faelle", "fälle", "cases", summary="Deine offenen Fälle mit nächster Frist", example="/faelle"
)
def list_cases(ctx: Ctx, args: str) -> Reply:
    """The open cases the sender may see, each with its next open deadline."""
    page = visible_cases_page(
        ctx.session,
        ctx.staff,
        ctx.staff_side,
        include_closed=args.strip().lower() == "alle",
        limit=_MAX_CASES_LISTED,
    )
    if not page.cases:
        return Reply(texts.NO_CASES)
    total = page.total
    lines = [f"{total} Fall:" if total == 1 else f"{total} Fälle:"]
    upcoming = next_open_deadlines(ctx.session, [c.id for c in page.cases if c.id is not None])
    for case in page.cases:
        assert case.id is not None
        soonest = upcoming.get(case.id)
        nxt = f" · nächste Frist: {deadline_line(soonest, None, ctx.today)}" if soonest else ""
        state = " (abgeschlossen)" if case.status is CaseStatus.closed else ""
        flag = " · kinderschutzrelevant" if case.child_protection else ""
        lines.append(f"{case.code}{state} – {LEGAL_BASIS_LABEL[case.legal_basis]}{flag}{nxt}")
    if total > len(page.cases):
        lines.append(f"… und {total - len(page.cases)} weitere. /fall CODE zeigt einen Fall.")
    return Reply("\n".join(lines))


@REGISTRY.command("fall", "case", summary="Überblick über einen Fall", example="/fall HB-2025-017")
def show_case(ctx: Ctx, args: str) -> Reply:
    """Everything about one case: people, flags, meetings and the deadline chain."""
    case = visible_case(ctx, args)
    assert case.id is not None
    provider = ctx.session.get(Staff, case.provider_staff_id) if case.provider_staff_id else None
    asd = ctx.session.get(Staff, case.asd_staff_id) if case.asd_staff_id else None
    interval = case.report_interval_months or ctx.settings.periods.report_interval_months
    lines = [
        f"Fall {case.code} – {LEGAL_BASIS_LABEL[case.legal_basis]}",
        f"Hilfebeginn: {fmt_date(case.start_date)} · Ersthilfeplan gültig bis "
        f"{fmt_date(valid_until(case.start_date, ctx.settings.periods.first_help_plan_months))}",
        f"Träger: {provider.name + ' (' + provider.handle + ')' if provider else '–'} · "
        f"ASD: {asd.name + ' (' + asd.handle + ')' if asd else '–'}",
        f"Empfehlung: {STAFF_TYPE_LABEL[case.recommended_staff_type]}"
        + (" (bindend, kinderschutzrelevant)" if case.child_protection else ""),
        f"Berichte alle {interval} Monate",
    ]
    if case.status is CaseStatus.closed and case.closed_on:
        lines.append(f"Abgeschlossen am {fmt_date(case.closed_on)}")
    meetings = meetings_of(ctx.session, case.id)
    if meetings:
        lines.append("Termine:")
        lines += [
            f"  {MEETING_KIND_LABEL[m.kind]}: {fmt_datetime(m.starts_at.astimezone(ctx.settings.tz))}"
            for m in meetings
        ]
    deadlines = [
        d
        for d in deadlines_of_case(ctx.session, case.id)
        if d.status is not DeadlineStatus.cancelled
    ]
    lines.append("Fristen:")
    lines += [f"  {deadline_line(d, None, ctx.today)}" for d in deadlines] or ["  keine"]
    return Reply("\n".join(lines))
