"""AG 78 sessions: listing them, and lookups for adding, moving and cancelling from chat."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models.ag78 import AgSession


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


def ag_sessions(session: Session, *, since: datetime | None) -> list[AgSession]:
    """Sessions not cancelled that end at or after `since` (all of them for None)."""
    query = select(AgSession).where(col(AgSession.cancelled).is_(False))
    if since is not None:
        query = query.where(col(AgSession.ends_at) >= since)
    return list(session.exec(query.order_by(col(AgSession.starts_at))))
