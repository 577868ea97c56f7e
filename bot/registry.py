"""Commands register themselves here with their names, aliases, help and permissions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.enums import OrgKind, Role

if TYPE_CHECKING:
    from bot.context import Ctx
    from bot.messages import Reply

Handler = Callable[["Ctx", str], "Reply"]


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    handler: Handler
    summary: str  # German, one line, for /hilfe
    example: str
    roles: frozenset[Role] | None  # None: every role
    sides: frozenset[OrgKind] | None  # None: both sides
    group_safe: bool
    needs_registration: bool
    allow: Callable[[Role, OrgKind], bool] | None = None  # for rules roles x sides cannot say
    refusal: str | None = None  # German answer for those not allowed; a generic one otherwise

    def allowed(self, role: Role, side: OrgKind) -> bool:
        return (
            (self.roles is None or role in self.roles)
            and (self.sides is None or side in self.sides)
            and (self.allow is None or self.allow(role, side))
        )


class Registry:
    def __init__(self) -> None:
        self._by_name: dict[str, Command] = {}
        self.commands: list[Command] = []

    def command(
        self,
        name: str,
        *aliases: str,
        summary: str,
        example: str,
        roles: set[Role] | None = None,
        sides: set[OrgKind] | None = None,
        group_safe: bool = False,
        needs_registration: bool = True,
        allow: Callable[[Role, OrgKind], bool] | None = None,
        refusal: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            cmd = Command(
                name=name,
                aliases=aliases,
                handler=handler,
                summary=summary,
                example=example,
                roles=None if roles is None else frozenset(roles),
                sides=None if sides is None else frozenset(sides),
                group_safe=group_safe,
                needs_registration=needs_registration,
                allow=allow,
                refusal=refusal,
            )
            for key in (name, *aliases):
                if key in self._by_name:
                    raise ValueError(f"command name {key!r} registered twice")
                self._by_name[key] = cmd
            self.commands.append(cmd)
            return handler

        return register

    def find(self, name: str) -> Command | None:
        return self._by_name.get(name.lower())


REGISTRY = Registry()
