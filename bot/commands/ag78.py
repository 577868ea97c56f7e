"""AG 78 working-group sessions (DOMAIN.md A1-A3): list, add, move, cancel."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from bot import texts
from bot.commands.ag78_questions import (
    READING_WORDS,
    ClockChange,
    SessionTimes,
    reading_note,
    weekday_question,
)
from bot.commands.common import audit_change, split_date_time
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import SESSION_KIND_LABEL, fmt_date, fmt_datetime, fmt_time
from bot.formatting import fmt_date_wd as fmt_day
from bot.messages import Reply
from bot.names import refuse_names
from bot.parsing.args import split_args
from bot.parsing.dates import WeekdayMismatch, looks_like_date, parse_date
from bot.parsing.echo import shown
from bot.parsing.times import parse_time, parse_time_range
from bot.registry import REGISTRY
from config.enums import Role, SessionKind
from scheduler.wallclock import Reading
from storage.ag78 import ag_sessions, sessions_starting_between
from storage.models.ag78 import AgSession


@REGISTRY.command(
    "ag78",
    summary="Kommende Termine der AG 78 (oder: /ag78 alle)",
    example="/ag78",
    group_safe=True,
)
def sessions(ctx: Ctx, args: str) -> Reply:
    """Upcoming AG 78 sessions; `alle` includes past ones."""
    everything = args.strip().lower() in ("alle", "all")
    found = ag_sessions(ctx.session, since=None if everything else ctx.now)
    if not found:
        return Reply(texts.NO_SESSIONS)
    tz = ctx.settings.tz
    lines = ["AG 78 – alle Termine:" if everything else "AG 78 – kommende Termine:"]
    for s in found:
        start, end = s.starts_at.astimezone(tz), s.ends_at.astimezone(tz)
        place = f", {s.place}" if s.place else ""
        lines.append(
            f"{fmt_datetime(start)}{reading_note(start)}–{fmt_time(end)} {_titled(s)}{place}"
        )
        if s.agenda:
            lines.append(f"  Themen: {s.agenda}")
    return Reply("\n".join(lines))


_KIND_WORDS = {
    "sitzung": SessionKind.session,
    "session": SessionKind.session,
    "workshop": SessionKind.workshop,
    "fachaustausch": SessionKind.workshop,
}
_SESSION_OPTIONS = {"titel", "ort", "link", "themen", "beginn", "zeit"}
_NEW_EXAMPLE = '/ag78_neu Fr 12.05.2023 9-12 sitzung ort="Kreishaus, Saal 2" themen="SRO"'
# The feed goes to every member organisation: these texts must not name clients (P1).
_FREE_TEXT = {"titel": "titel=", "ort": "ort=", "link": "link=", "themen": "themen="}


def _options(options: dict[str, str], example: str) -> dict[str, str]:
    unknown = sorted(set(options) - _SESSION_OPTIONS)
    if unknown:
        raise UserError(
            f"„{unknown[0]}=“ kenne ich hier nicht. Möglich: titel=, ort= (oder link=), "
            f"themen=. Beispiel: {example}"
        )
    if "ort" in options and "link" in options:
        raise UserError("Bitte nur ort= oder link= angeben (ein Link kann auch bei ort= stehen).")
    for key, limit in (("titel", 200), ("ort", 200), ("link", 200), ("themen", 1000)):
        if key in options and len(options[key]) > limit:
            raise UserError(f"{key}= ist zu lang (höchstens {limit} Zeichen).")
    if "titel" in options and not options["titel"].strip():
        raise UserError('titel= ist leer. Beispiel: titel="Sitzung 2. Quartal"')
    for key, where in _FREE_TEXT.items():
        if key in options:
            refuse_names(options[key], where=where)
    if "zeit" in options and options["zeit"].strip().lower() not in READING_WORDS:
        raise UserError(
            "zeit= braucht es nur in der Nacht der Zeitumstellung: zeit=sommerzeit für das "
            "erste, zeit=winterzeit für das zweite Mal derselben Uhrzeit."
        )
    return options


def _reading(options: dict[str, str]) -> Reading | None:
    word = options.get("zeit", "").strip().lower()
    return READING_WORDS.get(word) if word else None


def _day(ctx: Ctx, text: str) -> date:
    return parse_date(text, ctx.today, prefer="future")


def _past_note(ctx: Ctx, starts_at: datetime) -> str:
    # Past sessions are allowed: coordinators record the group's history (seed 003 is a report).
    return "\nHinweis: Der Termin liegt in der Vergangenheit." if starts_at < ctx.now else ""


def _split_kind(tokens: list[str]) -> tuple[SessionKind | None, list[str]]:
    kind = None
    rest = []
    for token in tokens:
        word = token.lower()
        if word in _KIND_WORDS:
            if kind is not None:
                raise UserError("Bitte nur eine Art angeben: sitzung oder workshop.")
            kind = _KIND_WORDS[word]
        else:
            rest.append(token)
    return kind, rest


def _describe(ctx: Ctx, s: AgSession) -> str:
    start, end = s.starts_at.astimezone(ctx.settings.tz), s.ends_at.astimezone(ctx.settings.tz)
    place = f", {s.place}" if s.place else ""
    return (
        f"{fmt_day(start.date())}, {fmt_time(start)}{reading_note(start)}–{fmt_time(end)}"
        f"{reading_note(end)} {_titled(s)}{place}"
    )


def _titled(s: AgSession) -> str:
    """`Sitzung: Gründung`, but `Sitzung 1. Quartal 2027` not as `Sitzung: Sitzung …`."""
    label = SESSION_KIND_LABEL[s.kind]
    return s.title if label.lower() in s.title.lower() else f"{label}: {s.title}"


def _default_title(kind: SessionKind, day: date) -> str:
    if kind is SessionKind.workshop:
        return "Workshop"
    return f"Sitzung {(day.month - 1) // 3 + 1}. Quartal {day.year}"


@REGISTRY.command(
    "ag78_neu",
    "ag78_new",
    summary="AG-78-Termin anlegen (Koordination)",
    example=_NEW_EXAMPLE,
    roles={Role.coordinator},
)
def new_session(ctx: Ctx, args: str) -> Reply:
    """Add an AG 78 session; a wrong weekday (A2) or a skipped or repeated time is asked back."""
    try:
        return _new_session(ctx, args)
    except WeekdayMismatch as exc:
        return weekday_question(exc, "ag78_neu", args)
    except ClockChange as exc:
        return exc.question("ag78_neu", args)


def _new_session(ctx: Ctx, args: str) -> Reply:
    positional, raw_options = split_args(args)
    options = _options(raw_options, _NEW_EXAMPLE)
    if "beginn" in options:
        raise UserError(f"beginn= gibt es nur bei /ag78_verlegen. Beispiel: {_NEW_EXAMPLE}")
    if not positional:
        raise UserError(f"Bitte Datum und Uhrzeit angeben, z. B. {_NEW_EXAMPLE}")
    day_text, rest = split_date_time(positional)
    day = _day(ctx, day_text)
    kind, time_tokens = _split_kind((rest or "").split())
    kind = kind or SessionKind.session
    if not time_tokens:
        raise UserError(f"Bitte Beginn und Ende angeben, z. B. 9-12. Beispiel: {_NEW_EXAMPLE}")
    typed = " ".join(time_tokens)
    start_time, end_time = parse_time_range(typed)
    times = SessionTimes.resolve(
        day, start_time, end_time, ctx.settings.tz, _reading(options), typed
    )
    clash = sessions_starting_between(
        ctx.session, times.starts_at, times.starts_at + timedelta(minutes=1)
    )
    if clash:
        raise UserError(
            f"Am {fmt_date(day)} um {fmt_time(start_time)} ist schon ein AG-78-Termin "
            "eingetragen. /ag78_verlegen ändert ihn."
        )
    created = AgSession(
        uid=f"ag78-{uuid.uuid4().hex}@{ctx.settings.web.uid_domain}",
        kind=kind,
        title=options.get("titel", "").strip() or _default_title(kind, day),
        starts_at=times.starts_at,
        ends_at=times.ends_at,
        place=(options.get("ort") or options.get("link") or "").strip() or None,
        agenda=options.get("themen", "").strip() or None,
        updated_at=ctx.now,
    )
    ctx.session.add(created)
    ctx.session.flush()
    audit_change(ctx, "ag78_created", "ag_session", created.id, day=day.isoformat())
    return Reply(
        f"AG-78-Termin eingetragen: {_describe(ctx, created)}."
        f"{_past_note(ctx, times.starts_at)}\n"
        "Er steht im AG-78-Kalender; den Link gibt es mit /kalender."
    )


def _find_session(ctx: Ctx, day: date, options: dict[str, str], command: str) -> AgSession:
    tz = ctx.settings.tz
    start = datetime.combine(day, time(0), tzinfo=tz)
    found = sessions_starting_between(ctx.session, start, start + timedelta(days=1))
    if "beginn" in options:
        at = parse_time(options["beginn"])
        found = [s for s in found if s.starts_at.astimezone(tz).time() == at]
    if not found:
        raise UserError(
            f"Am {fmt_date(day)} finde ich keinen AG-78-Termin. /ag78 alle zeigt die Termine."
        )
    if len(found) > 1:
        times = ", ".join(fmt_time(s.starts_at.astimezone(tz)) for s in found)
        raise UserError(
            f"Am {fmt_date(day)} sind mehrere AG-78-Termine eingetragen ({times}). "
            f"Bitte die Uhrzeit dazuschreiben, z. B. /{command} {fmt_date(day)} beginn=09:00"
        )
    return found[0]


_MOVE_EXAMPLE = "/ag78_verlegen 12.05.2023 19.05.2023 9-12"


@REGISTRY.command(
    "ag78_verlegen",
    "ag78_aendern",
    "ag78_move",
    summary="AG-78-Termin verlegen oder Ort/Themen ändern (Koordination)",
    example=_MOVE_EXAMPLE,
    roles={Role.coordinator},
)
def move_session(ctx: Ctx, args: str) -> Reply:
    """Move a session to another day or time, or change its title, place or agenda."""
    try:
        return _move_session(ctx, args)
    except WeekdayMismatch as exc:
        return weekday_question(exc, "ag78_verlegen", args)
    except ClockChange as exc:
        return exc.question("ag78_verlegen", args)


def _move_session(ctx: Ctx, args: str) -> Reply:
    positional, raw_options = split_args(args)
    options = _options(raw_options, _MOVE_EXAMPLE)
    if not positional:
        raise UserError(f"Bitte das bisherige Datum angeben, z. B. {_MOVE_EXAMPLE}")
    old_text, rest = split_date_time(positional)
    old_day = parse_date(old_text, ctx.today, prefer="future")
    target = _find_session(ctx, old_day, options, "ag78_verlegen")
    before = _describe(ctx, target)
    tz = ctx.settings.tz
    tokens = (rest or "").split()
    kind, tokens = _split_kind(tokens)
    old_start = target.starts_at.astimezone(tz)
    new_day = old_start.date()
    if tokens and looks_like_date(tokens[0]):
        day_text, more = split_date_time(tokens)
        new_day = _day(ctx, day_text)
        tokens = (more or "").split()
    if tokens or new_day != old_start.date() or "zeit" in options:
        start_time, end_time = old_start.time(), target.ends_at.astimezone(tz).time()
        if tokens:
            start_time, end_time = parse_time_range(" ".join(tokens))
        typed = " ".join(tokens) or None
        times = SessionTimes.resolve(new_day, start_time, end_time, tz, _reading(options), typed)
    else:  # same day, same times: keep the instants (a repeated 02:30 keeps its reading)
        times = SessionTimes(target.starts_at, target.ends_at)
    changes = {
        "starts_at": times.starts_at,
        "ends_at": times.ends_at,
        "kind": kind or target.kind,
        "title": options.get("titel", target.title).strip() or target.title,
        "place": (options.get("ort") or options.get("link") or target.place or "").strip() or None,
        "agenda": options.get("themen", target.agenda or "").strip() or None,
    }
    if all(getattr(target, key) == value for key, value in changes.items()):
        raise UserError(
            "Daran ändert sich nichts. Bitte ein neues Datum, eine neue Uhrzeit oder ort=, "
            f"titel=, themen= angeben, z. B. {_MOVE_EXAMPLE}"
        )
    for key, value in changes.items():
        setattr(target, key, value)
    target.updated_at = ctx.now
    ctx.session.flush()
    audit_change(ctx, "ag78_changed", "ag_session", target.id, day=new_day.isoformat())
    return Reply(
        f"AG-78-Termin geändert.\nvorher: {before}\njetzt: {_describe(ctx, target)}"
        f"{_past_note(ctx, times.starts_at)}\n"
        "Abonnierte Kalender übernehmen die Änderung beim nächsten Abruf."
    )


@REGISTRY.command(
    "ag78_absagen",
    "ag78_cancel",
    summary="AG-78-Termin absagen (Koordination)",
    example="/ag78_absagen 13.10.2023",
    roles={Role.coordinator},
)
def cancel_session(ctx: Ctx, args: str) -> Reply:
    """Cancel a session; calendars show it as cancelled, then drop it."""
    try:
        positional, raw_options = split_args(args)
        options = _options(raw_options, "/ag78_absagen 13.10.2023")
        if not positional:
            raise UserError("Bitte das Datum des Termins angeben, z. B. /ag78_absagen 13.10.2023")
        day_text, rest = split_date_time(positional)
        if rest:
            raise UserError(
                f"{shown(rest)} verstehe ich hier nicht. Beispiel: /ag78_absagen 13.10.2023"
            )
        day = parse_date(day_text, ctx.today, prefer="future")
    except WeekdayMismatch as exc:
        return weekday_question(exc, "ag78_absagen", args)
    target = _find_session(ctx, day, options, "ag78_absagen")
    target.cancelled = True
    target.updated_at = ctx.now
    ctx.session.flush()
    audit_change(ctx, "ag78_cancelled", "ag_session", target.id, day=day.isoformat())
    return Reply(
        f"AG-78-Termin abgesagt: {_describe(ctx, target)}.\n"
        "In abonnierten Kalendern erscheint er als abgesagt."
    )
