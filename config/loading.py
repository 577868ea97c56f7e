"""Loading the settings: the TOML file, the environment, and errors in German."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.errors import ConfigError
from config.settings import Settings


def load_settings(config_file: Path | None = None) -> Settings:
    """Build the settings from a TOML file (or `KOOPBOT_CONFIG`) and the environment."""
    env_path = os.environ.get("KOOPBOT_CONFIG")
    path = config_file or (Path(env_path) if env_path else None)
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"die Konfigurationsdatei {path} gibt es nicht") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Konfigurationsdatei {path}: kein gültiges TOML ({exc})") from exc
        _relative_to(path.resolve().parent, values)
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        raise ConfigError(f"ungültige Konfiguration: {problems}") from exc


def _relative_to(folder: Path, values: dict[str, Any]) -> None:
    """Relative paths in a settings file mean: beside the file, wherever koopbot is started
    (issue 14); `data_dir` defaults to `data` beside it. Paths from the environment stay
    relative to the current folder."""

    def resolve(section: dict[str, Any], key: str) -> None:
        raw = section.get(key)
        if isinstance(raw, str) and raw and not Path(raw).expanduser().is_absolute():
            section[key] = str(folder / raw)

    values.setdefault("data_dir", "data")
    resolve(values, "data_dir")
    for name, keys in (
        ("telegram", ("token_file",)),
        ("matrix", ("store_dir", "recovery_key_file")),
    ):
        section = values.get(name)
        if isinstance(section, dict):
            for key in keys:
                resolve(section, key)


_SECRET_WORDS = ("token", "password", "secret", "key")


def _describe(err: Any) -> str:
    """`key = value: reason`; values of secret keys are never shown."""
    key = ".".join(str(p) for p in err["loc"])
    value = err.get("input")
    reason = _german(err)
    if any(word in key.lower() for word in _SECRET_WORDS) or isinstance(value, dict):
        return f"{key}: {reason}"
    return f"{key} = {value!r}: {reason}"


def _german(err: Any) -> str:
    """Pydantic's reason in German for the kinds of mistakes people make in settings."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))  # the settings' validators speak German
    if kind == "literal_error":
        return "erlaubt ist " + str(ctx.get("expected", "")).replace(" or ", " oder ")
    if kind == "extra_forbidden":
        return "unbekannte Einstellung"
    if kind == "missing":
        return "fehlt"
    limits = {
        "greater_than_equal": ("mindestens", "ge"),
        "greater_than": ("größer als", "gt"),
        "less_than_equal": ("höchstens", "le"),
        "less_than": ("kleiner als", "lt"),
    }
    if kind in limits:
        word, name = limits[kind]
        return f"{word} {ctx.get(name)}"
    simple = {
        "int_parsing": "keine ganze Zahl",
        "int_from_float": "keine ganze Zahl",
        "float_parsing": "keine Zahl",
        "bool_parsing": "weder true noch false",
        "string_type": "kein Text",
        "list_type": "keine Liste",
        "time_parsing": "keine Uhrzeit wie 09:00",
        "time_type": "keine Uhrzeit wie 09:00",
        "date_parsing": "kein Datum wie 2025-12-31",
        "date_from_datetime_parsing": "kein Datum wie 2025-12-31",
        "json_invalid": "kein gültiger Wert (JSON)",
    }
    return simple.get(kind, str(err["msg"]))
