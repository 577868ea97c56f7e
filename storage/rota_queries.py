"""On-call lookups for windows of time (issue 15): swaps and overrides that may touch a
window, coordinators, confirmed handovers and absences for many rotations at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import and_, bindparam, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from config.enums import Role
from storage.models.reachability import Availability
from storage.models.rota import OncallHandover, OncallOverride, OncallSwap
from storage.models.staff import Staff
from storage.rota import CONFIRMED, PENDING, VOID
from storage.rota_rules import core_rows


def open_swaps(session: Session, rotation_id: int, after: datetime) -> list[OncallSwap]:
    """Pending and confirmed swaps of the rotation not wholly in the past."""
    return list(
        session.exec(
            select(OncallSwap)
            .where(
                OncallSwap.rotation_id == rotation_id,
                col(OncallSwap.status).in_((PENDING, CONFIRMED)),
                col(OncallSwap.last_end) > after,
            )
            .order_by(col(OncallSwap.id))
        )
    )


def future_overrides(
    session: Session, rotation_id: int | None, after: datetime
) -> list[OncallOverride]:
    """Overrides in force that end after `after`, for this rotation or for all."""
    return list(
        session.exec(
            select(OncallOverride)
            .where(
                or_(
                    col(OncallOverride.rotation_id).is_(None),
                    col(OncallOverride.rotation_id) == rotation_id,
                ),
                col(OncallOverride.cancelled_at).is_(None),
                col(OncallOverride.ends_at) > after,
            )
            .order_by(col(OncallOverride.id))
        )
    )


def feed_overrides(
    session: Session, rotation_id: int, low: datetime, high: datetime
) -> list[OncallOverride]:
    """Overrides that may touch [low, high) of the rotation, also cancelled ones (SEQUENCE)."""
    return list(
        session.exec(
            select(OncallOverride).where(
                or_(
                    col(OncallOverride.rotation_id).is_(None),
                    col(OncallOverride.rotation_id) == rotation_id,
                ),
                col(OncallOverride.ends_at) > low,
                col(OncallOverride.starts_at) < high,
            )
        )
    )


def feed_swaps(
    session: Session, rotation_id: int, low: datetime, high: datetime
) -> list[OncallSwap]:
    """Swaps that were in force at some time (confirmed, or void after being confirmed) and
    may touch [low, high): each changed its shifts once, or twice."""
    return list(
        session.exec(
            select(OncallSwap).where(
                OncallSwap.rotation_id == rotation_id,
                or_(
                    col(OncallSwap.status) == CONFIRMED,
                    and_(
                        col(OncallSwap.status) == VOID,
                        col(OncallSwap.confirmed_a_at).is_not(None),
                        col(OncallSwap.confirmed_b_at).is_not(None),
                    ),
                ),
                col(OncallSwap.last_end) > low,
                col(OncallSwap.first_start) < high,
            )
        )
    )


def coordinators_by_org(session: Session, org_ids: Iterable[int]) -> dict[int, list[int]]:
    """Active coordinators of each organisation, by id."""
    ids = sorted(set(org_ids))
    out: dict[int, list[int]] = {i: [] for i in ids}
    if not ids:
        return out
    for staff_id, org_id in core_rows(session, _COORDINATORS, {"ids": ids}):
        out[org_id].append(_id(staff_id))
    return out


def confirmations_since(
    session: Session, rotation_ids: Sequence[int], since: datetime
) -> set[tuple[int, int, int]]:
    """(rotation, shift number, person) of the handovers confirmed after `since`."""
    if not rotation_ids:
        return set()
    wanted = set(rotation_ids)
    rows = core_rows(session, _CONFIRMED_SINCE, {"since": since})
    return {(r, n, p) for r, n, p in rows if r in wanted}


# Built once: the on-call tick runs these every few seconds.
_COORDINATORS = (
    sa_select(col(Staff.id), col(Staff.organisation_id))
    .where(
        col(Staff.organisation_id).in_(bindparam("ids", expanding=True)),
        col(Staff.role) == Role.coordinator,
        col(Staff.active).is_(True),
    )
    .order_by(col(Staff.id))
)
_CONFIRMED_SINCE = sa_select(
    col(OncallHandover.rotation_id), col(OncallHandover.shift_number), col(OncallHandover.staff_id)
).where(col(OncallHandover.confirmed_at) > bindparam("since"))


def absences_between(
    session: Session, staff_ids: Iterable[int], first: date, last: date
) -> dict[int, list[tuple[date, date]]]:
    """Absences of these people overlapping the days [first, last], by person."""
    ids = sorted(set(staff_ids))
    out: dict[int, list[tuple[date, date]]] = {}
    if not ids:
        return out
    params = {"ids": ids, "first": first, "last": last}
    for staff_id, start, until in core_rows(session, _ABSENCES, params):
        assert start is not None and until is not None
        out.setdefault(staff_id, []).append((start, until))
    return out


_ABSENCES = sa_select(
    col(Availability.staff_id), col(Availability.absent_from), col(Availability.absent_until)
).where(
    col(Availability.staff_id).in_(bindparam("ids", expanding=True)),
    col(Availability.absent_from).is_not(None),
    col(Availability.absent_from) <= bindparam("last"),
    col(Availability.absent_until) >= bindparam("first"),
)


def _id(value: int | None) -> int:
    assert value is not None
    return value
