"""Rotations from chat (issues 6, 15, R1): set up, show, change and end a rotation.

A change or an end is a new rule version from a date on; shifts already begun never change
(`scheduler.rota_edit`). Swaps and overrides the change makes void are cancelled and their
people told; everyone whose next shift moved hears what it was and what it is now.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from sqlmodel import select

from bot.commands.common import audit_change
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import WEEKDAY_LONG, fmt_date_wd, fmt_datetime, fmt_time
from bot.messages import Reply
from bot.names import refuse_names
from bot.parsing.args import split_args
from bot.parsing.dates import parse_date
from bot.parsing.day_words import WEEKDAY_WORDS
from bot.parsing.echo import shown
from bot.parsing.times import parse_time
from bot.registry import REGISTRY
from bot.rota_apply import apply_change
from bot.rota_common import (
    SHOWN_DUTIES,
    coordinates,
    duty_lines,
    length_text,
    person,
    rotation,
    rule_text,
    state_of,
    who,
)
from config.enums import Role
from scheduler import rota_state
from scheduler.rota import RotaSpec, base_holder, shift_by_number, wall_clock
from scheduler.rota_edit import Plan, RuleChange, plan_edit, plan_end
from storage import rota as store
from storage.models.rota import Rotation
from storage.models.staff import Staff, Team
from storage.rota_rules import create_rotation

_NEW_USAGE = (
    '/rufbereitschaft_neu "Rufbereitschaft Nord" mitglieder=MK,JB,TS schicht=woche '
    'uebergabe="Mo 09:00" zweite=naechste'
)
_EDIT_USAGE = (
    "/rufbereitschaft_aendern Weserufer mitglieder=MK,JB,TS,LW ab=01.05. "
    '(auch schicht=, uebergabe="Mi 08:00", zweite=, erste=KÜRZEL)'
)
_END_USAGE = "/rufbereitschaft_beenden Weserufer ab=01.05."


def _shift_days(raw: str) -> int:
    text = raw.strip().lower()
    if text in ("woche", "wöchentlich", "woechentlich", "w", "7"):
        return 7
    if text in ("tag", "täglich", "taeglich", "t", "1"):
        return 1
    m = re.fullmatch(r"(\d{1,2})\s*(tage?|wochen?)?", text)
    if m:
        days = int(m[1]) * (7 if (m[2] or "").startswith("woche") else 1)
        if 1 <= days <= 28:
            return days
    raise UserError(
        f"{shown(raw)} verstehe ich nicht als Schichtlänge. Beispiele: schicht=woche, "
        "schicht=tag, schicht=3 (Tage), schicht=2wochen (höchstens 28 Tage)."
    )


def _handover(raw: str) -> tuple[int | None, time]:
    parts = raw.strip().split()
    if len(parts) == 2 and parts[0].lower().rstrip(".,") in WEEKDAY_WORDS:
        return WEEKDAY_WORDS[parts[0].lower().rstrip(".,")], parse_time(parts[1])
    if len(parts) == 1:
        return None, parse_time(parts[0])
    raise UserError(
        f'{shown(raw)} verstehe ich nicht als Übergabe. Beispiele: uebergabe="Mo 09:00", '
        "uebergabe=09:00."
    )


def _members(ctx: Ctx, raw: str, org_id: int) -> list[Staff]:
    members: list[Staff] = []
    for handle in (h for h in re.split(r"[,\s]+", raw) if h):
        member = person(ctx, handle)
        if member.organisation_id != org_id:
            raise UserError(f"{who(member)} gehört nicht zu deiner Organisation.")
        if member in members:
            raise UserError(f"{who(member)} steht doppelt in der Liste.")
        members.append(member)
    if not members:
        raise UserError("Bitte mindestens ein Mitglied angeben, z. B. mitglieder=MK,JB.")
    return members


def _backup(ctx: Ctx, raw: str, org_id: int) -> tuple[int | None, bool]:
    text = raw.strip().lower()
    if text in ("naechste", "nächste", "next", "naechster", "nächster"):
        return None, True
    if not text or text in ("keine", "nein"):
        return None, False
    backup = person(ctx, raw)
    if backup.organisation_id != org_id:
        raise UserError(f"{who(backup)} gehört nicht zu deiner Organisation.")
    return backup.id, False


@REGISTRY.command(
    "rufbereitschaft_neu",
    "newrota",
    summary="Rufbereitschaft einrichten (Mitglieder, Schicht, Übergabe)",
    example=_NEW_USAGE,
    roles={Role.coordinator},
)
def new_rotation(ctx: Ctx, args: str) -> Reply:
    """A coordinator sets up a rotation of their organisation."""
    positional, options = split_args(args)
    name = " ".join(positional).strip()
    raw_members = options.pop("mitglieder", None) or options.pop("members", None)
    raw_shift = options.pop("schicht", "woche")
    raw_handover = options.pop("uebergabe", None) or options.pop("übergabe", None) or "Mo 09:00"
    raw_start = options.pop("start", None) or options.pop("ab", None)
    raw_backup = options.pop("zweite", None) or options.pop("backup", None) or ""
    raw_team = options.pop("team", None)
    if options:
        raise UserError(f"Unbekannte Angabe „{sorted(options)[0]}“. Beispiel: {_NEW_USAGE}")
    if not 3 <= len(name) <= 120 or not raw_members:
        raise UserError(f"Bitte Name und Mitglieder angeben. Beispiel: {_NEW_USAGE}")
    refuse_names(name, where="dem Namen")  # shown to the other side and in the feeds
    if ctx.session.exec(select(Rotation).where(Rotation.name == name)).first() is not None:
        raise UserError(f"Eine Rufbereitschaft „{name}“ gibt es schon. /rufbereitschaft zeigt sie.")
    org_id = ctx.staff.organisation_id
    members = _members(ctx, raw_members, org_id)
    shift_days = _shift_days(raw_shift)
    weekday, handover = _handover(raw_handover)
    start = parse_date(raw_start, ctx.today) if raw_start else ctx.today
    if weekday is not None and shift_days % 7 == 0:
        start += timedelta(days=(weekday - start.weekday()) % 7)
    backup_id, backup_next = _backup(ctx, raw_backup, org_id)
    team_id = None
    if raw_team:
        team = ctx.session.exec(
            select(Team).where(Team.organisation_id == org_id, Team.name == raw_team.strip())
        ).first()
        if team is None:
            raise UserError(f"Ein Team {shown(raw_team)} gibt es in deiner Organisation nicht.")
        team_id = team.id
    rot = create_rotation(
        ctx.session,
        organisation_id=org_id,
        name=name,
        first_day=wall_clock(start, handover, ctx.settings.tz),
        handover=handover,
        shift_days=shift_days,
        members=[m.id for m in members if m.id is not None],
        team_id=team_id,
        backup_staff_id=backup_id,
        backup_next=backup_next,
        now=ctx.now,
        actor=ctx.staff_id,
    )
    audit_change(ctx, "create", "rotation", rot.id, members=len(members), shift_days=shift_days)
    state = state_of(ctx, rot)
    when = (
        f"{WEEKDAY_LONG[start.weekday()]}s {fmt_time(handover)}"
        if shift_days % 7 == 0
        else f"{fmt_time(handover)}"
    )
    second = (
        "die/der Nächste in der Reihe" if backup_next else who(state.staff.get(backup_id or -1))
    )
    lines = [
        f"Rufbereitschaft „{name}“ eingerichtet (#{rot.id}):",
        f"Reihenfolge: {', '.join(who(m) for m in members)}",
        f"Schicht {length_text(shift_days)}, Übergabe {when}, erste Schicht ab {fmt_date_wd(start)}",
        f"Zweite Linie: {second if backup_next or backup_id else 'keine'}",
        "Die nächsten Schichten:",
        *duty_lines(ctx, state, SHOWN_DUTIES, ctx.now),
    ]
    return Reply("\n".join(lines))


@REGISTRY.command(
    "rufbereitschaft",
    "rota",
    summary="Eine Rufbereitschaft mit den nächsten Schichten",
    example="/rufbereitschaft, /rufbereitschaft Weserufer",
)
def show_rotation(ctx: Ctx, args: str) -> Reply:
    """Members, shift rule, second line, planned changes and the coming shifts."""
    rows = store.find_rotations(ctx.session, args)
    if not rows:
        raise UserError("Diese Rufbereitschaft finde ich nicht. /rufbereitschaft zeigt alle.")
    blocks = []
    tz = ctx.settings.tz
    for state in rota_state.load_states(ctx.session, tz, start=ctx.now, rotations=rows):
        rot = state.rotation
        now_index = state.spec.index_at(ctx.now)
        lines = [f"{rot.name} (#{rot.id}, {state.organisation.name}):"]
        ends = state.spec.ends_at()
        for i, rule in enumerate(state.spec.rules):
            if now_index is not None and i < now_index:
                continue
            begins = rule.effective_from
            if rule.ended:
                word = "Beendet seit" if begins <= ctx.now else "Endet am"
                lines.append(f"{word} {fmt_datetime(begins.astimezone(tz))}.")
            elif begins > ctx.now:
                lines.append(f"Ab {fmt_datetime(begins.astimezone(tz))}: {rule_text(state, rule)}")
            else:
                lines.append(rule_text(state, rule))
        if ends is None or ends > ctx.now:
            lines += duty_lines(ctx, state, SHOWN_DUTIES, ctx.now)
        blocks.append("\n".join(lines))
    return Reply("\n\n".join(blocks))


def _coordinated(ctx: Ctx, raw_name: str, usage: str) -> Rotation:
    if not raw_name:
        raise UserError(f"Welche Rufbereitschaft? Beispiel: {usage}")
    rot = rotation(ctx, raw_name)
    if not coordinates(ctx, rot.organisation_id):
        raise UserError(f"„{rot.name}“ ändert die Koordination ihrer Organisation.")
    return rot


def _from_day(ctx: Ctx, raw: str | None) -> date:
    if raw is None:
        return ctx.today
    day = parse_date(raw, ctx.today)
    if day < ctx.today:
        raise UserError(
            f"{fmt_date_wd(day)} liegt in der Vergangenheit; Schichten, die schon begonnen "
            "haben, bleiben, wie sie waren."
        )
    return day


@REGISTRY.command(
    "rufbereitschaft_aendern",
    "rufbereitschaft_ändern",
    "editrota",
    summary="Rufbereitschaft ab einem Datum ändern",
    example=_EDIT_USAGE,
    roles={Role.coordinator},
)
def edit_rotation(ctx: Ctx, args: str) -> Reply:
    """A new rule version from a date on; begun shifts stay as they were."""
    positional, options = split_args(args)
    raw_members = options.pop("mitglieder", None) or options.pop("members", None)
    raw_shift = options.pop("schicht", None)
    raw_handover = options.pop("uebergabe", None) or options.pop("übergabe", None)
    raw_backup = options.pop("zweite", None)
    raw_first = options.pop("erste", None)
    raw_from = options.pop("ab", None)
    if options:
        raise UserError(f"Unbekannte Angabe „{sorted(options)[0]}“. Beispiel: {_EDIT_USAGE}")
    rot = _coordinated(ctx, " ".join(positional).strip(), _EDIT_USAGE)
    if all(x is None for x in (raw_members, raw_shift, raw_handover, raw_backup, raw_first)):
        raise UserError(f"Was soll sich ändern? Beispiel: {_EDIT_USAGE}")
    org = rot.organisation_id
    members = None if raw_members is None else _members(ctx, raw_members, org)
    weekday, handover = (None, None) if raw_handover is None else _handover(raw_handover)
    first = None if raw_first is None else person(ctx, raw_first)
    change = RuleChange(
        members=None if members is None else tuple(m.id for m in members if m.id is not None),
        shift_days=None if raw_shift is None else _shift_days(raw_shift),
        handover=handover,
        weekday=weekday,
        backup=None if raw_backup is None else _backup(ctx, raw_backup, org),
        first=None if first is None else first.id,
    )
    before = state_of(ctx, rot)
    if first is not None:
        upcoming = change.members or _upcoming_members(before.spec, ctx.now)
        if first.id not in upcoming:
            raise UserError(f"{who(first)} gehört nicht zu den Mitgliedern der Rufbereitschaft.")
    try:
        plan = plan_edit(before.spec, change, _from_day(ctx, raw_from), ctx.now)
    except ValueError as exc:
        raise UserError("Diese Rufbereitschaft hat keine Mitglieder mehr.") from exc
    if _unchanged(before.spec, plan):
        raise UserError("So gilt es schon; ich habe nichts geändert. /rufbereitschaft zeigt es.")
    return apply_change(ctx, rot, before, plan, "edit")


@REGISTRY.command(
    "rufbereitschaft_beenden",
    "endrota",
    summary="Rufbereitschaft ab einem Datum beenden",
    example=_END_USAGE,
    roles={Role.coordinator},
)
def end_rotation(ctx: Ctx, args: str) -> Reply:
    """The last version: no shifts from the date on (a shift already begun ends as planned)."""
    positional, options = split_args(args)
    raw_from = options.pop("ab", None)
    if options or raw_from is None:
        raise UserError(f"Bitte angeben, ab wann. Beispiel: {_END_USAGE}")
    rot = _coordinated(ctx, " ".join(positional).strip(), _END_USAGE)
    before = state_of(ctx, rot)
    try:
        plan = plan_end(before.spec, _from_day(ctx, raw_from), ctx.now)
    except ValueError as exc:
        raise UserError(f"„{rot.name}“ ist bereits beendet.") from exc
    return apply_change(ctx, rot, before, plan, "end")


def _upcoming_members(spec: RotaSpec, now: datetime) -> tuple[int, ...]:
    index = spec.index_at(now) or 0
    return tuple(m for r in spec.rules[index:] for m in r.members)


def _unchanged(old: RotaSpec, plan: Plan) -> bool:
    """The new version repeats the rule in force: same shifts, same people, same second line."""
    rule = plan.rule
    current = old.rule_at(rule.effective_from)
    if current is None or rule.ended or current.ended:
        return False
    same_rule = (
        current.members == rule.members
        and current.shift_days == rule.shift_days
        and current.handover == rule.handover
        and (current.backup_staff_id, current.backup_next)
        == (rule.backup_staff_id, rule.backup_next)
    )
    if not same_rule or plan.superseded:
        return False
    new_first = plan.spec.rules[-1]
    a = shift_by_number(old, new_first.first_number)
    b = shift_by_number(plan.spec, new_first.first_number)
    return (
        a is not None
        and b is not None
        and (a.start, a.end) == (b.start, b.end)
        and base_holder(old, a) == base_holder(plan.spec, b)
    )
