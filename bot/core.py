"""The transport-neutral core: an incoming message becomes a Reply."""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable
from dataclasses import replace

from sqlmodel import Session

from bot import texts
from bot.context import Ctx
from bot.errors import UserError
from bot.messages import Incoming, Reply, Sender
from bot.parsing.text import invalid_characters
from bot.phrases import natural_command, only_fillers
from bot.registry import REGISTRY, Command, Registry
from config.enums import OrgKind
from config.settings import Settings
from scheduler.clock import Clock
from scheduler.metrics import record_command
from scheduler.workdays import WorkCalendar
from storage.bounds import ascii_text
from storage.cases import side_of
from storage.db import Database
from storage.models.staff import Staff
from storage.staff import is_registered, staff_by_identity

log = logging.getLogger(__name__)

# Called in the command's own transaction with its reply, so an adapter can note the answer
# atomically with what the command changed (Matrix: every message answered exactly once).
Record = Callable[[Session, Reply], None]

# "/fristen", "!fristen" (Matrix), "/fristen@koopbot" (Telegram groups), or a bare "fristen".
_COMMAND = re.compile(r"^[/!]?(?P<name>[A-Za-zÄÖÜäöüß0-9_]+)(?:@\S+)?(?:\s+(?P<args>.*))?$", re.S)


# difflib's similarity ratio: /frsiten -> /fristen (0.86), /erledgt -> /erledigt (0.94); a
# name such as "Kowalski" is close to no command.
_SUGGEST_CUTOFF = 0.75
_FIRST_WORD = re.compile(r"(\S*)(.*)", re.S)


def _command_word_ascii(text: str) -> str:
    """The text with its first word NFKC-normalised (a full-width ／ｆｒｉｓｔｅｎ is /fristen)."""
    m = _FIRST_WORD.match(text.strip())
    assert m is not None
    return ascii_text(m[1]) + m[2]


def _count(command: Command | None, outcome: str) -> None:
    """Commands by registered name only: an unknown word a person typed is no label."""
    record_command(command.name if command is not None else "unknown", outcome)


def _refusal(text: str) -> Reply:
    return Reply(text, refused=True)


def build_calendar(settings: Settings) -> WorkCalendar:
    return WorkCalendar(
        subdivision=settings.bundesland,
        workdays=settings.workdays,
        closing_days=settings.one_off_closing_days,
        recurring_closing_days=settings.recurring_closing_days,
    )


class Bot:
    """Parses, checks permission, acts and renders German text; adapters only translate."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        *,
        calendar: WorkCalendar | None = None,
        registry: Registry = REGISTRY,
    ) -> None:
        import bot.commands  # noqa: F401  (registers the command handlers)

        self.settings = settings
        self.db = db
        self.clock = clock
        self.calendar = calendar or build_calendar(settings)
        self.registry = registry

    def handle(self, message: Incoming, *, record: Record | None = None) -> Reply:
        """Answer one message; never raises, never leaves a partial write behind.

        `record(session, reply)` runs inside the transaction of a command handler that
        returned normally; on every other path (refusals, errors) nothing was written."""
        if invalid_characters(message.sender.user_id):
            return _refusal(texts.STRANGER)  # no such account can be registered
        if message.sender.display_name and invalid_characters(message.sender.display_name):
            message = replace(message, sender=replace(message.sender, display_name=None))
        too_long = len(message.text) > self.settings.max_message_chars
        bad_text = not too_long and invalid_characters(message.text)
        match = None if too_long or bad_text else _COMMAND.match(_command_word_ascii(message.text))
        command: Command | None = None
        try:
            natural = None if too_long or bad_text else self._natural(message.text, match)
            if natural is not None:
                command = natural
                reply = self._run(message, natural, natural.name, "", record)
                _count(command, "refused" if reply.refused else "ok")
                return reply
            if match is None:
                return self._unparsed(message, too_long=too_long, bad_text=bad_text)
            command = self.registry.find(match["name"])
            args = (match["args"] or "").strip()
            if command is not None and only_fillers(args):
                args = ""  # "/hilfe bitte" is /hilfe
            reply = self._run(message, command, match["name"], args, record)
            _count(command, "refused" if reply.refused else "ok")
            return reply
        except UserError as exc:
            _count(command, "refused")
            return _refusal(exc.message)
        except Exception:
            # The single place where unexpected errors end: logged once, the user gets an apology.
            log.exception("command %r failed", None if match is None else match["name"])
            _count(command, "error")
            return _refusal(texts.SORRY)

    def _natural(self, text: str, match: re.Match[str] | None) -> Command | None:
        """A natural phrase ("wer hat rufbereitschaft?") where no command word was given."""
        if match is not None and self.registry.find(match["name"]) is not None:
            return None
        name = natural_command(text)
        return None if name is None else self.registry.find(name)

    def is_registered(self, sender: Sender) -> bool:
        """Whether the sender is registered staff (adapters ask before joining a room)."""
        with self.db.session() as session:
            return is_registered(session, sender.transport, sender.user_id)

    def _unparsed(self, message: Incoming, *, too_long: bool, bad_text: bool) -> Reply:
        """Text that is no command; strangers still get only the one refusal (P2)."""
        with self.db.session() as session:
            actor = staff_by_identity(session, message.sender.transport, message.sender.user_id)
        if actor is None:
            return _refusal(texts.STRANGER)
        if too_long:
            return _refusal(texts.too_long(self.settings.max_message_chars))
        if bad_text:
            return _refusal(texts.INVALID_CHARACTERS)
        return _refusal(texts.NOT_UNDERSTOOD)

    def _suggestion(
        self, name: str, actor: Staff, side: OrgKind | None, private: bool
    ) -> str | None:
        """The nearest command this person may use, if one is close (a typo like /frsiten)."""
        usable: dict[str, str] = {}
        for cmd in self.registry.commands:
            if side is not None and not cmd.allowed(actor.role, side):
                continue
            if not private and not cmd.group_safe:
                continue
            for key in (cmd.name, *cmd.aliases):
                usable.setdefault(key, cmd.name)
        close = difflib.get_close_matches(name.lower(), list(usable), n=1, cutoff=_SUGGEST_CUTOFF)
        return usable[close[0]] if close else None

    def _run(
        self,
        message: Incoming,
        command: Command | None,
        name: str,
        args: str,
        record: Record | None = None,
    ) -> Reply:
        with self.db.session() as session:
            actor = staff_by_identity(session, message.sender.transport, message.sender.user_id)
            side = None if actor is None else side_of(session, actor)
            if actor is None and (command is None or command.needs_registration):
                return _refusal(texts.STRANGER)
            if command is None:
                assert actor is not None
                return _refusal(
                    texts.unknown_command(self._suggestion(name, actor, side, message.private))
                )
            if not message.private and not command.group_safe:
                return _refusal(texts.PRIVATE_ONLY)
            if actor is not None and side is not None and not command.allowed(actor.role, side):
                return _refusal(command.refusal or texts.NOT_ALLOWED)
            ctx = Ctx(
                settings=self.settings,
                session=session,
                calendar=self.calendar,
                now=self.clock.now().astimezone(self.settings.tz),
                message=message,
                actor=actor,
                side=side,
            )
            reply = command.handler(ctx, args)
            if record is not None:
                record(session, reply)
            return reply
