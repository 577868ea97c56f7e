"""Typed settings: a TOML file, overridden by `KOOPBOT_*` environment variables."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

_SUBDIVISIONS = frozenset("BB BE BW BY HB HE HH MV NI NW RP SH SL SN ST TH".split())
_DAY_MONTH = re.compile(r"^(\d{1,2})\.(\d{1,2})\.?$")
_FULL_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the key and the reason."""


class Periods(BaseModel):
    """The periods of the local agreement (seed 001); defaults are the seed's values."""

    action_plan_weeks: int = Field(6, ge=1, le=52)  # C1/D1: Handlungsplan
    first_help_plan_months: int = Field(6, ge=1, le=36)  # C1/D5: Ersthilfeplan
    report_interval_months: int = Field(6, ge=1, le=24)  # C1/D2: Berichte
    report_before_meeting_weeks: int = Field(6, ge=1, le=26)  # C2/D3
    coordination_working_days: int = Field(7, ge=1, le=60)  # C3/D4
    annual_report_month: int = Field(3, ge=1, le=12)  # C5: 31.03.
    annual_report_day: int = Field(31, ge=1, le=31)
    annual_report_first_year: int = 2026
    contract_start: date = date(2025, 1, 1)
    contract_end: date = date(2029, 12, 31)


class HoursLimits(BaseModel):
    """Bounds of H1."""

    max_entry_minutes: int = Field(12 * 60, ge=1, le=24 * 60)
    max_day_minutes: int = Field(24 * 60, ge=1, le=24 * 60)


class Settings(BaseSettings):
    """Everything koopbot can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="KOOPBOT_", env_nested_delimiter="__", extra="forbid"
    )

    timezone: str = "Europe/Berlin"
    bundesland: str = "HB"
    workdays: Literal["mon-fri", "mon-sat"] = "mon-fri"
    closing_days: list[str] = Field(default_factory=list)
    data_dir: Path = Path("data")
    database_url: str | None = None
    case_code_pattern: str = r"^[A-Z]{1,5}-\d{4}-\d{1,5}$"
    max_message_chars: int = Field(2000, ge=100, le=100_000)
    invite_valid_days: int = Field(14, ge=1, le=365)
    services: list[str] = ["console"]
    console_user: str = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    periods: Periods = Field(default_factory=Periods)
    hours: HoursLimits = Field(default_factory=HoursLimits)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the TOML file, which is passed in as init values.
        return env_settings, init_settings, file_secret_settings

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("bundesland")
    @classmethod
    def _known_subdivision(cls, value: str) -> str:
        if value not in _SUBDIVISIONS:
            raise ValueError(
                f"{value!r} is not a Bundesland code ({', '.join(sorted(_SUBDIVISIONS))})"
            )
        return value

    @field_validator("closing_days")
    @classmethod
    def _closing_days(cls, value: list[str]) -> list[str]:
        for item in value:
            _parse_closing_day(item)
        return value

    @field_validator("case_code_pattern")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _contract(self) -> Settings:
        if self.periods.contract_end <= self.periods.contract_start:
            raise ValueError("periods.contract_end must be after periods.contract_start")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'koopbot.db').as_posix()}"

    @property
    def recurring_closing_days(self) -> list[tuple[int, int]]:
        return [d for d in map(_parse_closing_day, self.closing_days) if isinstance(d, tuple)]

    @property
    def one_off_closing_days(self) -> list[date]:
        return [d for d in map(_parse_closing_day, self.closing_days) if isinstance(d, date)]


def _parse_closing_day(text: str) -> tuple[int, int] | date:
    """`24.12.` closes every year; `29.12.2025` or `2025-12-29` closes once."""
    text = text.strip()
    try:
        if m := _DAY_MONTH.match(text):
            day, month = int(m[1]), int(m[2])
            date(2024, month, day)  # a leap year admits 29.02.
            return (month, day)
        if m := _FULL_DATE.match(text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"closing day {text!r}: use 24.12. (every year) or 29.12.2025") from exc


def load_settings(config_file: Path | None = None) -> Settings:
    """Build the settings from a TOML file (or `KOOPBOT_CONFIG`) and the environment."""
    env_path = os.environ.get("KOOPBOT_CONFIG")
    path = config_file or (Path(env_path) if env_path else None)
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path}: {exc}") from exc
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc
