"""Settings of the messenger adapters: Telegram and Matrix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from config.errors import ConfigError


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
