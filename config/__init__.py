"""koopbot configuration."""

from config.errors import ConfigError
from config.loading import load_settings
from config.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
