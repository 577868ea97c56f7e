"""Registration with an invite code, help, and invites for coordinators."""

from __future__ import annotations

from bot import start_guard, texts
from bot.context import Ctx
from bot.errors import UserError
from bot.formatting import STAFF_TYPE_LABEL, fmt_date
from bot.messages import Reply
from bot.parsing.args import split_args
from bot.parsing.keywords import parse_staff_type
from bot.registry import REGISTRY, Command
from config.enums import OrgKind, Role
from storage import audit
from storage.models.staff import Organisation, Staff
from storage.staff import create_invite, free_handle, link_identity, usable_invite

ROLE_LABEL = {
    (OrgKind.provider, Role.caseworker): "Mitarbeiter*in beim freien Träger",
    (OrgKind.provider, Role.coordinator): "Koordination beim freien Träger",
    (OrgKind.jugendamt, Role.caseworker): "Fachkraft im ASD",
    (OrgKind.jugendamt, Role.coordinator): "Leitung im ASD",
}
ROLE_WORDS = {
    "mitarbeiter": Role.caseworker,
    "mitarbeiterin": Role.caseworker,
    "fallfuehrung": Role.caseworker,
    "caseworker": Role.caseworker,
    "koordination": Role.coordinator,
    "koordinator": Role.coordinator,
    "koordinatorin": Role.coordinator,
    "leitung": Role.coordinator,
    "coordinator": Role.coordinator,
}


@REGISTRY.command(
    "start",
    summary="Mit Einladungscode registrieren",
    example="/start K7QF-3MNA-PX2R",
    group_safe=True,
    needs_registration=False,
)
def start(ctx: Ctx, args: str) -> Reply:
    """Register the sender with a one-time invite code."""
    if ctx.actor is not None:
        return Reply(texts.ALREADY_REGISTERED.format(name=ctx.actor.name, handle=ctx.actor.handle))
    if not ctx.message.private:
        return Reply(texts.PRIVATE_ONLY)
    code, _, name = args.partition(" ")
    if not code:
        return Reply(texts.START_USAGE)
    sender = ctx.message.sender
    if start_guard.refused(ctx.session, ctx.settings, sender.transport, sender.user_id, ctx.now):
        return Reply(start_guard.LIMITED, refused=True)
    invite = usable_invite(ctx.session, code, ctx.now)
    if invite is None:
        start_guard.failed(ctx.session, ctx.settings, sender.transport, sender.user_id, ctx.now)
        return Reply(texts.INVITE_INVALID, refused=True)
    staff = ctx.session.get(Staff, invite.staff_id) if invite.staff_id else None
    if staff is None:
        display = (name.strip() or ctx.message.sender.display_name or "").strip()
        if not display:
            raise UserError(
                "Bitte gib bei der Registrierung deinen Namen an, z. B.: /start CODE Anna Beispiel"
            )
        staff = Staff(
            organisation_id=invite.organisation_id,
            name=display[:120],
            handle=free_handle(ctx.session, display),
            role=invite.role,
            staff_type=invite.staff_type,
            created_at=ctx.now,
        )
        ctx.session.add(staff)
        ctx.session.flush()
    assert staff.id is not None
    link_identity(
        ctx.session, staff, ctx.message.sender.transport, ctx.message.sender.user_id, ctx.now
    )
    invite.used_at, invite.used_by_staff_id = ctx.now, staff.id
    audit.record(
        ctx.session,
        at=ctx.now,
        actor_staff_id=staff.id,
        action="register",
        entity="staff",
        entity_id=staff.id,
        details={"transport": ctx.message.sender.transport, "invite_id": invite.id},
    )
    org = ctx.session.get(Organisation, staff.organisation_id)
    assert org is not None
    return Reply(
        f"Willkommen, {staff.name}! Du bist registriert als "
        f"{ROLE_LABEL[(org.kind, staff.role)]} ({org.name}, Kürzel {staff.handle}).\n"
        f"{texts.PRIVACY_NOTE}\n/hilfe zeigt, was du tun kannst."
    )


