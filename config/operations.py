"""Running the service: the feed web server, the log, metrics and readiness."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator


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
