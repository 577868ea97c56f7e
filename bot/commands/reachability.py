"""Reachability (issue 6, R3): presence times, absences, deputies; asked by colleagues."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from sqlmodel import col, select

from bot.commands.common import audit_change, visible_case
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import WEEKDAY_SHORT, fmt_date_wd, fmt_time
from bot.messages import Reply
from bot.parsing.args import split_args
from bot.parsing.day_words import WEEKDAY_WORDS
from bot.parsing.echo import shown
from bot.parsing.times import parse_time_range
from bot.registry import REGISTRY
from bot.rota_common import (
    coordinates,
    day_after,
    day_start,
    fmt_span,
    is_handle,
    on_behalf,
    parse_range,
    person,
    phone,
    who,
)
from scheduler import rota_state
from storage import rota as store
from storage.models.reachability import Availability, Deputy
from storage.models.staff import Staff, Team

_PRESENCE_USAGE = "/praesenz Di-Do 08-16 Fr homeoffice 08-14"
_REMOTE_WORDS = ("homeoffice", "home-office", "ho", "mobil", "remote")
_OFFICE_WORDS = ("buero", "büro", "vor-ort", "dienststelle")
_KINDS = {"krank": "krank", "urlaub": "im Urlaub", "sonstiges": "abwesend", "abwesend": "abwesend"}
_DAY_RE = re.compile(r"([a-zäöü]+)\.?(?:-([a-zäöü]+)\.?)?")


def _days(token: str) -> list[int] | None:
    m = _DAY_RE.fullmatch(token.lower())
    if m is None or m[1] not in WEEKDAY_WORDS or (m[2] and m[2] not in WEEKDAY_WORDS):
        return None
    first = WEEKDAY_WORDS[m[1]]
    last = WEEKDAY_WORDS[m[2]] if m[2] else first
    if last < first:
        raise UserError(f"{shown(token)}: der erste Tag muss vor dem letzten liegen (z. B. Di-Do).")
    return list(range(first, last + 1))


def parse_presence(text: str) -> list[tuple[int, time, time, bool]]:
    """`Di-Do 08-16 Fr homeoffice 08-14` -> (weekday, start, end, remote) per day."""
    rows: list[tuple[int, time, time, bool]] = []
    days: list[int] = []
    remote = False
    span: tuple[time, time] | None = None

    def close() -> None:
        nonlocal days, remote, span
        if not days or span is None:
            raise UserError(
                f"Zu jedem Tag gehört eine Uhrzeit und umgekehrt. Beispiel: {_PRESENCE_USAGE}"
            )
        rows.extend((d, span[0], span[1], remote) for d in days)
        days, remote, span = [], False, None

    for token in (t for t in re.split(r"[\s,;]+", text.strip()) if t):
        found = _days(token)
        if found is not None:
            if span is not None:
                close()
            days += found
        elif token.lower() in _REMOTE_WORDS:
            remote = True
        elif token.lower() in _OFFICE_WORDS:
            remote = False
        else:
            if span is not None:
                raise UserError(f"Zwei Uhrzeiten für dieselben Tage. Beispiel: {_PRESENCE_USAGE}")
            span = parse_time_range(token)
    close()
    weekdays = [r[0] for r in rows]
    if len(set(weekdays)) != len(weekdays):
        raise UserError("Ein Wochentag steht doppelt. Bitte jeden Tag nur einmal angeben.")
    return sorted(rows)


def presence_text(rows: list[Availability]) -> str:
    """`Di–Do 08:00–16:00, Fr 08:00–14:00 (Homeoffice)`; consecutive equal days grouped."""
    groups: list[tuple[int, int, str]] = []
    for row in rows:
        assert row.weekday is not None and row.start_time and row.end_time
        label = f"{fmt_time(row.start_time)}–{fmt_time(row.end_time)}"
        if row.remote:
            label += " (Homeoffice)"
        if groups and groups[-1][2] == label and groups[-1][1] == row.weekday - 1:
            groups[-1] = (groups[-1][0], row.weekday, label)
        else:
            groups.append((row.weekday, row.weekday, label))
    return ", ".join(
        f"{WEEKDAY_SHORT[a]}{'' if a == b else '–' + WEEKDAY_SHORT[b]} {label}"
        for a, b, label in groups
    )


@REGISTRY.command(
    "praesenz",
    "präsenz",
    "presence",
    summary="Deine regelmäßigen Präsenzzeiten setzen oder ansehen (auch Homeoffice)",
    example=f"{_PRESENCE_USAGE} · /praesenz · /praesenz loeschen",
)
def presence(ctx: Ctx, args: str) -> Reply:
    current = store.presence_rows(ctx.session, ctx.staff_id)
    if not args.strip():
        if not current:
            return Reply(f"Du hast keine Präsenzzeiten eingetragen. Beispiel: {_PRESENCE_USAGE}")
        return Reply(f"Deine Präsenzzeiten: {presence_text(current)}")
    if args.strip().lower() in ("loeschen", "löschen", "keine"):
        for row in current:
            ctx.session.delete(row)
        audit_change(ctx, "delete", "presence", ctx.staff_id)
        return Reply("Deine Präsenzzeiten sind gelöscht.")
    rows = parse_presence(args)
    for row in current:
        ctx.session.delete(row)
    ctx.session.flush()
    for weekday, start, end, remote in rows:
        ctx.session.add(
            Availability(
                staff_id=ctx.staff_id,
                weekday=weekday,
                start_time=start,
                end_time=end,
                remote=remote,
            )
        )
    ctx.session.flush()
    audit_change(ctx, "set", "presence", ctx.staff_id, days=len(rows))
    return Reply(
        f"Gespeichert. Deine Präsenzzeiten: {presence_text(store.presence_rows(ctx.session, ctx.staff_id))}\n"
        "Kolleg*innen sehen sie mit /erreichbar " + ctx.staff.handle + "."
    )


@REGISTRY.command(
    "abwesend",
    "absent",
    summary="Abwesenheit eintragen (krank, Urlaub)",
    example="/abwesend krank bis 18.04. · /abwesend urlaub 14.04.-25.04. vertretung=JB · "
    "/abwesend ende",
)
def absent(ctx: Ctx, args: str) -> Reply:
    positional, options = split_args(args)
    usage = "/abwesend urlaub 14.04.-25.04. vertretung=JB"
    raw_deputy = options.pop("vertretung", None) or options.pop("vertreter", None)
    if options:
        raise UserError(f"Unbekannte Angabe „{sorted(options)[0]}“. Beispiel: {usage}")
    target = on_behalf(ctx, positional, "Abwesenheiten")
    assert target.id is not None
    if positional and positional[0].lower() in ("ende", "zurueck", "zurück", "wieder"):
        ended = 0
        for row in store.absences(ctx.session, [target.id], ctx.today):
            assert row.absent_from is not None
            if row.absent_from <= ctx.today:
                if row.absent_from < ctx.today:
                    row.absent_until = ctx.today - timedelta(days=1)
                    ctx.session.add(row)
                else:
                    ctx.session.delete(row)
                ended += 1
        if not ended:
            raise UserError("Heute ist keine Abwesenheit eingetragen.")
        audit_change(ctx, "end", "absence", target.id)
        return Reply(f"Willkommen zurück: {who(target)} ist wieder erreichbar.")
    kind = "sonstiges"
    if positional and positional[0].lower() in _KINDS:
        kind = positional.pop(0).lower()
    first, last = parse_range(" ".join(positional), ctx.today)
    deputy = person(ctx, raw_deputy) if raw_deputy else None
    if deputy is not None and deputy.id == target.id:
        raise UserError("Die Vertretung muss eine andere Person sein.")
    notes = _overlap_note(ctx, target, first, last) + _next_year_note(ctx, positional, last)
    row = Availability(
        staff_id=target.id,
        absent_from=first,
        absent_until=last,
        absence_kind="sonstiges" if kind == "abwesend" else kind,
        deputy_staff_id=None if deputy is None else deputy.id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit_change(ctx, "create", "absence", row.id, staff=target.id)
    routed = deputy or store.deputy_of(ctx.session, target, row)
    to = (
        f"Erinnerungen und Eskalationen gehen so lange an {who(routed)}."
        if routed
        else "Es ist keine Vertretung hinterlegt: Erinnerungen gehen so lange an die "
        "Koordination (/vertreter KÜRZEL legt eine fest)."
    )
    # The duties within the absence itself (issue 14), from now on if it has begun.
    start, end = max(day_start(ctx, first), ctx.now), day_after(ctx, last)
    oncall = [
        f"{s.rotation.name}: {fmt_span(d.start, d.end, ctx.settings.tz)}"
        for s in rota_state.load_states(ctx.session, ctx.settings.tz, start=start, end=end)
        for d in s.duties(start, end)
        if d.staff_id == target.id
    ]
    own = target.id == ctx.staff_id
    handle = "" if own else f"{target.handle} "
    warn = (
        f"\n⚠️ In dieser Zeit {'hast du' if own else 'hat ' + who(target)} Rufbereitschaft ("
        + "; ".join(oncall)
        + "). Bitte eine Vertretung eintragen: /vertretung "
        + f"{handle}{first.strftime('%d.%m.')}-{last.strftime('%d.%m.')} durch=KÜRZEL"
        if oncall
        else ""
    )
    return Reply(
        f"Eingetragen: {who(target)} ist {_KINDS[kind]} von {fmt_date_wd(first)} bis "
        f"{fmt_date_wd(last)}. {to}{warn}{notes}"
    )


def _overlap_note(ctx: Ctx, target: Staff, first: date, last: date) -> str:
    """A second absence over the same days is stored, but said (issue 14)."""
    overlapping = ctx.session.exec(
        select(Availability).where(
            Availability.staff_id == target.id,
            col(Availability.absent_from).is_not(None),
            col(Availability.absent_from) <= last,
            col(Availability.absent_until) >= first,
        )
    ).all()
    if not overlapping:
        return ""
    spans = "; ".join(
        f"{fmt_date_wd(r.absent_from)} bis {fmt_date_wd(r.absent_until)}"
        for r in overlapping
        if r.absent_from is not None and r.absent_until is not None
    )
    return (
        f"\n⚠️ Diese Abwesenheit überschneidet sich mit einer schon eingetragenen ({spans}). "
        "Falls das doppelt ist: /abwesend ende beendet die laufende."
    )


def _next_year_note(ctx: Ctx, words: list[str], last: date) -> str:
    """`bis 18.04.` in December means next April: said, so a slip is noticed (issue 14)."""
    if last.year <= ctx.today.year or any(re.search(r"\d{4}", w) for w in words):
        return ""
    return (
        f"\nHinweis: Ohne Jahreszahl verstehe ich das Ende als {fmt_date_wd(last)} (nächstes "
        "Jahr). Falls anders gemeint, bitte mit Jahreszahl neu eintragen."
    )


@REGISTRY.command(
    "vertreter",
    "deputy",
    summary="Wer dich bei Abwesenheit vertritt",
    example='/vertreter JB · /vertreter · Koordination: /vertreter LW JB, /vertreter team="Ambulante Hilfen" MK',
)
def deputy(ctx: Ctx, args: str) -> Reply:
    positional, options = split_args(args)
    raw_team = options.pop("team", None)
    if options:
        raise UserError(f"Unbekannte Angabe „{sorted(options)[0]}“.")
    if raw_team is not None:
        team = ctx.session.exec(
            select(Team).where(
                Team.organisation_id == ctx.staff.organisation_id, Team.name == raw_team.strip()
            )
        ).first()
        if team is None:
            raise UserError(f"Ein Team {shown(raw_team)} gibt es in deiner Organisation nicht.")
        if not coordinates(ctx, team.organisation_id):
            raise UserError("Die Vertretung eines Teams legt die Koordination fest.")
        if len(positional) != 1:
            raise UserError('Beispiel: /vertreter team="Ambulante Hilfen" MK')
        chosen = person(ctx, positional[0])
        row = store.deputy_row(ctx.session, team_id=team.id)
        row = row or Deputy(team_id=team.id, deputy_staff_id=0, updated_at=ctx.now)
        row.deputy_staff_id, row.updated_at = chosen.id or 0, ctx.now
        ctx.session.add(row)
        audit_change(ctx, "set", "deputy", team.id, team=True)
        return Reply(f"Vertretung für das Team „{team.name}“: {who(chosen)}.")
    target = ctx.staff
    if len(positional) == 2:
        target = person(ctx, positional.pop(0))
        if target.id != ctx.staff_id and not coordinates(ctx, target.organisation_id):
            raise UserError("Die Vertretung einer anderen Person legt die Koordination fest.")
    row = store.deputy_row(ctx.session, staff_id=target.id)
    if not positional:
        current = store.deputy_of(ctx.session, target, None)
        return Reply(
            f"Vertretung von {who(target)}: {who(current)}"
            if current
            else f"Für {who(target)} ist keine Vertretung hinterlegt. Beispiel: /vertreter JB"
        )
    if positional[0].lower() in ("loeschen", "löschen", "keine"):
        if row is not None:
            ctx.session.delete(row)
        audit_change(ctx, "delete", "deputy", target.id)
        return Reply(f"Für {who(target)} ist keine eigene Vertretung mehr hinterlegt.")
    chosen = person(ctx, positional[0])
    if chosen.id == target.id:
        raise UserError("Die Vertretung muss eine andere Person sein.")
    row = row or Deputy(staff_id=target.id, deputy_staff_id=0, updated_at=ctx.now)
    row.deputy_staff_id, row.updated_at = chosen.id or 0, ctx.now
    ctx.session.add(row)
    audit_change(ctx, "set", "deputy", target.id)
    return Reply(f"Vertretung von {who(target)}: {who(chosen)}.")


def _reachability(ctx: Ctx, staff: Staff) -> list[str]:
    assert staff.id is not None
    rows = store.presence_rows(ctx.session, staff.id)
    lines = [f"{who(staff)}, {phone(staff)}"]
    lines.append(f"  Präsenz: {presence_text(rows) if rows else 'keine Zeiten eingetragen'}")
    absence = store.absence_on(ctx.session, staff.id, ctx.today)
    upcoming = [
        a
        for a in store.absences(ctx.session, [staff.id], ctx.today)
        if a.absent_from and a.absent_from > ctx.today
    ]
    if absence is not None and absence.absent_until is not None:
        kind = _KINDS.get(absence.absence_kind or "sonstiges", "abwesend")
        stand_in = store.deputy_of(ctx.session, staff, absence)
        lines.append(
            f"  Zurzeit {kind} bis {fmt_date_wd(absence.absent_until)}"
            + (f"; Vertretung: {who(stand_in)}, {phone(stand_in)}" if stand_in else "")
        )
    else:
        weekday = ctx.today.weekday()
        today = [r for r in rows if r.weekday == weekday]
        now = ctx.now.time()
        if any(r.start_time and r.end_time and r.start_time <= now < r.end_time for r in today):
            where = " (Homeoffice)" if any(r.remote for r in today) else ""
            lines.append(f"  Jetzt: laut Präsenzzeiten erreichbar{where}")
        elif rows:
            lines.append("  Jetzt: außerhalb der Präsenzzeiten")
    for a in upcoming[:2]:
        assert a.absent_from and a.absent_until
        lines.append(
            f"  Geplant: {_KINDS.get(a.absence_kind or 'sonstiges', 'abwesend')} "
            f"{fmt_date_wd(a.absent_from)} – {fmt_date_wd(a.absent_until)}"
        )
    return lines


@REGISTRY.command(
    "erreichbar",
    "reachable",
    summary="Wann ist jemand erreichbar? (Kürzel oder Aktenzeichen)",
    example="/erreichbar JB · /erreichbar HB-2025-017",
)
def reachable(ctx: Ctx, args: str) -> Reply:
    text = args.strip()
    if not text:
        raise UserError("Bitte ein Kürzel oder ein Aktenzeichen angeben, z. B. /erreichbar JB.")
    if is_handle(ctx, text):
        return Reply("\n".join(_reachability(ctx, person(ctx, text))))
    case = visible_case(ctx, text)
    lines = [f"Zuständig für {case.code}:"]
    for staff_id, side in ((case.provider_staff_id, "Träger"), (case.asd_staff_id, "ASD")):
        staff = ctx.session.get(Staff, staff_id) if staff_id else None
        if staff is None:
            lines.append(f"{side}: niemand zugewiesen (Koordination)")
            continue
        found = _reachability(ctx, staff)
        lines.append(f"{side}: {found[0]}")
        lines += found[1:]
    return Reply("\n".join(lines))
