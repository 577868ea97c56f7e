"""Which events of a sync koopbot looks at: a room's new timeline, gaps filled from
`/messages`, history from before koopbot joined left out; and where the sync stands."""

from __future__ import annotations

import logging
from typing import Any

from nio import AsyncClient, RoomMemberEvent, RoomMessagesError
from sqlmodel import Session

from bot.core import Bot
from storage import matrix_events

log = logging.getLogger(__name__)

# A timeline of this many events per room and sync covers a normal downtime; longer gaps
# are filled from /messages so that nothing sent while koopbot was down is missed.
TIMELINE_LIMIT = 50
SYNC_FILTER: dict[str, Any] = {"room": {"timeline": {"limit": TIMELINE_LIMIT}}}
_GAP_PAGES = 20  # at most 2,000 events per room and gap


def own_join_index(events: list[Any], user_id: str) -> int | None:
    """The position of koopbot's own (latest) join in these events, if it is there."""
    found = None
    for i, event in enumerate(events):
        if (
            isinstance(event, RoomMemberEvent)
            and event.state_key == user_id
            and event.membership == "join"
            and event.prev_membership != "join"
        ):
            found = i
    return found


async def new_events(
    client: AsyncClient, user_id: str, room_id: str, info: Any, since: str | None
) -> list[Any]:
    """A joined room's events of this sync, oldest first, without history before the join."""
    events = list(info.timeline.events)
    joined_at = own_join_index(events, user_id)
    if joined_at is not None:
        return events[joined_at + 1 :]
    if info.timeline.limited and since and info.timeline.prev_batch:
        return await _gap(client, user_id, room_id, info.timeline.prev_batch, since) + events
    return events


async def _gap(
    client: AsyncClient, user_id: str, room_id: str, prev_batch: str, since: str
) -> list[Any]:
    """Events a limited timeline left out, oldest first (a long downtime)."""
    older: list[Any] = []
    start = prev_batch
    for _ in range(_GAP_PAGES):
        page = await client.room_messages(room_id, start=start, end=since, limit=100)
        if isinstance(page, RoomMessagesError) or not page.chunk:
            break
        older.extend(page.chunk)
        if not page.end or page.end == start:
            break
        start = page.end
    older.reverse()
    joined_at = own_join_index(older, user_id)
    return older if joined_at is None else older[joined_at + 1 :]


class SyncPosition:
    """The stored `next_batch`, moved only after everything before it was handled."""

    def __init__(self, bot: Bot, user_id: str) -> None:
        self.bot = bot
        self.user_id = user_id

    def load(self, client: AsyncClient) -> str | None:
        with self.bot.db.session() as session:
            token = matrix_events.sync_position(session, self.user_id)
        if token is None and client.store is not None:
            # Before issue 10 nio kept the token in its crypto store (saved before handling).
            token = client.store.load_sync_token()
        return token or None

    def save(self, session: Session, token: str) -> None:
        matrix_events.save_sync_position(session, self.user_id, token, self.bot.clock.now())
