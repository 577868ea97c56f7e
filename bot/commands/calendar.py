"""Calendar feeds from chat: my links, renew or revoke them; AG 78 sessions for coordinators."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import col, select

from bot.commands.common import audit_change, local_datetime, split_date_time
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import SESSION_KIND_LABEL, WEEKDAY_LONG, WEEKDAY_SHORT, fmt_date, fmt_time
from bot.formatting import fmt_date_wd as fmt_day
from bot.messages import Button, Reply
from bot.parsing import (
    WEEKDAY_WORDS,
    WeekdayMismatch,
    looks_like_date,
    name_like_word,
    parse_date,
    parse_time,
    parse_time_range,
    shown,
    split_args,
)
from bot.registry import REGISTRY
from scheduler.feeds import feed_url, rotation_title
from storage.ag78 import sessions_starting_between
from storage.enums import Role, SessionKind
from storage.feeds import FeedKind, active_tokens, issue_token, revoke_tokens
from storage.models import AgSession, FeedToken, Rotation, RotationMember

_SELECTORS = {
    "alle": None,
    "all": None,
    "ag78": {FeedKind.ag78},
    "ag": {FeedKind.ag78},
    "fristen": {FeedKind.personal},
    "persoenlich": {FeedKind.personal},
    "persönlich": {FeedKind.personal},
    "rufbereitschaft": {FeedKind.oncall, FeedKind.myshifts},
    "notfall": {FeedKind.oncall, FeedKind.myshifts},
}
_SELECTOR_HELP = "ag78, fristen, rufbereitschaft oder alle"
_SUBSCRIBE_HINT = (
    "Abonnieren: in Outlook „Kalender hinzufügen → Aus dem Internet“, in Google Kalender "
    "„Per URL“, in Apple Kalender „Neues Kalenderabonnement“, in Thunderbird „Neuer Kalender "
    "→ Im Netzwerk“. Der Kalender aktualisiert sich dann selbst."
)


@dataclass(frozen=True)
class _Feed:
    kind: FeedKind
    rotation_id: int | None
    label: str


def _my_feeds(ctx: Ctx) -> list[_Feed]:
    feeds = [
        _Feed(FeedKind.ag78, None, "AG 78 – Termine (darf innerhalb der AG weitergegeben werden)"),
        _Feed(FeedKind.personal, None, "Meine Fristen und Termine (persönlich, nicht weitergeben)"),
    ]
    member_of = ctx.session.exec(
        select(RotationMember).where(RotationMember.staff_id == ctx.staff_id)
    ).first()
    if member_of is not None:
        feeds.append(_Feed(FeedKind.myshifts, None, "Meine Rufbereitschaft"))
    for rotation in ctx.session.exec(select(Rotation).order_by(col(Rotation.id))):
        feeds.append(_Feed(FeedKind.oncall, rotation.id, rotation_title(rotation.name)))
    return feeds


def _matches(token: FeedToken, feed: _Feed) -> bool:
    return token.kind == feed.kind.value and token.rotation_id == feed.rotation_id


def _selection(args: str) -> set[FeedKind] | None:
    word = args.strip().lower()
    if not word:
        return None
    if word not in _SELECTORS:
        raise UserError(f"{shown(args)} kenne ich nicht als Kalender. Möglich: {_SELECTOR_HELP}.")
    return _SELECTORS[word]


def _issue(ctx: Ctx, feed: _Feed) -> str:
    token = issue_token(
        ctx.session,
        staff_id=ctx.staff_id,
        kind=feed.kind,
        rotation_id=feed.rotation_id,
        now=ctx.now,
    )
    audit_change(ctx, "feed_issued", "feed_token", None, kind=feed.kind.value)
    return feed_url(ctx.settings, token)


@REGISTRY.command(
    "kalender",
    "calendar",
    summary="Meine Kalender-Links zum Abonnieren (AG 78, Fristen, Rufbereitschaft)",
    example="/kalender",
)
def my_links(ctx: Ctx, args: str) -> Reply:
    """New links for feeds without one; feeds with a link show since when it is active."""
    if args.strip():
        raise UserError("/kalender braucht keine Angaben. Neue Links: /kalender_neu")
    tokens = active_tokens(ctx.session, ctx.staff_id)
    lines = ["Deine Kalender-Abos:"]
    already = False
    for feed in _my_feeds(ctx):
        existing = next((t for t in tokens if _matches(t, feed)), None)
        if existing is None:
            lines.append(f"• {feed.label}:\n  {_issue(ctx, feed)}")
        else:
            already = True
            since = fmt_date(existing.created_at.astimezone(ctx.settings.tz).date())
            lines.append(f"• {feed.label}: Link aktiv seit {since}")
    if already:
        lines.append(
            "Aus Sicherheitsgründen speichere ich Links nur verschlüsselt und kann einen "
            "bestehenden nicht noch einmal zeigen. /kalender_neu erzeugt neue Links; die alten "
            "funktionieren dann nicht mehr."
        )
    lines.append(_SUBSCRIBE_HINT)
    return Reply("\n".join(lines))


@REGISTRY.command(
    "kalender_neu",
    "renewcalendar",
    summary="Neue Kalender-Links; die alten hören sofort auf zu funktionieren",
    example="/kalender_neu fristen",
)
def renew_links(ctx: Ctx, args: str) -> Reply:
    """Revoke the selected links (default: all) and issue new ones."""
    wanted = _selection(args)
    tokens = active_tokens(ctx.session, ctx.staff_id)
    chosen = [f for f in _my_feeds(ctx) if wanted is None or f.kind in wanted]
    old = [t for t in tokens if wanted is None or FeedKind(t.kind) in wanted]
    revoke_tokens(ctx.session, old, ctx.now)
    for token in old:
        audit_change(ctx, "feed_revoked", "feed_token", token.id, kind=token.kind)
    lines = ["Neue Kalender-Links (die bisherigen sind gesperrt):"]
    lines += [f"• {feed.label}:\n  {_issue(ctx, feed)}" for feed in chosen]
    lines.append("Bitte das Abo in deinem Kalender mit dem neuen Link ersetzen.")
    return Reply("\n".join(lines))


@REGISTRY.command(
    "kalender_sperren",
    "revokecalendar",
    summary="Kalender-Links sperren, ohne neue zu erzeugen",
    example="/kalender_sperren alle",
)
def revoke_links(ctx: Ctx, args: str) -> Reply:
    """Revoke the selected links (default: all), e.g. after a lost phone."""
    wanted = _selection(args)
    old = [
        t
        for t in active_tokens(ctx.session, ctx.staff_id)
        if wanted is None or FeedKind(t.kind) in wanted
    ]
    if not old:
        return Reply("Du hast keine aktiven Kalender-Links dieser Art. /kalender erzeugt welche.")
    revoke_tokens(ctx.session, old, ctx.now)
    for token in old:
        audit_change(ctx, "feed_revoked", "feed_token", token.id, kind=token.kind)
    return Reply(
        f"{len(old)} Kalender-Link(s) gesperrt. Abos damit bekommen ab sofort nichts mehr. "
        "/kalender erzeugt bei Bedarf neue."
    )


# ---------------------------------------------------------------------------
# AG 78 sessions (DOMAIN.md A1-A3)

_KIND_WORDS = {
    "sitzung": SessionKind.session,
    "session": SessionKind.session,
    "workshop": SessionKind.workshop,
    "fachaustausch": SessionKind.workshop,
}
_SESSION_OPTIONS = {"titel", "ort", "link", "themen", "beginn"}
_NEW_EXAMPLE = '/ag78_neu Fr 12.05.2023 9-12 sitzung ort="Kreishaus, Saal 2" themen="SRO"'


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
    return options


def _weekday_question(ctx: Ctx, exc: WeekdayMismatch, command: str, args: str) -> Reply:
    """A2: ask back, offering the command with the right weekday as a button."""
    wrong = WEEKDAY_SHORT[exc.named_weekday].lower()
    right = WEEKDAY_SHORT[exc.date.weekday()]
    pattern = re.compile(
        r"(?i)\b("
        + "|".join(w for w, d in WEEKDAY_WORDS.items() if d == exc.named_weekday)
        + r")\b\.?,?"
    )
    fixed = pattern.sub(right, args, count=1) if wrong else args
    if any(name_like_word(token) for token in split_args(fixed)[0]):
        return Reply(exc.message)  # a button would repeat a word that may be a name (P1)
    label = f"Ja, {WEEKDAY_LONG[exc.date.weekday()]}, {fmt_date(exc.date)}"
    return Reply(exc.message, buttons=(Button(label, f"/{command} {fixed}"),))


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
        f"{fmt_day(start.date())}, {fmt_time(start)}–{fmt_time(end)} "
        f"{SESSION_KIND_LABEL[s.kind]}: {s.title}{place}"
    )


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
    """Add an AG 78 session; a weekday that does not match the date is asked back (A2)."""
    try:
        return _new_session(ctx, args)
    except WeekdayMismatch as exc:
        return _weekday_question(ctx, exc, "ag78_neu", args)


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
    start_time, end_time = parse_time_range(" ".join(time_tokens))
    starts_at = local_datetime(ctx, day, start_time)
    ends_at = local_datetime(ctx, day, end_time)
    clash = sessions_starting_between(ctx.session, starts_at, starts_at + timedelta(minutes=1))
    if clash:
        raise UserError(
            f"Am {fmt_date(day)} um {fmt_time(start_time)} ist schon ein AG-78-Termin "
            "eingetragen. /ag78_verlegen ändert ihn."
        )
    created = AgSession(
        uid=f"ag78-{uuid.uuid4().hex}@{ctx.settings.web.uid_domain}",
        kind=kind,
        title=options.get("titel", "").strip() or _default_title(kind, day),
        starts_at=starts_at,
        ends_at=ends_at,
        place=(options.get("ort") or options.get("link") or "").strip() or None,
        agenda=options.get("themen", "").strip() or None,
        updated_at=ctx.now,
    )
    ctx.session.add(created)
    ctx.session.flush()
    audit_change(ctx, "ag78_created", "ag_session", created.id, day=day.isoformat())
    return Reply(
        f"AG-78-Termin eingetragen: {_describe(ctx, created)}.{_past_note(ctx, starts_at)}\n"
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
        return _weekday_question(ctx, exc, "ag78_verlegen", args)


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
    new_day = target.starts_at.astimezone(tz).date()
    if tokens and looks_like_date(tokens[0]):
        day_text, more = split_date_time(tokens)
        new_day = _day(ctx, day_text)
        tokens = (more or "").split()
    start_time = target.starts_at.astimezone(tz).time()
    end_time = target.ends_at.astimezone(tz).time()
    if tokens:
        start_time, end_time = parse_time_range(" ".join(tokens))
    starts_at = local_datetime(ctx, new_day, start_time)
    ends_at = local_datetime(ctx, new_day, end_time)
    changes = {
        "starts_at": starts_at,
        "ends_at": ends_at,
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
        f"{_past_note(ctx, starts_at)}\n"
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
        return _weekday_question(ctx, exc, "ag78_absagen", args)
    target = _find_session(ctx, day, options, "ag78_absagen")
    target.cancelled = True
    target.updated_at = ctx.now
    ctx.session.flush()
    audit_change(ctx, "ag78_cancelled", "ag_session", target.id, day=day.isoformat())
    return Reply(
        f"AG-78-Termin abgesagt: {_describe(ctx, target)}.\n"
        "In abonnierten Kalendern erscheint er als abgesagt."
    )
