"""The `koopbot` command: chat, run, demo, invite, org, db upgrade."""

from __future__ import annotations

import argparse
import getpass
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from config.errors import ConfigError
from config.loading import load_settings
from config.settings import Settings
from storage.db import Database

log = logging.getLogger("koopbot")


# argparse's own errors, in German (its help texts stay English, as the README's reference).
_ARGPARSE_ERRORS = [
    (re.compile(r"^unrecognized arguments: (.*)$"), "unbekannte Angaben: {0}"),
    (re.compile(r"^the following arguments are required: (.*)$"), "es fehlt: {0}"),
    (
        re.compile(r"^argument (.+?): invalid choice: (.+?) \(choose from (.*)\)$"),
        "{0}: {1} gibt es nicht (möglich: {2})",
    ),
    (re.compile(r"^argument (.+?): expected one argument$"), "{0} braucht einen Wert"),
    (re.compile(r"^argument (.+?): invalid (\w+) value: (.*)$"), "{0}: {2} ist kein gültiger Wert"),
    (
        re.compile(r"^argument (.+?): not allowed with argument (.*)$"),
        "{0} geht nicht zusammen mit {1}",
    ),
    (
        re.compile(r"^argument (.+?): ignored explicit argument (.*)$"),
        "{0}: {1} ist hier nicht erlaubt",
    ),
    (re.compile(r"^ambiguous option: (.+?) could match (.*)$"), "{0} ist mehrdeutig ({1})"),
]


