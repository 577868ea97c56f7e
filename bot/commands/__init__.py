"""Importing this package registers every command with bot.registry.REGISTRY."""

# The import order is the registration order, which /hilfe follows within a topic.
from bot.commands import (
    account,
    ag78,
    calendar,
    cases,
    cases_meetings,
    cases_updates,
    controlling,
    deadlines,
    hours,
    notices,
    oncall,
    paging,
    reachability,
    reminders,
    rota,
    rota_duties,
    rota_swaps,
)

__all__ = [
    "account",
    "ag78",
    "calendar",
    "cases",
    "cases_meetings",
    "cases_updates",
    "controlling",
    "deadlines",
    "hours",
    "notices",
    "oncall",
    "paging",
    "reachability",
    "reminders",
    "rota",
    "rota_duties",
    "rota_swaps",
]
