"""AG 78 sessions: lookups for adding, moving and cancelling them from chat."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AgSession


def sessions_starting_between(session: Session, start: datetime, end: datetime) -> list[AgSession]:
    """Sessions not cancelled that start in [start, end), earliest first."""
    return list(
        session.exec(
            select(AgSession)
            .where(
                col(AgSession.cancelled).is_(False),
                col(AgSession.starts_at) >= start,
                col(AgSession.starts_at) < end,
            )
            .order_by(col(AgSession.starts_at))
        )
    )
