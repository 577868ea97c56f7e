"""The settings object: its top-level keys and sections; the environment wins over the file."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from config.agreement import Controlling, HoursLimits, Periods
from config.messengers import MatrixSettings, TelegramSettings
from config.operations import LogSettings, MetricsSettings, ReadinessSettings, WebSettings
from config.privacy import Retention, StartLimits
from config.scheduling import OnCallSettings, Reminders

_SUBDIVISIONS = frozenset("BB BE BW BY HB HE HH MV NI NW RP SH SL SN ST TH".split())
_DAY_MONTH = re.compile(r"^(\d{1,2})\.(\d{1,2})\.?$")
_FULL_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


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
    reminders: Reminders = Field(default_factory=Reminders)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    matrix: MatrixSettings = Field(default_factory=MatrixSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    controlling: Controlling = Field(default_factory=Controlling)
    oncall: OnCallSettings = Field(default_factory=OnCallSettings)
    start_limit: StartLimits = Field(default_factory=StartLimits)
    retention: Retention = Field(default_factory=Retention)
    log: LogSettings = Field(default_factory=LogSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    readyz: ReadinessSettings = Field(default_factory=ReadinessSettings)

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
            raise ValueError(f"unbekannte Zeitzone {value!r}") from exc
        return value

    @field_validator("bundesland")
    @classmethod
    def _known_subdivision(cls, value: str) -> str:
        if value not in _SUBDIVISIONS:
            raise ValueError(
                f"{value!r} ist kein Bundesland-Kürzel ({', '.join(sorted(_SUBDIVISIONS))})"
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
            re.compile(value, re.ASCII)  # codes are matched with ASCII classes (issue 12)
        except re.error as exc:
            raise ValueError(f"kein regulärer Ausdruck: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _contract(self) -> Settings:
        if self.periods.contract_end <= self.periods.contract_start:
            raise ValueError("periods.contract_end muss nach periods.contract_start liegen")
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
        raise ValueError(f"Schließtag {text!r}: bitte 24.12. (jedes Jahr) oder 29.12.2025") from exc
