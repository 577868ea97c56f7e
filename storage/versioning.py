"""Calendar versioning on every flush: SEQUENCE and LAST-MODIFIED of changed events, and the
feed change counter.

A session listener rather than explicit calls, because RFC 5545 clients ignore an edit whose
SEQUENCE did not rise, and every code path that moves a meeting, a deadline or an AG 78 session
(today's commands and tomorrow's) must raise it. The counter in `feed_state` is raised in the
same transaction, so a feed server in another process sees every committed change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, update
from sqlmodel import Session, col

from storage.models.ag78 import AgSession
from storage.models.cases import Case, Deadline, Meeting
from storage.models.feeds import FeedState, FeedToken
from storage.models.rota import OncallOverride, OncallSwap, Rotation, RotationMember, RotationRule
from storage.models.staff import Organisation, Staff

# The fields whose change is a new revision of the calendar event (RFC 5545 3.8.7.4): every
# field the feed shows (a deadline's rule is its DESCRIPTION).
_REVISED_BY: dict[type[Any], tuple[str, ...]] = {
    AgSession: ("kind", "title", "starts_at", "ends_at", "place", "agenda", "cancelled"),
    Meeting: ("kind", "starts_at", "cancelled"),
    Deadline: ("kind", "due", "status", "rule"),
}
# Everything a feed is built from (contents, titles, visibility, access).
_FEED_INPUTS = (
    AgSession,
    Meeting,
    Deadline,
    Case,
    Staff,
    Organisation,
    Rotation,
    RotationMember,
    FeedToken,
    OncallOverride,  # issue 6: overrides and confirmed swaps change who is on call
    OncallSwap,
    RotationRule,  # issue 15: an edit or the end of a rotation changes its shifts
)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    touched = False
    for obj in session.dirty:
        fields = _REVISED_BY.get(type(obj))
        if fields is not None:
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in fields):
                obj.sequence = (obj.sequence or 0) + 1
            else:
                # Commands stamp `updated_at` on every write; it is LAST-MODIFIED and DTSTAMP
                # in the feeds, so it keeps the time of the last change that a feed shows.
                stamped = state.attrs["updated_at"].history
                if stamped.has_changes() and stamped.deleted:
                    obj.updated_at = stamped.deleted[0]
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _FEED_INPUTS):
            touched = True
            break
    if touched:
        session.connection().execute(
            update(FeedState)
            .where(col(FeedState.id) == 1)
            .values(version=col(FeedState.version) + 1)
        )
