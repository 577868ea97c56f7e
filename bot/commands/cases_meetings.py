"""A case's meetings: the help-plan and closing meetings and a need for coordination."""

from __future__ import annotations

from datetime import time

from bot.commands.common import (
    asks_weekday,
    audit_change,
    changes_lines,
    day_not_after_today,
    local_datetime,
    split_date_time,
    visible_case,
)
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import MEETING_KIND_LABEL, fmt_date, fmt_date_wd, fmt_datetime
from bot.messages import Reply
from bot.parsing.args import split_args
from bot.parsing.dates import parse_date
from bot.parsing.times import parse_time
from bot.registry import REGISTRY
from config.enums import CaseStatus, DeadlineKind, DeadlineStatus, MeetingKind
from scheduler.casework import recompute_chain
from scheduler.deadlines import valid_until
from storage.cases import deadlines_of_case, meetings_of
from storage.models.cases import CoordinationRequest, Meeting

_DEFAULT_MEETING_TIME = time(9, 0)


def _set_meeting(ctx: Ctx, args: str, kind: MeetingKind) -> Reply:
    name = "hpg" if kind is MeetingKind.hpg else "abschluss"
    example = f"/{name} HB-2025-017 02.06.2025 10:00"
    positional, _ = split_args(args)
    if len(positional) < 2:
        raise UserError(
            f"Bitte Aktenzeichen und Datum angeben, z. B. {example} (oder /{name} HB-2025-017 absagen)."
        )
    case = visible_case(ctx, positional[0])
    assert case.id is not None
    if case.status is CaseStatus.closed:
        raise UserError(f"Der Fall {case.code} ist abgeschlossen.")
    upcoming = [
        m for m in meetings_of(ctx.session, case.id) if m.kind is kind and m.starts_at >= ctx.now
    ]
    label = MEETING_KIND_LABEL[kind]
    if positional[1].lower() in ("absagen", "abgesagt", "cancel"):
        if not upcoming:
            raise UserError(f"Für {case.code} ist kein kommendes {label} eingetragen.")
        meeting = upcoming[0]
        meeting.cancelled = True
        verb = "abgesagt"
    else:
        day_text, time_text = split_date_time(positional[1:])
        day = parse_date(day_text, ctx.today, prefer="future")
        at = _DEFAULT_MEETING_TIME if time_text is None else parse_time(time_text)
        if day < ctx.today:
            raise UserError(
                f"Der {fmt_date(day)} liegt in der Vergangenheit. Bitte ein kommendes Datum angeben."
            )
        if day < case.start_date:
            raise UserError(
                f"Der {fmt_date(day)} liegt vor dem Hilfebeginn von {case.code} "
                f"({fmt_date(case.start_date)}). Bitte das Datum prüfen."
            )
        starts_at = local_datetime(ctx, day, at)
        if upcoming:
            meeting, verb = upcoming[0], "verlegt"
            meeting.starts_at = starts_at
        else:
            meeting = Meeting(case_id=case.id, kind=kind, starts_at=starts_at, created_at=ctx.now)
            verb = "eingetragen"
            ctx.session.add(meeting)
    meeting.updated_at = ctx.now  # LAST-MODIFIED in calendar feeds
    ctx.session.flush()
    changes = recompute_chain(
        ctx.session, case, calendar=ctx.calendar, periods=ctx.settings.periods, now=ctx.now
    )
    audit_change(ctx, f"meeting_{verb}", "meeting", meeting.id, case=case.code, kind=kind.value)
    lines = [
        f"{label} für {case.code} {verb}: {fmt_datetime(meeting.starts_at.astimezone(ctx.settings.tz))}."
    ]
    if kind is MeetingKind.hpg and not meeting.cancelled:
        plan_end = valid_until(case.start_date, ctx.settings.periods.first_help_plan_months)
        if (
            meeting.starts_at.astimezone(ctx.settings.tz).date() > plan_end
            and ctx.today <= plan_end
        ):
            lines.append(f"Achtung: Der Ersthilfeplan gilt nur bis {fmt_date(plan_end)}.")
    lines += changes_lines(changes, case.code, ctx.today) or ["Die Fristen bleiben unverändert."]
    return Reply("\n".join(lines))


