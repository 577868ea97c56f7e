"""On-call rotations and AG 78 sessions as stored."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AgSession, Rotation, RotationMember, Staff


def rotations(session: Session) -> list[tuple[Rotation, list[Staff]]]:
    """Every rotation with its members in order."""
    out: list[tuple[Rotation, list[Staff]]] = []
    for rotation in session.exec(select(Rotation).order_by(col(Rotation.id))):
        members = session.exec(
            select(Staff)
            .join(RotationMember, col(RotationMember.staff_id) == col(Staff.id))
            .where(RotationMember.rotation_id == rotation.id)
            .order_by(col(RotationMember.position))
        ).all()
        out.append((rotation, list(members)))
    return out


def ag_sessions(session: Session, *, since: datetime | None) -> list[AgSession]:
    query = select(AgSession).where(col(AgSession.cancelled).is_(False))
    if since is not None:
        query = query.where(col(AgSession.ends_at) >= since)
    return list(session.exec(query.order_by(col(AgSession.starts_at))))