class _Parser(argparse.ArgumentParser):
    """Takes `--config FILE` before or after any subcommand (issue 14) and reports usage
    errors in German."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Subcommands must not reset a --config given before them: SUPPRESS keeps it.
        self.add_argument(
            "--config",
            type=Path,
            default=argparse.SUPPRESS,
            help="TOML settings file (default: $KOOPBOT_CONFIG)",
        )

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "Aufruf:", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "Aufruf:", 1)

    def error(self, message: str) -> NoReturn:
        for pattern, german in _ARGPARSE_ERRORS:
            if m := pattern.match(message):
                message = german.format(*m.groups())
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: Fehler: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="koopbot", description=__doc__)
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )

    chat = sub.add_parser("chat", help="chat with koopbot in this terminal")
    chat.add_argument("--user", default=None, help="console identity (default: your login name)")
    chat.add_argument("--demo", action="store_true", help="load the demo organisation first")

    sub.add_parser("run", help="run all configured services")
    sub.add_parser("scheduler", help="run only the reminder engine (sweep, dispatch, digest)")
    sub.add_parser("demo", help="load the demo organisation and print invite codes")

    invite = sub.add_parser("invite", help="print a one-time invite code for a role")
    invite.add_argument("--org", required=True, help="organisation name")
    invite.add_argument("--role", required=True, choices=["caseworker", "coordinator"])
    invite.add_argument("--type", choices=["fachkraft", "semiprofessional"], default=None)

    org = sub.add_parser("org", help="manage organisations")
    org_sub = org.add_subparsers(dest="org_command", required=True)
    org_add = org_sub.add_parser("add", help="add an organisation")
    org_add.add_argument("name")
    org_add.add_argument("--kind", required=True, choices=["provider", "jugendamt"])

    from bot.export_cli import add_parser as add_export

    add_export(sub)
    from bot.privacy_cli import add_parser as add_privacy

    add_privacy(sub)

    from bot.matrix_cli import add_parser as add_matrix

    add_matrix(sub)
    from bot.import_cli import add_parser as add_import

    add_import(sub)
    from bot.backup_cli import add_parser as add_backup

    add_backup(sub)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending schema migrations")
    return parser


def _setup_logging(settings: Settings) -> None:
    from config.logs import setup_logging  # one redacting filter on every handler (issue 11)

    setup_logging(settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `koopbot` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"koopbot: {exc}", file=sys.stderr)
        return 2
    if args.command == "chat" and not args.demo and (missing := _missing_database(settings)):
        print(
            f"koopbot: in {missing} gibt es keine Datenbank. Zum Ausprobieren: koopbot chat "
            "--demo. Sonst bitte im Ordner der Installation starten oder --config DATEI angeben "
            "(relative Pfade darin gelten neben der Datei).",
            file=sys.stderr,
        )
        return 2
    _setup_logging(settings)
    db = Database(settings.effective_database_url)
    try:
        db.upgrade()  # the schema follows the code on every start
        return _dispatch(args, settings, db)
    finally:
        db.dispose()


def _missing_database(settings: Settings) -> Path | None:
    """The SQLite file a chat would silently create empty (issue 14): a chat in the wrong
    folder would tell registered people they are strangers."""
    if settings.database_url:
        return None
    path = (settings.data_dir / "koopbot.db").resolve()
    return None if path.exists() else path


def _dispatch(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    from bot.core import Bot, build_calendar
    from scheduler.clock import SystemClock

    clock = SystemClock(settings.tz)
    if args.command == "db":
        print(f"Das Schema ist aktuell ({_redacted(settings.effective_database_url)}).")
        return 0
    if args.command == "demo" or (args.command == "chat" and args.demo):
        _load_demo(settings, db, clock.now())
        if args.command == "demo":
            return 0
    if args.command == "chat":
        from bot.console import chat

        print("koopbot – Konsole. /hilfe zeigt die Befehle, /ende beendet.")
        chat(
            Bot(settings, db, clock, calendar=build_calendar(settings)),
            args.user or getpass.getuser(),
        )
        return 0
    if args.command == "run":
        import asyncio

        from bot.app import App
        from bot.runner import run_services, with_configured_messengers

        services = with_configured_messengers(settings)
        try:
            if "telegram" in services:
                settings.telegram.read_token()  # a bad token: one line now, not a traceback later
        except ConfigError as exc:
            print(f"koopbot: {exc}", file=sys.stderr)
            return 2
        if not services:
            print("koopbot: kein Dienst eingerichtet (Einstellung: services)", file=sys.stderr)
            return 2
        app = App(settings=settings, db=db, clock=clock, bot=Bot(settings, db, clock))
        try:
            asyncio.run(run_services(app, services))
        except (ValueError, ConfigError) as exc:
            print(f"koopbot: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "scheduler":
        import asyncio

        from bot.app import App
        from bot.runner import run_services

        app = App(settings=settings, db=db, clock=clock, bot=Bot(settings, db, clock))
        asyncio.run(run_services(app, ["scheduler"]))
        return 0
    if args.command == "invite":
        return _invite(args, settings, db, clock.now())
    if args.command == "org":
        return _add_org(args, db, clock.now())
    if args.command == "matrix":
        from bot.matrix_cli import run as run_matrix_cli

        return run_matrix_cli(args, settings)
    if args.command in ("retention", "auskunft", "loeschen"):
        from bot.privacy_cli import run as run_privacy

        return run_privacy(args, settings, db, clock.now())
    if args.command == "export":
        from bot.export_cli import run as run_export

        return run_export(args, settings, db, clock.now())
    if args.command in ("backup", "restore"):
        from bot.backup_cli import run as run_backup

        return run_backup(args, settings, db)
    if args.command == "import":
        from bot.import_cli import run as run_import

        return run_import(args, settings, db, clock.now())
    raise AssertionError(args.command)


def _load_demo(settings: Settings, db: Database, now: object) -> None:
    from datetime import datetime

    from bot.core import build_calendar
    from bot.demo import PEOPLE, demo_invites, load_demo, load_demo_history

    assert isinstance(now, datetime)
    with db.session() as session:
        calendar = build_calendar(settings)
        created = load_demo(session, settings, calendar, now)
        load_demo_history(session, settings, calendar, now)
        invites = demo_invites(session, settings, now)
    print("Demo-Organisation angelegt." if created else "Demo-Organisation ist schon da.")
    if invites:
        print("Einladungscodes zum Ausprobieren (einmalig, z. B. /start CODE):")
        roles = {p.handle: p for p in PEOPLE}
        for person, code in invites:
            p = roles[person.handle]
            side = "Träger" if p.staff_type else "ASD"
            # The same words as the welcome (ROLE_LABEL): the ASD's coordinator is its Leitung.
            lead = "Koordination" if p.staff_type else "Leitung"
            role = lead if p.role.value == "coordinator" else "Fallführung"
            print(f"  {code}  {person.name} ({person.handle}), {side}, {role}")


def _invite(args: argparse.Namespace, settings: Settings, db: Database, now: object) -> int:
    from datetime import datetime

    from config.enums import OrgKind, Role, StaffType
    from storage import audit
    from storage.staff import create_invite, organisation_by_name

    assert isinstance(now, datetime)
    with db.session() as session:
        org = organisation_by_name(session, args.org)
        if org is None:
            print(
                f"koopbot: keine Organisation namens {args.org!r} (koopbot org add ...)",
                file=sys.stderr,
            )
            return 2
        staff_type = StaffType(args.type) if args.type else None
        if staff_type is not None and org.kind is not OrgKind.provider:
            print(
                "koopbot: --type gilt nur für Mitarbeitende eines freien Trägers", file=sys.stderr
            )
            return 2
        code, invite = create_invite(
            session,
            organisation=org,
            role=Role(args.role),
            now=now,
            valid_days=settings.invite_valid_days,
            staff_type=staff_type,
        )
        audit.record(
            session, at=now, actor="cli", action="invite", entity="invite", entity_id=invite.id
        )
    print(code)
    return 0


def _add_org(args: argparse.Namespace, db: Database, now: object) -> int:
    from datetime import datetime

    from config.enums import OrgKind
    from storage import audit
    from storage.models.staff import Organisation
    from storage.staff import organisation_by_name

    assert isinstance(now, datetime)
    with db.session() as session:
        if organisation_by_name(session, args.name) is not None:
            print(f"koopbot: die Organisation {args.name!r} gibt es schon", file=sys.stderr)
            return 2
        org = Organisation(name=args.name, kind=OrgKind(args.kind))
        session.add(org)
        session.flush()
        audit.record(
            session, at=now, actor="cli", action="create", entity="organisation", entity_id=org.id
        )
    print(f"Organisation {args.name!r} ({args.kind}) angelegt.")
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
