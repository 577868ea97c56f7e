"""Typed settings: a TOML file, overridden by `KOOPBOT_*` environment variables."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
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


class TelegramSettings(BaseModel):
    """The Telegram adapter; the token belongs in `KOOPBOT_TELEGRAM__TOKEN` or `token_file`."""

    token: SecretStr | None = None
    token_file: Path | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Literal["polling", "webhook"] = "polling"
    poll_timeout: int = Field(30, ge=0, le=50)  # seconds of getUpdates long polling
    webhook_url: str | None = None  # public https URL Telegram posts updates to
    webhook_secret: SecretStr | None = None  # checked in X-Telegram-Bot-Api-Secret-Token
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=0, le=65535)
    webhook_path: str = "/telegram/webhook"
    max_retries: int = Field(5, ge=0, le=20)  # 429 answers waited out per message

    @model_validator(mode="after")
    def _webhook(self) -> TelegramSettings:
        if self.mode == "webhook":
            if not self.webhook_url:
                raise ValueError("telegram.webhook_url fehlt (nötig bei telegram.mode = 'webhook')")
            secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
                raise ValueError(
                    "telegram.webhook_secret fehlt oder passt nicht (Webhook-Modus): 1-256 Zeichen "
                    "A-Z, a-z, 0-9, _ und -"
                )
        if not self.webhook_path.startswith("/"):
            raise ValueError(f"telegram.webhook_path {self.webhook_path!r} muss mit / beginnen")
        return self

    @property
    def configured(self) -> bool:
        return self.token is not None or self.token_file is not None

    def read_token(self) -> str:
        """The bot token from the setting or the token file; never logged."""
        if self.token is not None:
            token = self.token.get_secret_value().strip()
        elif self.token_file is not None:
            try:
                token = self.token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"telegram.token_file {self.token_file}: nicht lesbar ({exc.strerror})"
                ) from None
        else:
            raise ConfigError(
                "telegram: kein Token (KOOPBOT_TELEGRAM__TOKEN oder telegram.token_file)"
            )
        if not re.fullmatch(r"[0-9]+:[A-Za-z0-9_-]{20,}", token):
            # The message must not echo the token.
            key = (
                "telegram.token (KOOPBOT_TELEGRAM__TOKEN)" if self.token else "telegram.token_file"
            )
            raise ConfigError(f"{key}: kein BotFather-Token wie 123456789:AA… (nicht angezeigt)")
        return token


class MatrixSettings(BaseModel):
    """The Matrix adapter; the password (first login only) belongs in `KOOPBOT_MATRIX__PASSWORD`."""

    homeserver: str | None = None  # e.g. https://matrix.example.org
    user_id: str | None = None  # e.g. @koopbot:example.org
    password: SecretStr | None = None
    device_name: str = "koopbot"
    store_dir: Path | None = None  # crypto store and credentials; default: <data_dir>/matrix
    sync_timeout_ms: int = Field(30_000, ge=0, le=120_000)
    # Servers whose users may open a direct chat to register with /start; group rooms are
    # joined only on an invite from registered staff. Empty: the bot's own server.
    registration_servers: list[str] = Field(default_factory=list)
    max_rate_limit_waits: int = Field(8, ge=0, le=100)  # M_LIMIT_EXCEEDED answers waited out
    # The secret storage key that restores the bot's cross-signing identity after a lost store
    # (`koopbot matrix recovery-key` shows it once): `KOOPBOT_MATRIX__RECOVERY_KEY` or a file.
    recovery_key: SecretStr | None = None
    recovery_key_file: Path | None = None
    # Issue 10: an undecryptable message gets a notice in the room after this long (the key
    # is requested at once; the message is answered whenever the key arrives).
    undecryptable_notice_seconds: float = Field(30.0, ge=0, le=3600)
    # matrix-nio logs every state event at INFO; its loggers stay at this level. No DEBUG:
    # there nio logs whole responses (access tokens) and its store's SQL (key material).
    nio_log_level: Literal["INFO", "WARNING", "ERROR"] = "WARNING"

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"@[^:\s]+:\S+", value):
            raise ValueError(f"{value!r} ist keine Matrix-Kennung wie @koopbot:example.org")
        return value

    @property
    def configured(self) -> bool:
        return bool(self.homeserver and self.user_id)

    def read_recovery_key(self) -> str | None:
        """The recovery key from the setting or its file, None if neither is set; never logged."""
        if self.recovery_key is not None:
            return self.recovery_key.get_secret_value()
        if self.recovery_key_file is not None:
            try:
                return self.recovery_key_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"matrix.recovery_key_file {self.recovery_key_file}: nicht lesbar ({exc.strerror})"
                ) from exc
        return None


class Reminders(BaseModel):
    """The reminder engine (issue 4): stages, quiet hours, digest, delivery and its retries."""

    days_before: list[int] = Field(default_factory=lambda: [14, 7])  # calendar days
    working_days_before: list[int] = Field(default_factory=lambda: [2])
    on_due_day: bool = True
    overdue_daily: bool = True  # each working day while overdue
    escalate_after_working_days: int = Field(3, ge=1, le=60)  # to coordinators and ASD contact
    meeting_days_before: list[int] = Field(default_factory=lambda: [7, 1])  # HPG and AG 78
    ag78_audience: Literal["coordinators", "all"] = "coordinators"
    send_from: time = time(8, 0)  # quiet hours: outside [send_from, send_until) and
    send_until: time = time(18, 0)  # on days that are no working day
    digest_weekday: int = Field(0, ge=0, le=6)  # 0 = Monday
    digest_time: time = time(8, 0)
    sweep_seconds: int = Field(60, ge=1, le=3600)
    dispatch_seconds: float = Field(2.0, gt=0, le=600)
    batch_size: int = Field(500, ge=1, le=100_000)
    # Plan ahead: stages within this many hours are written to the outbox early, at most
    # `max_rows_per_tick` rows per sweep, so the 08:00 burst is spread over the day before:
    # 20 h of 60 s ticks at 100 rows (~11 ms each on SQLite) hold 120,000 rows a morning.
    plan_ahead_hours: int = Field(20, ge=0, le=72)
    max_rows_per_tick: int = Field(100, ge=1, le=100_000)
    lease_seconds: int = Field(120, ge=1, le=3600)  # a crashed sender's rows return after this
    max_in_flight: int = Field(8, ge=1, le=256)  # concurrent sends per process
    max_attempts: int = Field(6, ge=1, le=100)  # then the coordinators are told
    backoff_seconds: int = Field(60, ge=1, le=86_400)  # doubles per failed attempt
    backoff_max_seconds: int = Field(3600, ge=1, le=7 * 86_400)
    late_after_minutes: int = Field(30, ge=1, le=1440)  # later than this is marked "verspätet"
    snooze_default_days: int = Field(1, ge=1, le=30)
    # Under Telegram's 30/s with room for arrival jitter: a 429 stalls every scheduler >= 1 s.
    # Shared by every scheduler on one database (issue 11; PostgreSQL: the rate_limit table).
    rate_per_second: dict[str, float] = Field(
        default_factory=lambda: {"telegram": 28.0, "console": 50.0}
    )
    # Messages/s of the bot's Matrix account: the homeserver's `rc_message.per_second` (Synapse
    # default 0.2) or the override the bot account got.
    matrix_rc_message: float = Field(5.0, gt=0, le=1000)
    messengers: list[str] = Field(default_factory=lambda: ["console"])  # transports to send on

    @field_validator("days_before", "working_days_before", "meeting_days_before")
    @classmethod
    def _positive_days(cls, value: list[int]) -> list[int]:
        if any(d < 1 or d > 365 for d in value):
            raise ValueError(f"Tage müssen zwischen 1 und 365 liegen, angegeben: {value}")
        return sorted(set(value), reverse=True)

    @model_validator(mode="after")
    def _window(self) -> Reminders:
        if self.send_until <= self.send_from:
            raise ValueError("reminders.send_until muss nach reminders.send_from liegen")
        return self


class Controlling(BaseModel):
    """Hours controlling (issue 7): the rules of seed 001 II.5 and the quarterly evaluation."""

    threshold_percent: int = Field(90, ge=1, le=100)  # H3: below this share of the target
    short_quarters: int = Field(3, ge=1, le=12)  # H3: ... in this many consecutive quarters
    indirect_percent: int = Field(20, ge=0, le=100)  # H2: indirect time by calculation
    evaluate_time: time = time(7, 0)  # daily: H3 for the quarter ended, the forecast alert
    # Issue 14, one step past H3: mid-quarter, when the forecast says the running quarter
    # would be at least this many short quarters in a row, its coordinators are told once
    # (0: never); from this share of the quarter's working days on (the forecast settles).
    forecast_streak: int = Field(2, ge=0, le=12)
    forecast_from_percent: int = Field(50, ge=1, le=100)


class OnCallSettings(BaseModel):
    """Emergency contact (issue 6): paging, handover confirmation, gap detection."""

    page_ack_minutes: int = Field(10, ge=1, le=240)  # unacknowledged: next escalation level
    page_max_chars: int = Field(160, ge=20, le=200)  # a page is a short message
    handover_confirm_minutes: int = Field(60, ge=1, le=24 * 60)  # then coordinators are told
    gap_days: int = Field(14, ge=1, le=120)  # look this far ahead for uncovered shifts
    check_seconds: int = Field(30, ge=1, le=3600)  # escalation and handover check interval
    # Issue 15: a heads-up this many days before each shift (0 or 1: only the day before).
    notice_days: int = Field(3, ge=0, le=30)
    weekly_summary: bool = True  # coordinators: the coming week's duties, swaps, gaps
    summary_weekday: int = Field(4, ge=0, le=6)  # 0 = Monday; covers the next Monday's week
    summary_time: time = time(12, 0)


class WebSettings(BaseModel):
    """The web server of the calendar feeds (issue 5): service name "web" in `services`."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # How users reach the server (a reverse proxy's https URL); default: http://host:port.
    public_base_url: str | None = None
    refresh_minutes: int = Field(60, ge=5, le=7 * 24 * 60)  # REFRESH-INTERVAL, X-PUBLISHED-TTL
    cancelled_days: int = Field(60, ge=1, le=3650)  # cancelled events stay this long as CANCELLED
    oncall_past_days: int = Field(28, ge=0, le=3650)  # on-call shifts shown around today
    oncall_future_days: int = Field(182, ge=1, le=3650)
    recheck_seconds: float = Field(1.0, ge=0, le=3600)  # how stale a cached feed may be at most
    uid_domain: str = "koopbot"  # right-hand side of event UIDs; set once, never change

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(f"{value!r} ist keine http(s)-Adresse wie https://koopbot.example.org")
        return value.rstrip("/")

    @field_validator("uid_domain")
    @classmethod
    def _uid_domain(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9.-]{1,100}", value):
            raise ValueError(f"{value!r} ist keine Domain wie koopbot.example.org")
        return value

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"


