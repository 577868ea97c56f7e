"""A recording Messenger: a fake at the edge that fails like a real one when told to."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import Reply
from scheduler.clock import Clock
from scheduler.ports import DeliveryError, FailureKind, Recipient


@dataclass(frozen=True)
class Sent:
    at: str  # "22.04.2025 08:00", local time of the injected clock
    to: str  # external id
    reply: Reply
    key: str


@dataclass
class _Fault:
    kind: FailureKind
    times: int | None  # None: for ever
    retry_after: float | None


@dataclass
class RecordingMessenger:
    """Records every accepted message; `fail()` makes sends to one account raise."""

    clock: Clock
    transport: str = "console"
    max_chars: int = 4096
    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[str, FailureKind]] = field(default_factory=list)
    _faults: dict[str, _Fault] = field(default_factory=dict)

    def fail(
        self,
        external_id: str,
        kind: FailureKind,
        *,
        times: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self._faults[external_id] = _Fault(kind, times, retry_after)

    async def send(self, recipient: Recipient, reply: Reply, *, idempotency_key: str) -> None:
        fault = self._faults.get(recipient.external_id)
        if fault is not None and (fault.times is None or fault.times > 0):
            if fault.times is not None:
                fault.times -= 1
            self.refused.append((recipient.external_id, fault.kind))
            raise DeliveryError(fault.kind, "test fault", retry_after=fault.retry_after)
        now = self.clock.now()
        self.sent.append(
            Sent(now.strftime("%d.%m.%Y %H:%M"), recipient.external_id, reply, idempotency_key)
        )

    def lines(self, to: str, needle: str, *, digests: bool = False) -> list[tuple[str, str]]:
        """(time, line) of every delivered line to `to` that contains `needle`."""
        return [
            (s.at, line)
            for s in self.sent
            if s.to == to
            # The digest is a section of the person's one message (issue 11).
            for section in s.reply.text.split("\n\n")
            if digests or not section.startswith("Deine Fristen")
            for line in section.splitlines()
            if needle in line
        ]