@REGISTRY.command(
    "hpg",
    summary="Hilfeplangespräch eintragen, verlegen oder absagen",
    example="/hpg HB-2025-017 02.06.2025 10:00",
)
@asks_weekday("hpg")
def hpg(ctx: Ctx, args: str) -> Reply:
    """Set or move the next help-plan meeting; its report deadline follows (C2)."""
    return _set_meeting(ctx, args, MeetingKind.hpg)


@REGISTRY.command(
    "abschluss",
    summary="Abschlussgespräch eintragen, verlegen oder absagen",
    example="/abschluss HB-2025-017 30.09.2025 14:00",
)
@asks_weekday("abschluss")
def closing_meeting(ctx: Ctx, args: str) -> Reply:
    """Set or move the closing meeting; its report deadline follows (C2)."""
    return _set_meeting(ctx, args, MeetingKind.closing)


@REGISTRY.command(
    "abstimmung",
    "coordination",
    summary="Abstimmungsbedarf melden (Gespräch binnen 7 Werktagen)",
    example="/abstimmung HB-2025-017",
)
@asks_weekday("abstimmung")
def coordination(ctx: Ctx, args: str) -> Reply:
    """Raise a need for coordination; a meeting is due within N working days (C3)."""
    positional, _ = split_args(args)
    if not positional:
        raise UserError(
            "Bitte das Aktenzeichen angeben, z. B. /abstimmung HB-2025-017 (optional mit Datum: gestern)."
        )
    case = visible_case(ctx, positional[0])
    if case.status is CaseStatus.closed:
        raise UserError(f"Der Fall {case.code} ist abgeschlossen.")
    raised = day_not_after_today(
        ctx, positional[1:], "Abstimmungsbedarf kann nicht in der Zukunft gemeldet werden."
    )
    if raised < case.start_date:
        # Issue 14: a deadline before the help began is a typo (a wrong year), never intended.
        raise UserError(
            f"Der {fmt_date(raised)} liegt vor dem Hilfebeginn von {case.code} "
            f"({fmt_date(case.start_date)}). Abstimmungsbedarf gibt es erst ab Hilfebeginn – "
            "bitte das Datum prüfen."
        )
    # Issue 14: a coordination meeting still open whose window holds this day is probably
    # the same need reported twice (both sides, or a message sent again).
    pending = [
        d
        for d in deadlines_of_case(ctx.session, case.id or 0)
        if d.kind is DeadlineKind.coordination
        and d.status is DeadlineStatus.open
        and d.due >= raised
    ]
    request = CoordinationRequest(
        case_id=case.id or 0, raised_on=raised, raised_by=ctx.staff_id, created_at=ctx.now
    )
    ctx.session.add(request)
    ctx.session.flush()
    changes = recompute_chain(
        ctx.session, case, calendar=ctx.calendar, periods=ctx.settings.periods, now=ctx.now
    )
    audit_change(ctx, "raise", "coordination_request", request.id, case=case.code)
    lines = [
        f"Abstimmungsbedarf für {case.code} am {fmt_date(raised)} vermerkt.",
        *changes_lines(changes, case.code, ctx.today),
    ]
    added = [d for d in changes.added if d.kind is DeadlineKind.coordination]
    if pending and added:
        first = pending[0]
        lines.append(
            f"⚠️ Für {case.code} ist schon ein Abstimmungsgespräch offen (#{first.id}, bis "
            f"{fmt_date_wd(first.due)}). Doppelt gemeldet? Dann die neue Frist mit "
            f"/erledigt {added[0].id} abhaken."
        )
    return Reply("\n".join(lines))