# Topics of /hilfe, by the module a command lives in; unknown modules go under "Weiteres".
_TOPICS = {
    "bot.commands.account": "Konto",
    "bot.commands.cases": "Fälle",
    "bot.commands.cases_meetings": "Fälle",
    "bot.commands.cases_updates": "Fälle",
    "bot.commands.deadlines": "Fristen",
    "bot.commands.reminders": "Fristen",
    "bot.commands.hours": "Stunden",
    "bot.commands.controlling": "Auswertung",
    "bot.commands.controlling_closing": "Auswertung",
    "bot.commands.controlling_contract": "Auswertung",
    "bot.commands.oncall": "Rufbereitschaft",
    "bot.commands.rota": "Rufbereitschaft",
    "bot.commands.rota_duties": "Rufbereitschaft",
    "bot.commands.rota_swaps": "Rufbereitschaft",
    "bot.commands.paging": "Rufbereitschaft",
    "bot.commands.reachability": "Erreichbarkeit",
    "bot.commands.ag78": "AG 78 und Kalender",
    "bot.commands.calendar": "AG 78 und Kalender",
}


_TOPIC_ORDER = (
    "Fälle",
    "Fristen",
    "Stunden",
    "Auswertung",
    "Rufbereitschaft",
    "Erreichbarkeit",
    "AG 78 und Kalender",
    "Konto",
    "Weiteres",
)


def _topic(cmd: Command) -> str:
    return _TOPICS.get(cmd.handler.__module__, "Weiteres")


def _detail(cmd: Command) -> str:
    alias = f" (auch /{', /'.join(cmd.aliases)})" if cmd.aliases else ""
    return f"/{cmd.name}{alias} – {cmd.summary}\n    z. B. {cmd.example}"


# The short /hilfe (issue 14: the whole list is too long for a phone): the everyday commands
# a person may use, in this order; `/hilfe alle` shows everything.
_MAIN = (
    "fristen",
    "faelle",
    "fall",
    "fall_neu",
    "stunden",
    "meinestunden",
    "quartal",
    "notfall",
    "rufbereitschaft",
    "abwesend",
    "ag78",
    "einladen",
)
_MAIN_MAX = 10
_ALL = ("alle", "alles", "all", "komplett")


def _short_help(who: str, usable: list[Command]) -> str:
    names = {cmd.name: cmd for cmd in usable}
    main = [names[name] for name in _MAIN if name in names][:_MAIN_MAX]
    present = {_topic(cmd) for cmd in usable}
    topics = ", ".join(t for t in _TOPIC_ORDER if t in present)
    return "\n".join(
        [
            who,
            "",
            "Das Wichtigste:",
            *(f"/{cmd.name} – {cmd.summary}" for cmd in main),
            "",
            "Alle Befehle: /hilfe alle · Beispiele: /hilfe BEFEHL (z. B. /hilfe stunden)",
            f"Themen: /hilfe THEMA ({topics})",
            texts.PRIVACY_NOTE,
        ]
    )