class StartLimits(BaseModel):
    """Invite brute force (issue 12): failed `/start` attempts per messenger account and overall."""

    per_account: int = Field(5, ge=1, le=1000)  # failures of one account within the window
    overall: int = Field(50, ge=1, le=100_000)  # failures of all accounts within the window
    window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)


class Retention(BaseModel):
    """How long personal data stays (issue 12, DOMAIN.md P4); the daily job enforces it."""

    closed_case_days: int = Field(730, ge=1, le=36_500)  # after the help ended (closed_on)
    staff_days: int = Field(180, ge=1, le=36_500)  # after a person was deactivated
    audit_days: int = Field(1095, ge=30, le=36_500)  # audit entries, then removed
    start_attempt_days: int = Field(7, ge=1, le=3650)  # records of failed /start attempts
    run_time: time = time(3, 15)  # the daily job, in the organisation's time zone


class LogSettings(BaseModel):
    """The log file (issue 16): today's text lines or one JSON object a line."""

    format: Literal["text", "json"] = "text"


class MetricsSettings(BaseModel):
    """Prometheus metrics (issue 16): on the web service, or on a port of their own."""

    on_web: bool = True  # /metrics and /readyz on the web service when it runs in the process
    # A process without the web service (`koopbot scheduler`) serves /metrics, /readyz and
    # /healthz here; None: not at all.
    port: int | None = Field(None, ge=0, le=65535)
    host: str = "127.0.0.1"


class ReadinessSettings(BaseModel):
    """What `/readyz` demands (issue 16); the sweep must have run within 2 × sweep_seconds."""

    outbox_max_age_seconds: int = Field(900, ge=1, le=7 * 86_400)  # oldest due unsent row
    messenger_max_age_seconds: int = Field(300, ge=1, le=86_400)  # last sync / poll


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
        return str(ctx.get("error", err["msg"]))  # the validators above speak German
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
