"""Rotations from chat (issue 6, R1): set up, show, overrides, swaps, handover confirmation."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from sqlmodel import select

from bot.commands.common import audit_change
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import WEEKDAY_LONG, fmt_date_wd, fmt_time
from bot.messages import Reply
from bot.names import refuse_names
from bot.parsing import WEEKDAY_WORDS, parse_date, parse_time, shown, split_args
from bot.registry import REGISTRY
from bot.rota_common import (
    coordinates,
    day_after,
    day_start,
    fmt_span,
    is_handle,
    parse_range,
    person,
    rotation,
    who,
)
from scheduler.rota import scheduled_holder, shift_of
from scheduler.rota_sweep import OVERRIDE, SWAP
from storage import outbox
from storage import rota as store
from storage.bounds import db_id
from storage.enums import Role
from storage.models import (
    OncallHandover,
    OncallOverride,
    OncallSwap,
    Rotation,
    RotationMember,
    Staff,
    Team,
)
from storage.outbox import NewEntry

_NEW_USAGE = (
    '/rufbereitschaft_neu "Rufbereitschaft Nord" mitglieder=MK,JB,TS schicht=woche '
    'uebergabe="Mo 09:00" zweite=naechste'
)
_REASONS = {"krank": "krank", "urlaub": "Urlaub", "sonstiges": "sonstiges"}
_SHOWN_DUTIES = 4


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


def _duty_lines(ctx: Ctx, state: store.RotaState, count: int) -> list[str]:
    lines: list[str] = []
    start = ctx.now
    for duty in state.duties(start, start + timedelta(days=state.spec.shift_days * count + 1)):
        if len(lines) >= count:
            break
        holder = state.staff.get(duty.staff_id)
        note = ""
        if duty.override is not None:
            note = f" (vertritt {who(state.staff.get(duty.override.absent))})"
        elif duty.scheduled != state.spec.members[duty.shift.number % len(state.spec.members)]:
            note = " (getauscht)"
        lines.append(f"  {fmt_span(duty.start, duty.end, ctx.settings.tz)}: {who(holder)}{note}")
    return lines


@REGISTRY.command(
    "rufbereitschaft_neu",
    "newrota",
    summary="Rufbereitschaft einrichten: Mitglieder, Schichtlänge, Übergabe, zweite Linie",
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
    raw_backup = (options.pop("zweite", None) or options.pop("backup", None) or "").strip()
    raw_team = options.pop("team", None)
    if options:
        raise UserError(f"Unbekannte Angabe „{sorted(options)[0]}“. Beispiel: {_NEW_USAGE}")
    if not 3 <= len(name) <= 120 or not raw_members:
        raise UserError(f"Bitte Name und Mitglieder angeben. Beispiel: {_NEW_USAGE}")
    refuse_names(name, where="dem Namen")  # shown to the other side and in the feeds
    if ctx.session.exec(select(Rotation).where(Rotation.name == name)).first() is not None:
        raise UserError(f"Eine Rufbereitschaft „{name}“ gibt es schon. /rufbereitschaft zeigt sie.")
    org_id = ctx.staff.organisation_id
    members: list[Staff] = []
    for handle in (h for h in re.split(r"[,\s]+", raw_members) if h):
        member = person(ctx, handle)
        if member.organisation_id != org_id:
            raise UserError(f"{who(member)} gehört nicht zu deiner Organisation.")
        if member in members:
            raise UserError(f"{who(member)} steht doppelt in der Liste.")
        members.append(member)
    shift_days = _shift_days(raw_shift)
    weekday, handover = _handover(raw_handover)
    start = parse_date(raw_start, ctx.today) if raw_start else ctx.today
    if weekday is not None and shift_days % 7 == 0:
        start += timedelta(days=(weekday - start.weekday()) % 7)
    backup_id, backup_next = None, False
    if raw_backup.lower() in ("naechste", "nächste", "next", "naechster", "nächster"):
        backup_next = True
    elif raw_backup and raw_backup.lower() not in ("keine", "nein"):
        backup = person(ctx, raw_backup)
        if backup.organisation_id != org_id:
            raise UserError(f"{who(backup)} gehört nicht zu deiner Organisation.")
        backup_id = backup.id
    team_id = None
    if raw_team:
        team = ctx.session.exec(
            select(Team).where(Team.organisation_id == org_id, Team.name == raw_team.strip())
        ).first()
        if team is None:
            raise UserError(f"Ein Team {shown(raw_team)} gibt es in deiner Organisation nicht.")
        team_id = team.id
    rot = Rotation(
        organisation_id=org_id,
        name=name,
        anchor=start,
        handover=handover,
        shift_days=shift_days,
        team_id=team_id,
        backup_staff_id=backup_id,
        backup_next=backup_next,
    )
    ctx.session.add(rot)
    ctx.session.flush()
    assert rot.id is not None
    for position, member in enumerate(members):
        assert member.id is not None
        ctx.session.add(RotationMember(rotation_id=rot.id, staff_id=member.id, position=position))
    ctx.session.flush()
    audit_change(ctx, "create", "rotation", rot.id, members=len(members), shift_days=shift_days)
    state = store.load_state(ctx.session, rot, ctx.settings.tz)
    length = {1: "täglich", 7: "wöchentlich"}.get(shift_days, f"alle {shift_days} Tage")
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
        f"Schicht {length}, Übergabe {when}, erste Schicht ab {fmt_date_wd(start)}",
        f"Zweite Linie: {second if backup_next or backup_id else 'keine'}",
        "Die nächsten Schichten:",
        *_duty_lines(ctx, state, _SHOWN_DUTIES),
    ]
    return Reply("\n".join(lines))


@REGISTRY.command(
    "rufbereitschaft",
    "rota",
    summary="Eine Rufbereitschaft mit den nächsten Schichten, Vertretungen und Tauschen",
    example="/rufbereitschaft, /rufbereitschaft Weserufer",
)
def show_rotation(ctx: Ctx, args: str) -> Reply:
    """Members, shift rule, second line and the coming shifts of one or every rotation."""
    rows = store.find_rotations(ctx.session, args)
    if not rows:
        raise UserError("Diese Rufbereitschaft finde ich nicht. /rufbereitschaft zeigt alle.")
    blocks = []
    for rot in rows:
        state = store.load_state(ctx.session, rot, ctx.settings.tz)
        order = ", ".join(who(state.staff.get(m)) for m in state.spec.members)
        second = (
            "die/der Nächste in der Reihe"
            if rot.backup_next
            else who(state.staff.get(rot.backup_staff_id or -1))
            if rot.backup_staff_id
            else "keine"
        )
        blocks.append(
            "\n".join(
                [
                    f"{rot.name} (#{rot.id}, {state.organisation.name}):",
                    f"Reihenfolge: {order or '–'}; Schicht {rot.shift_days} Tag(e), "
                    f"Übergabe {fmt_time(rot.handover)}; zweite Linie: {second}",
                    *_duty_lines(ctx, state, _SHOWN_DUTIES),
                ]
            )
        )
    return Reply("\n\n".join(blocks))


@REGISTRY.command(
    "vertretung",
    "override",
    summary="Vertretung in der Rufbereitschaft (krank, Urlaub): wer, wann, durch wen",
    example="/vertretung JB 14.04.-18.04. durch=TS grund=krank · /vertretung bis 25.04. durch=MK",
)
def add_override(ctx: Ctx, args: str) -> Reply:
    """Coordinators for their staff, or the person themself: a substitute over a date range."""
    positional, options = split_args(args)
    usage = "/vertretung JB 14.04.-18.04. durch=TS grund=krank"
    raw_sub = options.pop("durch", None) or options.pop("vertretung", None)
    reason = (options.pop("grund", None) or "krank").strip().lower()
    raw_rot = options.pop("rb", None) or options.pop("rufbereitschaft", None)
    if options:
        raise UserError(f"Unbekannte Angabe „{sorted(options)[0]}“. Beispiel: {usage}")
    if not raw_sub:
        raise UserError(f"Bitte angeben, wer vertritt (durch=KÜRZEL). Beispiel: {usage}")
    if reason not in _REASONS:
        raise UserError("grund= kann krank, urlaub oder sonstiges sein.")
    absent = ctx.staff
    if positional and is_handle(ctx, positional[0]):
        absent = person(ctx, positional.pop(0))
    if absent.id != ctx.staff_id and not coordinates(ctx, absent.organisation_id):
        raise UserError("Eine Vertretung tragen die Person selbst oder ihre Koordination ein.")
    first, last = parse_range(" ".join(positional), ctx.today)
    substitute = person(ctx, raw_sub)
    if substitute.id == absent.id:
        raise UserError("Vertretung und vertretene Person sind dieselbe.")
    if substitute.organisation_id != absent.organisation_id:
        raise UserError(f"{who(substitute)} gehört nicht zur selben Organisation.")
    rot = rotation(ctx, raw_rot, member=absent) if raw_rot else None
    start, end = max(day_start(ctx, first), ctx.now), day_after(ctx, last)
    override = OncallOverride(
        rotation_id=None if rot is None else rot.id,
        absent_staff_id=absent.id or 0,
        substitute_staff_id=substitute.id or 0,
        starts_at=start,
        ends_at=end,
        reason=reason,
        created_by=ctx.staff_id,
        created_at=ctx.now,
    )
    ctx.session.add(override)
    ctx.session.flush()
    assert override.id is not None and substitute.id is not None
    audit_change(ctx, "create", "oncall_override", override.id, absent=absent.id)
    outbox.insert_entries(
        ctx.session,
        [NewEntry(OVERRIDE, override.id, "sub", substitute.id, ctx.now, ctx.now)],
        ctx.now,
    )
    affected = []
    rotations = [rot] if rot is not None else list(ctx.session.exec(select(Rotation)))
    for r in rotations:
        state = store.load_state(ctx.session, r, ctx.settings.tz)
        for duty in state.duties(start, end):
            if duty.override is not None and duty.override.id == override.id:
                affected.append(f"  {r.name}: {fmt_span(duty.start, duty.end, ctx.settings.tz)}")
    lines = [
        f"Vertretung #{override.id} eingetragen ({_REASONS[reason]}): {who(substitute)} "
        f"übernimmt für {who(absent)}, {fmt_span(start, end, ctx.settings.tz)}.",
        *(
            ["Betroffene Dienste:", *affected]
            if affected
            else ["In diesem Zeitraum hat " + who(absent) + " keinen Rufbereitschaftsdienst."]
        ),
        f"{substitute.name} bekommt eine Nachricht. Zurücknehmen: /vertretung_loeschen {override.id}",
    ]
    return Reply("\n".join(lines))


@REGISTRY.command(
    "vertretung_loeschen",
    "vertretung_absagen",
    summary="Eine Vertretung in der Rufbereitschaft zurücknehmen",
    example="/vertretung_loeschen 3",
)
def cancel_override(ctx: Ctx, args: str) -> Reply:
    number = args.strip().lstrip("#")
    override = ctx.session.get(OncallOverride, found) if (found := db_id(number)) else None
    if override is None or override.cancelled_at is not None:
        raise UserError(f"Eine gültige Vertretung {shown(args or '?')} finde ich nicht.")
    absent = ctx.session.get(Staff, override.absent_staff_id)
    assert absent is not None
    allowed = ctx.staff_id in (override.absent_staff_id, override.created_by) or coordinates(
        ctx, absent.organisation_id
    )
    if not allowed:
        raise UserError("Zurücknehmen dürfen die vertretene Person und ihre Koordination.")
    override.cancelled_at = ctx.now
    ctx.session.add(override)
    audit_change(ctx, "cancel", "oncall_override", override.id)
    return Reply(f"Vertretung #{override.id} zurückgenommen.")


def _swap_text(ctx: Ctx, swap: OncallSwap, state: store.RotaState) -> str:
    a = shift_by(state, swap.shift_a)
    text = (
        f"Tausch #{swap.id} ({state.rotation.name}): {who(state.staff.get(swap.holder_b))} "
        f"übernimmt {fmt_span(a[0], a[1], ctx.settings.tz)} von {who(state.staff.get(swap.holder_a))}"
    )
    if swap.shift_b is not None:
        b = shift_by(state, swap.shift_b)
        text += (
            f", {who(state.staff.get(swap.holder_a))} dafür {fmt_span(b[0], b[1], ctx.settings.tz)}"
        )
    return text + "."


def shift_by(state: store.RotaState, number: int) -> tuple[datetime, datetime]:
    from scheduler.rota import shift_by_number

    shift = shift_by_number(state.spec, number)
    return shift.start, shift.end


@REGISTRY.command(
    "tausch",
    "swap",
    summary="Dienst tauschen: gilt, sobald beide bestätigt haben",
    example="/tausch 14.04. 28.04. · /tausch 14.04. TS (TS übernimmt deinen Dienst)",
)
def request_swap(ctx: Ctx, args: str) -> Reply:
    """Swap the shift covering a date with another date's shift, or hand it to a colleague."""
    positional, options = split_args(args)
    raw_rot = options.pop("rb", None) or options.pop("rufbereitschaft", None)
    usage = "/tausch 14.04. 28.04. oder /tausch 14.04. TS"
    if options or len(positional) != 2:
        raise UserError(f"Bitte zwei Angaben: dein Dienst und der andere. Beispiele: {usage}")
    rot = rotation(ctx, raw_rot, member=ctx.staff)
    state = store.load_state(ctx.session, rot, ctx.settings.tz)
    if not state.spec.members:
        raise UserError(f"„{rot.name}“ hat keine Mitglieder.")

    def shift_on(raw: str) -> tuple[int, int]:
        day = parse_date(raw, ctx.today)
        shift = shift_of(state.spec, datetime.combine(day, time(12), tzinfo=ctx.settings.tz))
        if shift.end <= ctx.now:
            raise UserError(f"Der Dienst am {fmt_date_wd(day)} ist schon vorbei.")
        return shift.number, scheduled_holder(state.spec, shift.number, state.swaps)

    shift_a, holder_a = shift_on(positional[0])
    shift_b: int | None = None
    if is_handle(ctx, positional[1]):
        partner = person(ctx, positional[1])
        if partner.organisation_id != rot.organisation_id:
            raise UserError(f"{who(partner)} gehört nicht zu dieser Rufbereitschaft.")
        holder_b = partner.id or 0
    else:
        shift_b, holder_b = shift_on(positional[1])
        if shift_b == shift_a:
            raise UserError("Das ist zweimal derselbe Dienst.")
    if holder_a == holder_b:
        raise UserError(f"Beide Dienste hat {who(state.staff.get(holder_a))}; nichts zu tauschen.")
    if ctx.staff_id not in (holder_a, holder_b) and not coordinates(ctx, rot.organisation_id):
        raise UserError(
            "Tauschen können die beiden Beteiligten (oder die Koordination schlägt es vor). "
            f"Den Dienst hat {who(state.staff.get(holder_a))}."
        )
    swap = OncallSwap(
        rotation_id=state.id,
        shift_a=shift_a,
        holder_a=holder_a,
        holder_b=holder_b,
        shift_b=shift_b,
        requested_by=ctx.staff_id,
        confirmed_a_at=ctx.now if ctx.staff_id == holder_a else None,
        confirmed_b_at=ctx.now if ctx.staff_id == holder_b else None,
        created_at=ctx.now,
    )
    ctx.session.add(swap)
    ctx.session.flush()
    assert swap.id is not None
    audit_change(ctx, "request", "oncall_swap", swap.id)
    waiting = [
        h
        for h, done in ((holder_a, swap.confirmed_a_at), (holder_b, swap.confirmed_b_at))
        if done is None
    ]
    outbox.insert_entries(
        ctx.session, [NewEntry(SWAP, swap.id, "ask", h, ctx.now, ctx.now) for h in waiting], ctx.now
    )
    names = " und ".join(who(state.staff.get(h)) for h in waiting)
    return Reply(
        f"{_swap_text(ctx, swap, state)}\nDer Tausch gilt, sobald {names} bestätigt "
        f"(/tausch_ok {swap.id}); ich habe nachgefragt."
    )


