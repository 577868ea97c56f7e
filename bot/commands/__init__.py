"""Importing this package registers every command with bot.registry.REGISTRY."""

from bot.commands import account, ag78, cases, deadlines, hours, oncall

__all__ = ["account", "ag78", "cases", "deadlines", "hours", "oncall"]
