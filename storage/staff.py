"""Organisations, staff, messenger identities and invites."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from config.enums import OrgKind, Role, StaffType
from storage.bounds import ascii_text
from storage.models.staff import Invite, MessengerIdentity, Organisation, Staff, StartAttempt

# Unambiguous on a phone keyboard: no 0/O, 1/I/L.
_INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_INVITE_GROUPS = 3


def hash_code(code: str) -> str:
    normalised = re.sub(r"[\s-]", "", ascii_text(code)).upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_invite_code() -> str:
    """Three groups of four characters: about 59 bits, enough for a code that expires."""
    groups = (
        "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(4)) for _ in range(_INVITE_GROUPS)
    )
    return "-".join(groups)


def organisation_by_name(session: Session, name: str) -> Organisation | None:
    return session.exec(
        select(Organisation).where(func.lower(Organisation.name) == name.lower())
    ).first()


def organisations(session: Session, kind: OrgKind | None = None) -> list[Organisation]:
    query = select(Organisation).order_by(col(Organisation.id))
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return list(session.exec(query))


def staff_by_identity(session: Session, transport: str, external_id: str) -> Staff | None:
    return session.exec(
        select(Staff)
        .join(MessengerIdentity, col(MessengerIdentity.staff_id) == col(Staff.id))
        .where(
            MessengerIdentity.transport == transport,
            MessengerIdentity.external_id == external_id,
            col(Staff.active).is_(True),
        )
    ).first()


def is_registered(session: Session, transport: str, external_id: str) -> bool:
    """Whether this messenger account belongs to active, registered staff."""
    return staff_by_identity(session, transport, external_id) is not None


def staff_by_handle(session: Session, handle: str) -> Staff | None:
    wanted = ascii_text(handle).strip().upper().lstrip("@")  # ＪＢ is JB
    return session.exec(select(Staff).where(func.upper(Staff.handle) == wanted)).first()


def get_staff(session: Session, staff_id: int | None) -> Staff | None:
    return None if staff_id is None else session.get(Staff, staff_id)


def free_handle(session: Session, name: str) -> str:
    """A Kürzel from the initials of `name`, numbered when taken."""
    letters = "".join(part[0] for part in re.findall(r"[A-Za-zÄÖÜäöüß]+", name)).upper()[:3]
    base = letters or "MA"
    candidate, n = base, 1
    while staff_by_handle(session, candidate) is not None:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def create_invite(
    session: Session,
    *,
    organisation: Organisation,
    role: Role,
    now: datetime,
    valid_days: int,
    staff_type: StaffType | None = None,
    staff: Staff | None = None,
) -> tuple[str, Invite]:
    """Store an invite by the hash of its code; the code itself is returned once, never stored."""
    code = new_invite_code()
    invite = Invite(
        code_hash=hash_code(code),
        organisation_id=_id(organisation.id),
        role=role,
        staff_type=staff_type,
        staff_id=None if staff is None else staff.id,
        created_at=now,
        expires_at=now + timedelta(days=valid_days),
    )
    session.add(invite)
    session.flush()
    return code, invite


def usable_invite(session: Session, code: str, now: datetime) -> Invite | None:
    invite = session.exec(select(Invite).where(Invite.code_hash == hash_code(code))).first()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    return invite


def link_identity(
    session: Session, staff: Staff, transport: str, external_id: str, now: datetime
) -> None:
    session.add(
        MessengerIdentity(
            staff_id=_id(staff.id), transport=transport, external_id=external_id, created_at=now
        )
    )


def account_key(transport: str, external_id: str) -> str:
    """A stranger's messenger account as a hash: counted for the brute-force limit, not kept."""
    return hashlib.sha256(f"{transport}\0{external_id}".encode()).hexdigest()


def record_start_failure(
    session: Session, transport: str, external_id: str, now: datetime, *, blocked: bool
) -> StartAttempt:
    attempt = StartAttempt(
        account=account_key(transport, external_id), transport=transport, at=now, blocked=blocked
    )
    session.add(attempt)
    session.flush()
    return attempt


def start_failures(session: Session, since: datetime, account: str | None = None) -> int:
    """Failed `/start` attempts since `since`, of one account or of all."""
    query = select(func.count()).select_from(StartAttempt).where(col(StartAttempt.at) >= since)
    if account is not None:
        query = query.where(StartAttempt.account == account)
    return int(session.exec(query).one())


def coordinators(session: Session) -> list[Staff]:
    """Every active coordinator, of every organisation."""
    return list(
        session.exec(
            select(Staff)
            .where(Staff.role == Role.coordinator, col(Staff.active).is_(True))
            .order_by(col(Staff.id))
        )
    )


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("object has no id yet: flush the session first")
    return value