def _own_swap(ctx: Ctx, args: str) -> tuple[OncallSwap, store.RotaState]:
    number = args.strip().lstrip("#")
    swap = ctx.session.get(OncallSwap, found) if (found := db_id(number)) else None
    if swap is None or ctx.staff_id not in (swap.holder_a, swap.holder_b, swap.requested_by):
        raise UserError(f"Einen Tausch {shown(args or '?')} mit dir finde ich nicht.")
    if swap.status != store.PENDING:
        word = "gilt bereits" if swap.status == store.CONFIRMED else "wurde abgelehnt"
        raise UserError(f"Tausch #{swap.id} {word}.")
    rot = ctx.session.get(Rotation, swap.rotation_id)
    assert rot is not None
    return swap, store.load_state(ctx.session, rot, ctx.settings.tz)


def _notify(ctx: Ctx, swap: OncallSwap, stage: str) -> None:
    assert swap.id is not None
    people = {swap.holder_a, swap.holder_b, swap.requested_by} - {ctx.staff_id}
    outbox.insert_entries(
        ctx.session,
        [NewEntry(SWAP, swap.id, stage, p, ctx.now, ctx.now) for p in sorted(people)],
        ctx.now,
    )


@REGISTRY.command(
    "tausch_ok",
    "swap_ok",
    summary="Einem Diensttausch zustimmen",
    example="/tausch_ok 4",
)
def confirm_swap(ctx: Ctx, args: str) -> Reply:
    swap, state = _own_swap(ctx, args)
    if ctx.staff_id == swap.holder_a and swap.confirmed_a_at is None:
        swap.confirmed_a_at = ctx.now
    elif ctx.staff_id == swap.holder_b and swap.confirmed_b_at is None:
        swap.confirmed_b_at = ctx.now
    else:
        raise UserError(
            f"Du hast Tausch #{swap.id} schon bestätigt; es fehlt noch die andere Seite."
        )
    if swap.confirmed_a_at is None or swap.confirmed_b_at is None:
        ctx.session.add(swap)
        audit_change(ctx, "confirm", "oncall_swap", swap.id)
        return Reply(f"Bestätigt. Tausch #{swap.id} gilt, sobald auch die andere Seite zustimmt.")
    # Both agreed: the shifts must still be as they were when asked.
    still = scheduled_holder(state.spec, swap.shift_a, state.swaps) == swap.holder_a and (
        swap.shift_b is None
        or scheduled_holder(state.spec, swap.shift_b, state.swaps) == swap.holder_b
    )
    ends = [shift_by(state, n)[1] for n in (swap.shift_a, swap.shift_b) if n is not None]
    if not still or any(end <= ctx.now for end in ends):
        swap.status, swap.decided_at = store.DECLINED, ctx.now
        ctx.session.add(swap)
        audit_change(ctx, "void", "oncall_swap", swap.id)
        return Reply(
            f"Tausch #{swap.id} geht nicht mehr: die Dienste haben sich inzwischen geändert "
            "oder sind vorbei. /rufbereitschaft zeigt den Stand."
        )
    swap.status, swap.decided_at = store.CONFIRMED, ctx.now
    ctx.session.add(swap)
    audit_change(ctx, "confirm", "oncall_swap", swap.id)
    _notify(ctx, swap, "done")
    return Reply(f"Der Tausch gilt ab sofort. {_swap_text(ctx, swap, state)}")


