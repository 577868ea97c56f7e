"""The `koopbot` command: chat, run, demo, invite, org, db upgrade."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from config.settings import ConfigError, Settings, load_settings
from storage.db import Database

log = logging.getLogger("koopbot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="koopbot", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML settings file (default: $KOOPBOT_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

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

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending schema migrations")
    return parser


def _setup_logging(settings: Settings) -> None:
    from bot.logs import setup_logging  # one redacting filter on every handler (issue 11)

    setup_logging(settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `koopbot` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"koopbot: {exc}", file=sys.stderr)
        return 2
    _setup_logging(settings)
    db = Database(settings.effective_database_url)
    try:
        db.upgrade()  # the schema follows the code on every start
        return _dispatch(args, settings, db)
    finally:
        db.dispose()


def _dispatch(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    from bot.core import Bot, build_calendar
    from scheduler.clock import SystemClock

    clock = SystemClock(settings.tz)
    if args.command == "db":
        print(f"Schema is up to date ({_redacted(settings.effective_database_url)}).")
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

        from bot.runner import App, run_services, with_configured_messengers

        services = with_configured_messengers(settings)
        try:
            if "telegram" in services:
                settings.telegram.read_token()  # a bad token: one line now, not a traceback later
        except ConfigError as exc:
            print(f"koopbot: {exc}", file=sys.stderr)
            return 2
        if not services:
            print("koopbot: no service configured (setting: services)", file=sys.stderr)
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

        from bot.runner import App, run_services

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
            role = "Koordination" if p.role.value == "coordinator" else "Fallführung"
            print(f"  {code}  {person.name} ({person.handle}), {side}, {role}")


def _invite(args: argparse.Namespace, settings: Settings, db: Database, now: object) -> int:
    from datetime import datetime

    from storage import audit
    from storage.enums import OrgKind, Role, StaffType
    from storage.staff import create_invite, organisation_by_name

    assert isinstance(now, datetime)
    with db.session() as session:
        org = organisation_by_name(session, args.org)
        if org is None:
            print(
                f"koopbot: no organisation named {args.org!r} (koopbot org add ...)",
                file=sys.stderr,
            )
            return 2
        staff_type = StaffType(args.type) if args.type else None
        if staff_type is not None and org.kind is not OrgKind.provider:
            print("koopbot: --type applies to provider staff only", file=sys.stderr)
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

    from storage import audit
    from storage.enums import OrgKind
    from storage.models import Organisation
    from storage.staff import organisation_by_name

    assert isinstance(now, datetime)
    with db.session() as session:
        if organisation_by_name(session, args.name) is not None:
            print(f"koopbot: organisation {args.name!r} exists", file=sys.stderr)
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
