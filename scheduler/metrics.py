"""Prometheus metrics of one koopbot process (issue 16), prometheus-client's text format.

Other modules record with one-line calls (`record_send`, `observe_tick`, `record_sync`,
`record_poll`, `record_command`; the web server counts its requests); what the database knows (the outbox by
state and transport, the oldest due unsent row) is read when the metrics are scraped. Labels
are names from a fixed set: never a user id, a case code or anything a person typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from scheduler.clock import Clock, SystemClock
from storage.ops import OutboxSnapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SEND_RESULTS = ("sent", "retried", "failed", "rate_limited")
_TICK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Liveness:
    """When the periodic work of this process last happened (POSIX seconds)."""

    sweep_expected_every: float | None = None  # set when the scheduler runs in this process
    sweep_started: float | None = None
    last_sweep: float | None = None
    messengers_started: dict[str, float] = field(default_factory=dict)  # polled or synced here
    last_contact: dict[str, float] = field(default_factory=dict)

    def sweep_age(self, now: float) -> float | None:
        since = self.last_sweep if self.last_sweep is not None else self.sweep_started
        return None if since is None else max(0.0, now - since)

    def messenger_age(self, name: str, now: float) -> float | None:
        since = self.last_contact.get(name, self.messengers_started.get(name))
        return None if since is None else max(0.0, now - since)


class Metrics:
    """The collectors of one process, in a registry of their own."""

    def __init__(self, clock: Clock | None = None) -> None:
        # Liveness stamps come from the same kind of clock /readyz compares them with.
        self.clock: Clock = clock or SystemClock(UTC)
        self.registry = CollectorRegistry()
        self.liveness = Liveness()
        r = self.registry
        self.sends = Counter(
            "koopbot_sends",
            "Messages the reminder engine handed to a messenger, by result",
            ["transport", "result"],
            registry=r,
        )
        self.ticks = Histogram(
            "koopbot_tick_duration_seconds",
            "Duration of the sweep and dispatch ticks",
            ["kind"],
            buckets=_TICK_BUCKETS,
            registry=r,
        )
        self.feed_requests = Counter(
            "koopbot_web_requests",
            "Requests to the web service, by route and HTTP status",
            ["route", "status"],
            registry=r,
        )
        self.commands = Counter(
            "koopbot_commands",
            "Chat commands by (registered) name and outcome (ok, refused, error)",
            ["command", "outcome"],
            registry=r,
        )
        self.outbox_rows = Gauge(
            "koopbot_outbox_rows",
            "Open outbox rows (pending, sending, failed) by state and the recipient's transport",
            ["state", "transport"],
            registry=r,
        )
        self.oldest_due = Gauge(
            "koopbot_outbox_oldest_due_seconds",
            "Age of the oldest due, unsent reminder (0: none)",
            registry=r,
        )
        self.sweep_age = Gauge(
            "koopbot_sweep_age_seconds",
            "Seconds since this process's last sweep (absent: no scheduler here)",
            registry=r,
        )
        self.sync_age = Gauge(
            "koopbot_messenger_contact_age_seconds",
            "Seconds since the last Matrix sync or Telegram poll of this process",
            ["messenger"],
            registry=r,
        )
        for transport in ("telegram", "matrix", "console"):
            for result in SEND_RESULTS:
                self.sends.labels(transport, result)  # present from the start, at 0

    # -- recording ------------------------------------------------------------------------

    def record_send(self, transport: str, result: str, n: int = 1) -> None:
        self.sends.labels(transport, result).inc(n)

    def record_request(self, route: str, status: int) -> None:
        self.feed_requests.labels(route, str(status)).inc()

    def observe_tick(self, kind: str, seconds: float, *, at: float | None = None) -> None:
        self.ticks.labels(kind).observe(seconds)
        if kind == "sweep":
            self.liveness.last_sweep = self._stamp(at)

    def expect_sweep(self, every_seconds: float, *, at: float | None = None) -> None:
        self.liveness.sweep_expected_every = every_seconds
        self.liveness.sweep_started = self._stamp(at)

    def expect_messenger(self, name: str, *, at: float | None = None) -> None:
        self.liveness.messengers_started[name] = self._stamp(at)

    def record_contact(self, name: str, *, at: float | None = None) -> None:
        self.liveness.last_contact[name] = self._stamp(at)

    def _stamp(self, at: float | None) -> float:
        return self.clock.now().timestamp() if at is None else at

    # -- scraping -------------------------------------------------------------------------

    def refresh(self, snapshot: OutboxSnapshot | None, oldest_due: float, now: float) -> None:
        """Set the gauges that are read at scrape time."""
        if snapshot is not None:
            self.outbox_rows.clear()
            for (state, transport), n in snapshot.rows.items():
                self.outbox_rows.labels(state, transport).set(n)
        self.oldest_due.set(oldest_due)
        age = self.liveness.sweep_age(now)
        if age is not None:
            self.sweep_age.set(age)
        for name in sorted(self.liveness.messengers_started):
            contact = self.liveness.messenger_age(name, now)
            if contact is not None:
                self.sync_age.labels(name).set(contact)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


METRICS = Metrics()  # the process's metrics, like logging's root logger


def record_send(transport: str, result: str, n: int = 1) -> None:
    """A send of the reminder engine: sent, retried, failed or rate_limited."""
    METRICS.record_send(transport, result, n)


def observe_tick(kind: str, seconds: float, *, at: float | None = None) -> None:
    """A sweep or dispatch tick took `seconds` (a sweep also counts for /readyz)."""
    METRICS.observe_tick(kind, seconds, at=at)


def record_sync(*, at: float | None = None) -> None:
    """The Matrix adapter completed a sync."""
    METRICS.record_contact("matrix", at=at)


def record_poll(*, at: float | None = None) -> None:
    """The Telegram adapter completed a getUpdates poll."""
    METRICS.record_contact("telegram", at=at)


def record_command(command: str, outcome: str) -> None:
    """`command` is a registered command's name (or "unknown"/"none"), never typed text."""
    METRICS.commands.labels(command, outcome).inc()
