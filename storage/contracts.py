"""Contracts of the hours controlling (issue 7): planned hours per year, and the providers'
people the rule concerns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from config.enums import Role
from storage.models.hours import Contract, ContractYear
from storage.models.staff import Organisation, Staff


def contract_of(session: Session, provider_org_id: int) -> Contract | None:
    return session.exec(
        sm_select(Contract).where(Contract.provider_org_id == provider_org_id)
    ).first()


def planned_hours(session: Session, contract_id: int) -> dict[int, int]:
    return {
        y.year: y.planned_direct_hours
        for y in session.exec(
            sm_select(ContractYear).where(ContractYear.contract_id == contract_id)
        )
    }


def set_planned_hours(
    session: Session, contract_id: int, year: int, hours: int, now: datetime
) -> int | None:
    """Set one year's planned hours; returns the previous value."""
    row = session.exec(
        sm_select(ContractYear).where(
            ContractYear.contract_id == contract_id, ContractYear.year == year
        )
    ).first()
    if row is None:
        session.add(
            ContractYear(
                contract_id=contract_id, year=year, planned_direct_hours=hours, updated_at=now
            )
        )
        return None
    old = row.planned_direct_hours
    row.planned_direct_hours = hours
    row.updated_at = now
    return old


def provider_orgs_with_contract(session: Session) -> list[tuple[Contract, Organisation]]:
    return [
        (c, o)
        for c, o in session.exec(
            sm_select(Contract, Organisation)
            .join(Organisation, col(Organisation.id) == col(Contract.provider_org_id))
            .order_by(col(Organisation.id))
        )
    ]


def organisation(session: Session, org_id: int) -> Organisation | None:
    return session.get(Organisation, org_id)


def active_staff_of(session: Session, org_id: int) -> list[Staff]:
    """The organisation's active staff, by Kürzel (the staff sheet lists those without hours)."""
    return list(
        session.exec(
            sm_select(Staff)
            .where(col(Staff.organisation_id) == org_id, col(Staff.active).is_(True))
            .order_by(col(Staff.handle))
        )
    )


def active_coordinators(session: Session, org_id: int) -> list[int]:
    return list(
        session.execute(
            select(col(Staff.id))
            .where(
                col(Staff.organisation_id) == org_id,
                col(Staff.role) == Role.coordinator,
                col(Staff.active).is_(True),
            )
            .order_by(col(Staff.id))
        ).scalars()
    )
