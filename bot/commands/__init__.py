"""Importing this package registers every command with bot.registry.REGISTRY."""

from bot.commands import (
    account,
    ag78,
    calendar,
    cases,
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
