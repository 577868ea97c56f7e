"""What koopbot stores about one staff member (GDPR Art. 15), section by section."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, SQLModel, col, select

from storage.bounds import db_id
from storage.models.audit import AuditEntry
from storage.models.cases import Case, CaseNotice
from storage.models.feeds import FeedToken
from storage.models.hours import HoursCorrection, HoursEntry
from storage.models.reachability import Availability, Deputy
from storage.models.rota import (
    OncallHandover,
    OncallOverride,
    OncallSwap,
    Page,
    Rotation,
    RotationMember,
)
from storage.models.staff import Invite, MessengerIdentity, Organisation, Staff, Team
from storage.staff import staff_by_handle

Row = dict[str, Any]


def find_person(session: Session, text: str) -> Staff | None:
    """A person by Kürzel (`JB`) or by number (`#12`)."""
    number = db_id(text) if text.strip().lstrip("#").isdigit() else None
    if number is not None:
        return session.get(Staff, number)
    return staff_by_handle(session, text)


def subject_data(session: Session, person: Staff) -> dict[str, list[Row]]:
    """Every stored row that is about `person` or was written by them, by section."""
    pid = person.id
    assert pid is not None
    org = session.get(Organisation, person.organisation_id)
    team = session.get(Team, person.team_id) if person.team_id else None
    profile = _row(person, drop=())
    profile["organisation"] = org.name if org else None
    profile["team"] = team.name if team else None
    codes = {c.id: c.code for c in session.exec(select(Case))}
    hours = [
        _row(h) | {"case": codes.get(h.case_id)}
        for h in _all(session, HoursEntry, HoursEntry.staff_id == pid)
    ]
    rotations = {r.id: r.name for r in session.exec(select(Rotation))}
    return {
        "Profil": [profile],
        "Messenger-Konten": _rows(session, MessengerIdentity, MessengerIdentity.staff_id == pid),
        "Stunden": hours,
        "Korrekturen": _rows(
            session,
            HoursCorrection,
            or_(
                col(HoursCorrection.corrected_by) == pid,
                col(HoursCorrection.entry_id).in_(
                    select(HoursEntry.id).where(HoursEntry.staff_id == pid)
                ),
            ),
        ),
        "Präsenz und Abwesenheit": _rows(
            session,
            Availability,
            or_(col(Availability.staff_id) == pid, col(Availability.deputy_staff_id) == pid),
        ),
        "Vertretungen (Abwesenheit)": _rows(
            session, Deputy, or_(col(Deputy.staff_id) == pid, col(Deputy.deputy_staff_id) == pid)
        ),
        "Rufbereitschaften": [
            _row(m) | {"rotation": rotations.get(m.rotation_id)}
            for m in _all(session, RotationMember, RotationMember.staff_id == pid)
        ],
        "Rufbereitschaft: Vertretungen": _rows(
            session,
            OncallOverride,
            or_(
                col(OncallOverride.absent_staff_id) == pid,
                col(OncallOverride.substitute_staff_id) == pid,
                col(OncallOverride.created_by) == pid,
            ),
        ),
        "Rufbereitschaft: Tausch": _rows(
            session,
            OncallSwap,
            or_(
                col(OncallSwap.holder_a) == pid,
                col(OncallSwap.holder_b) == pid,
                col(OncallSwap.requested_by) == pid,
            ),
        ),
        "Rufbereitschaft: Übernahmen": _rows(
            session, OncallHandover, OncallHandover.staff_id == pid
        ),
        "Piepser": _rows(session, Page, or_(col(Page.caller_id) == pid, col(Page.acked_by) == pid)),
        "Mitteilungen an das Jugendamt": _rows(session, CaseNotice, CaseNotice.sent_by == pid),
        "Fälle (zuständig)": [
            {"id": c.id, "code": c.code, "status": c.status.value, "rolle": role}
            for c, role in _cases(session, pid)
        ],
        "Kalender-Links": [
            _row(t, drop=("token_hash",))
            for t in _all(session, FeedToken, FeedToken.staff_id == pid)
        ],
        "Einladungen": _rows(
            session,
            Invite,
            or_(col(Invite.staff_id) == pid, col(Invite.used_by_staff_id) == pid),
            drop=("code_hash",),
        ),
        "Audit-Log": _rows(
            session,
            AuditEntry,
            or_(
                col(AuditEntry.actor_staff_id) == pid,
                and_(col(AuditEntry.entity) == "staff", col(AuditEntry.entity_id) == pid),
            ),
        ),
    }


def _cases(session: Session, pid: int) -> list[tuple[Case, str]]:
    found = session.exec(
        select(Case)
        .where(or_(col(Case.provider_staff_id) == pid, col(Case.asd_staff_id) == pid))
        .order_by(col(Case.id))
    )
    return [(c, "Träger" if c.provider_staff_id == pid else "ASD") for c in found]


def _all(session: Session, model: type[Any], where: Any) -> list[Any]:
    return list(session.exec(select(model).where(where).order_by(col(model.id))))


def _rows(session: Session, model: type[Any], where: Any, drop: tuple[str, ...] = ()) -> list[Row]:
    return [_row(r, drop=drop) for r in _all(session, model, where)]


def _row(obj: SQLModel, drop: tuple[str, ...] = ()) -> Row:
    out: Row = {}
    for key, value in obj.model_dump().items():
        if key in drop:
            continue
        if key == "details" and isinstance(value, str):
            value = json.loads(value)
        out[key] = plain(value)
    return out


def plain(value: Any) -> Any:
    """A JSON- and XLSX-friendly value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value
