"""Secret calendar-feed tokens (DOMAIN.md P3) and the feed change counter."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from config.logs import register_secret
from storage.models.feeds import FeedState, FeedToken
from storage.models.staff import Staff

# 32 URL-safe characters carry 192 random bits (the issue asks for at least 128).
TOKEN_BYTES = 24
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")


class FeedKind(StrEnum):
    ag78 = "ag78"  # the AG 78 sessions; may be shared within the working group
    personal = "personal"  # the holder's deadlines and meetings; never shared
    oncall = "oncall"  # every shift of one rotation
    myshifts = "myshifts"  # the holder's own on-call shifts


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_token(
    session: Session,
    *,
    staff_id: int,
    kind: FeedKind,
    now: datetime,
    rotation_id: int | None = None,
) -> str:
    """A new token; the plain text is returned once and never stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    register_secret(token)  # masked in every log of this process (issue 11)
    session.add(
        FeedToken(
            token_hash=hash_token(token),
            staff_id=staff_id,
            kind=kind.value,
            rotation_id=rotation_id,
            created_at=now,
        )
    )
    session.flush()
    return token


def active_tokens(session: Session, staff_id: int) -> list[FeedToken]:
    return list(
        session.exec(
            select(FeedToken)
            .where(FeedToken.staff_id == staff_id, col(FeedToken.revoked_at).is_(None))
            .order_by(col(FeedToken.id))
        )
    )


def revoke_tokens(session: Session, tokens: list[FeedToken], now: datetime) -> None:
    for token in tokens:
        token.revoked_at = now
    session.flush()


def token_grant(session: Session, token: str) -> FeedToken | None:
    """The active token row for `token` whose holder is still active staff, else None."""
    if _TOKEN_SHAPE.fullmatch(token) is None:
        return None
    digest = hash_token(token)
    # The lookup is by a hash the caller cannot steer; the final comparison is constant-time
    # anyway, so no code path depends on how much of a guessed token was right.
    row = session.exec(select(FeedToken).where(FeedToken.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.revoked_at is not None:
        return None
    holder = session.get(Staff, row.staff_id)
    if holder is None or not holder.active:
        return None
    return row


def feed_version(session: Session) -> int:
    """The change counter raised by storage.versioning; 0 before the first change."""
    version = session.exec(select(FeedState.version).where(FeedState.id == 1)).first()
    return int(version or 0)