@REGISTRY.command(
    "tausch_nein",
    "swap_no",
    summary="Einen Diensttausch ablehnen",
    example="/tausch_nein 4",
)
def decline_swap(ctx: Ctx, args: str) -> Reply:
    swap, _state = _own_swap(ctx, args)
    swap.status, swap.decided_at = store.DECLINED, ctx.now
    ctx.session.add(swap)
    audit_change(ctx, "decline", "oncall_swap", swap.id)
    _notify(ctx, swap, "no")
    return Reply(f"Tausch #{swap.id} abgelehnt; die Dienste bleiben, wie sie waren.")


@REGISTRY.command(
    "uebergabe_ok",
    "übergabe_ok",
    "handover_ok",
    summary="Übernahme der Rufbereitschaft bestätigen",
    example="/uebergabe_ok",
)
def confirm_handover(ctx: Ctx, args: str) -> Reply:
    """The incoming person confirms the shift that has begun or begins within a day."""
    rotations = store.find_rotations(ctx.session, args.strip()) if args.strip() else None
    if rotations is None:
        rotations = store.rotations_of_member(ctx.session, ctx.staff_id)
        rotations += [
            r for r in store.find_rotations(ctx.session, "") if r not in rotations
        ]  # substitutes are no members
    confirmed = []
    for rot in rotations:
        state = store.load_state(ctx.session, rot, ctx.settings.tz)
        for duty in state.duties(ctx.now, ctx.now + timedelta(days=1)):
            if duty.staff_id != ctx.staff_id or duty.start != duty.shift.start:
                continue
            exists = ctx.session.exec(
                select(OncallHandover).where(
                    OncallHandover.rotation_id == state.id,
                    OncallHandover.shift_number == duty.shift.number,
                    OncallHandover.staff_id == ctx.staff_id,
                )
            ).first()
            if exists is None:
                ctx.session.add(
                    OncallHandover(
                        rotation_id=state.id,
                        shift_number=duty.shift.number,
                        staff_id=ctx.staff_id,
                        confirmed_at=ctx.now,
                    )
                )
                audit_change(ctx, "confirm", "oncall_handover", state.id, shift=duty.shift.number)
            confirmed.append(f"{rot.name}: {fmt_span(duty.start, duty.end, ctx.settings.tz)}")
    if not confirmed:
        raise UserError(
            "Du übernimmst in den nächsten 24 Stunden keine Rufbereitschaft. "
            "/rufbereitschaft zeigt die Schichten."
        )
    return Reply("Danke, Übernahme bestätigt:\n" + "\n".join(f"  {c}" for c in confirmed))
