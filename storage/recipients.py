"""Who reminders go to: the parties of cases, coordinators, active staff and their accounts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from config.enums import CaseStatus, Role
from storage.models.cases import Case
from storage.models.staff import MessengerIdentity, Staff


@dataclass(frozen=True)
class CaseParties:
    provider_staff_id: int | None
    asd_staff_id: int | None
    provider_org_id: int
    jugendamt_org_id: int
    open: bool


def case_parties(session: Session, case_ids: Iterable[int]) -> dict[int, CaseParties]:
    ids = sorted(set(case_ids))
    out: dict[int, CaseParties] = {}
    for chunk in _chunks(ids, 500):
        for row in session.execute(
            select(
                col(Case.id),
                col(Case.provider_staff_id),
                col(Case.asd_staff_id),
                col(Case.provider_org_id),
                col(Case.jugendamt_org_id),
                col(Case.status),
            ).where(col(Case.id).in_(chunk))
        ):
            out[row[0]] = CaseParties(row[1], row[2], row[3], row[4], row[5] == CaseStatus.open)
    return out


def active_staff(session: Session, staff_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(staff_ids))
    active: set[int] = set()
    for chunk in _chunks(ids, 500):
        active.update(
            session.execute(
                select(col(Staff.id)).where(col(Staff.id).in_(chunk), col(Staff.active).is_(True))
            ).scalars()
        )
    return active


def coordinators(session: Session, org_ids: Iterable[int]) -> dict[int, list[int]]:
    """Active coordinators by organisation."""
    ids = sorted(set(org_ids))
    out: dict[int, list[int]] = {i: [] for i in ids}
    if not ids:
        return out
    for staff_id, org_id in session.execute(
        select(col(Staff.id), col(Staff.organisation_id))
        .where(
            col(Staff.organisation_id).in_(ids),
            col(Staff.role) == Role.coordinator,
            col(Staff.active).is_(True),
        )
        .order_by(col(Staff.id))
    ):
        out[org_id].append(staff_id)
    return out


def all_coordinators(session: Session) -> list[int]:
    return list(
        session.execute(
            select(col(Staff.id)).where(
                col(Staff.role) == Role.coordinator, col(Staff.active).is_(True)
            )
        ).scalars()
    )


def all_active_staff(session: Session) -> list[int]:
    return list(session.execute(select(col(Staff.id)).where(col(Staff.active).is_(True))).scalars())


def staff_with_identity(session: Session) -> list[int]:
    """Active staff that registered at least one messenger account (digest recipients)."""
    return list(
        session.execute(
            select(col(Staff.id))
            .where(
                col(Staff.active).is_(True),
                col(Staff.id).in_(select(col(MessengerIdentity.staff_id))),
            )
            .order_by(col(Staff.id))
        ).scalars()
    )


def identities(
    session: Session, staff_ids: Iterable[int], transports: Sequence[str]
) -> dict[int, tuple[str, str]]:
    """Each person's most recently registered account on one of `transports`."""
    ids = sorted(set(staff_ids))
    out: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(ids, 500):
        for staff_id, transport, external_id in session.execute(
            select(
                col(MessengerIdentity.staff_id),
                col(MessengerIdentity.transport),
                col(MessengerIdentity.external_id),
            )
            .where(
                col(MessengerIdentity.staff_id).in_(chunk),
                col(MessengerIdentity.transport).in_(list(transports)),
            )
            .order_by(col(MessengerIdentity.id))
        ):
            out[staff_id] = (transport, external_id)  # later rows win: the newest account
    return out


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
