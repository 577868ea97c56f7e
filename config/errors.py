"""The one error of configuration."""

from __future__ import annotations


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the key and the reason."""
