"""Invite brute force (issue 12): failed `/start` attempts are limited, audited and reported.

A messenger account gets `start_limit.per_account` failures within `start_limit.window_minutes`,
all accounts together `start_limit.overall`; past that, `/start` is refused without looking at
the code, so guessing stops. Every failure (also a refused one) is an audit entry. When a
limit is reached, the coordinators get one message through the outbox; the outbox key (the
attempt that tripped it) makes it once per trip.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.formatting import fmt_time
from bot.messages import Reply
from config.settings import Settings
from storage import audit, outbox
from storage.models.outbox import OutboxEntry
from storage.models.staff import StartAttempt
from storage.outbox import NewEntry
from storage.staff import account_key, coordinators, record_start_failure, start_failures

ITEM_TYPE = "alert"  # delivered like the other coordinator alerts (bot/controlling_alerts.py)
STAGE_PREFIX = "sec:"
_ACCOUNT, _OVERALL = "account", "overall"
_TRANSPORT_LABEL = {"telegram": "Telegram", "matrix": "Matrix", "console": "Konsolen"}

LIMITED = (
    "Zu viele ungültige Einladungscodes in kurzer Zeit. Bitte versuch es später noch einmal "
    "oder frag deine Koordination nach einem neuen Code."
)


def refused(
    session: Session, settings: Settings, transport: str, user_id: str, now: datetime
) -> bool:
    """Whether this account (or everyone) is over the limit; a refused attempt is recorded."""
    limits = settings.start_limit
    since = now - timedelta(minutes=limits.window_minutes)
    over = start_failures(session, since, account_key(transport, user_id)) >= limits.per_account
    over = over or start_failures(session, since) >= limits.overall
    if over:
        _record(session, transport, user_id, now, blocked=True)
    return over


def failed(
    session: Session, settings: Settings, transport: str, user_id: str, now: datetime
) -> None:
    """A wrong, expired or used code: recorded, audited; a reached limit is reported once."""
    attempt = _record(session, transport, user_id, now, blocked=False)
    limits = settings.start_limit
    since = now - timedelta(minutes=limits.window_minutes)
    tripped = []
    if start_failures(session, since, attempt.account) == limits.per_account:
        tripped.append(_ACCOUNT)
    if start_failures(session, since) == limits.overall:
        tripped.append(_OVERALL)
    assert attempt.id is not None
    outbox.insert_entries(
        session,
        [
            NewEntry(ITEM_TYPE, attempt.id, f"{STAGE_PREFIX}{kind}", person.id, now, now)
            for kind in tripped
            for person in coordinators(session)
            if person.id is not None
        ],
        now,
    )


def _record(
    session: Session, transport: str, user_id: str, now: datetime, *, blocked: bool
) -> StartAttempt:
    attempt = record_start_failure(session, transport, user_id, now, blocked=blocked)
    audit.record(
        session,
        at=now,
        actor="messenger",
        action="start_failed",
        entity="start_attempt",
        entity_id=attempt.id,
        details={
            "transport": transport,
            "account": attempt.account[:12],
            "reason": "limit" if blocked else "invalid_code",
        },
    )
    return attempt


def alert_reply(session: Session, settings: Settings, row: OutboxEntry) -> Reply | None:
    """The coordinators' message about a tripped limit."""
    attempt = session.get(StartAttempt, row.item_id)
    if attempt is None:
        return None
    limits = settings.start_limit
    until = fmt_time(
        (attempt.at + timedelta(minutes=limits.window_minutes)).astimezone(settings.tz)
    )
    if row.stage == f"{STAGE_PREFIX}{_ACCOUNT}":
        transport = _TRANSPORT_LABEL.get(attempt.transport, attempt.transport)
        what = (
            f"{limits.per_account} ungültige Einladungscodes von einem {transport}-Konto "
            f"innerhalb von {limits.window_minutes} Minuten. Weitere Versuche dieses Kontos "
            f"weise ich ab (frühestens ab {until} wieder möglich)."
        )
    else:
        what = (
            f"insgesamt {limits.overall} ungültige Einladungscodes innerhalb von "
            f"{limits.window_minutes} Minuten. Bis mindestens {until} nehme ich keine "
            "Einladungscodes an, auch keine gültigen."
        )
    return Reply(
        f"⚠️ Anmeldeschutz: {what}\nJeder Versuch steht im Audit-Log. Falls jemand Codes "
        "errät: offene Einladungen verfallen lassen und neue ausstellen (/einladen)."
    )