@REGISTRY.command(
    "hilfe",
    "help",
    summary="Das Wichtigste; /hilfe alle, /hilfe THEMA oder /hilfe BEFEHL zeigt mehr",
    example="/hilfe stunden",
    group_safe=True,
)
def help_(ctx: Ctx, args: str) -> Reply:
    """The commands this person may use by topic; details and examples for one topic or command."""
    usable = [
        cmd
        for cmd in REGISTRY.commands
        if cmd.name != "start"
        and cmd.allowed(ctx.staff.role, ctx.staff_side)
        and (ctx.message.private or cmd.group_safe)
    ]
    wanted = args.strip().lower().lstrip("/!")
    if wanted and wanted not in _ALL:
        in_topic = [cmd for cmd in usable if _topic(cmd).lower() == wanted]
        found = REGISTRY.find(wanted)
        if not in_topic and found is not None and found in usable:
            return Reply(_detail(found))
        in_topic = in_topic or [cmd for cmd in usable if _topic(cmd).lower().startswith(wanted)]
        if in_topic:
            return Reply("\n".join(_detail(cmd) for cmd in in_topic))
        topics = ", ".join(dict.fromkeys(_topic(cmd) for cmd in usable))
        raise UserError(f"Dazu habe ich keine Hilfe. Themen: {topics}.")
    org = ctx.session.get(Organisation, ctx.staff.organisation_id)
    assert org is not None
    who = (
        f"{ctx.staff.name} ({ctx.staff.handle}) – {ROLE_LABEL[(org.kind, ctx.staff.role)]}, "
        f"{org.name}"
    )
    if wanted not in _ALL:
        return Reply(_short_help(who, usable))
    lines = [who, "", "Das kannst du tun:"]
    by_topic: dict[str, list[Command]] = {topic: [] for topic in _TOPIC_ORDER}
    for cmd in usable:
        by_topic.setdefault(_topic(cmd), []).append(cmd)
    for topic, commands in by_topic.items():
        if not commands:
            continue
        lines.append(f"{topic}:")
        lines += [f"/{cmd.name} – {cmd.summary}" for cmd in commands]
    lines += [
        "",
        "Beispiele: /hilfe BEFEHL (z. B. /hilfe stunden) oder /hilfe THEMA (z. B. /hilfe fälle).",
        "Daten: 17.04.2025, 17.4., heute, gestern, morgen, Mo … So.",
        "Dauer: 1,5 oder 1:30 oder 90 min.",
        texts.PRIVACY_NOTE,
    ]
    return Reply("\n".join(lines))


@REGISTRY.command(
    "einladen",
    "invite",
    summary="Einladungscode für eine neue Person deiner Organisation erzeugen",
    example="/einladen mitarbeiter typ=fk",
    roles={Role.coordinator},
)
def invite(ctx: Ctx, args: str) -> Reply:
    """Create a one-time invite for the coordinator's own organisation."""
    positional, options = split_args(args)
    if len(positional) != 1 or positional[0].lower() not in ROLE_WORDS:
        raise UserError(
            "Für welche Rolle? Beispiele: /einladen mitarbeiter typ=fk · "
            "/einladen mitarbeiter typ=semi · /einladen koordination"
        )
    role = ROLE_WORDS[positional[0].lower()]
    org = ctx.session.get(Organisation, ctx.staff.organisation_id)
    assert org is not None
    staff_type = None
    if "typ" in options:
        if org.kind is not OrgKind.provider:
            raise UserError(
                "Einen Mitarbeitendentyp (Fachkraft/semiprofessionell) gibt es nur bei freien Trägern."
            )
        staff_type = parse_staff_type(options["typ"])
    elif org.kind is OrgKind.provider and role is Role.caseworker:
        raise UserError(
            "Bitte den Typ angeben: typ=fk (Fachkraft) oder typ=semi (semiprofessionell)."
        )
    code, inv = create_invite(
        ctx.session,
        organisation=org,
        role=role,
        now=ctx.now,
        valid_days=ctx.settings.invite_valid_days,
        staff_type=staff_type,
    )
    audit.record(
        ctx.session,
        at=ctx.now,
        actor_staff_id=ctx.staff_id,
        action="invite",
        entity="invite",
        entity_id=inv.id,
        details={"role": role.value},
    )
    kind = f", {STAFF_TYPE_LABEL[staff_type]}" if staff_type else ""
    return Reply(
        f"Einladung für {ROLE_LABEL[(org.kind, role)]}{kind} ({org.name}):\n{code}\n"
        f"Gültig bis {fmt_date(inv.expires_at.astimezone(ctx.now.tzinfo).date())}, "
        "nur einmal verwendbar. Die neue Person schreibt mir: /start CODE Vorname Nachname"
    )
