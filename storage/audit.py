"""The append-only audit log (DOMAIN.md P4): who did what, when; ids and codes, no free text."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from storage.models.audit import AuditEntry

AuditValue = str | int | float | bool | None


def record(
    session: Session,
    *,
    at: datetime,
    action: str,
    entity: str,
    entity_id: int | None,
    actor_staff_id: int | None = None,
    actor: str = "staff",
    details: dict[str, AuditValue] | None = None,
) -> None:
    """Append one audit entry in the caller's transaction, so it commits with the change."""
    session.add(
        AuditEntry(
            at=at,
            actor_staff_id=actor_staff_id,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=json.dumps(details or {}, sort_keys=True, default=str),
        )
    )
