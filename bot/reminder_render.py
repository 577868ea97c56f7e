"""The reminder engine's renderer (`scheduler.ports.Renderer`): German texts as `Reply`s."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlmodel import Session

from bot import reminder_texts as texts
from bot import rota_texts
from bot.case_notices import STAGE_PREFIX as NOTICE_PREFIX
from bot.commands.common import deadline_line as digest_line
from bot.controlling_alerts import ITEM_TYPE as ALERT
from bot.controlling_alerts import alert_reply
from bot.formatting import DEADLINE_KIND_LABEL, MEETING_KIND_LABEL, SESSION_KIND_LABEL
from bot.messages import Reply
from config.settings import Settings
from scheduler.ports import Line, RowMessage
from scheduler.workdays import WorkCalendar
from storage.models.ag78 import AgSession
from storage.models.cases import Case, Deadline, Meeting
from storage.models.outbox import OutboxEntry
from storage.models.staff import Staff

log = logging.getLogger(__name__)


class GermanRenderer:
    """What is due, in German, one `Reply` per message."""

    def __init__(self, settings: Settings, calendar: WorkCalendar) -> None:
        self.settings, self.calendar = settings, calendar

    def deadline_line(
        self,
        deadline: Deadline,
        case: Case | None,
        today: date,
        *,
        escalation: bool,
        responsible: Staff | None,
    ) -> Line:
        what = DEADLINE_KIND_LABEL[deadline.kind]
        if case is not None:
            what = f"{case.code} {what}"
        assert deadline.id is not None
        return texts.deadline_line(
            deadline.id,
            what,
            deadline.due,
            today,
            escalation=escalation,
            responsible="Koordination" if responsible is None else responsible.handle,
        )

    def meeting_line(self, meeting: Meeting, case: Case, starts: datetime, today: date) -> Line:
        return texts.meeting_line(f"{case.code} {MEETING_KIND_LABEL[meeting.kind]}", starts, today)

    def session_line(self, ag_session: AgSession, starts: datetime, today: date) -> Line:
        place = f", {ag_session.place}" if ag_session.place else ""
        what = f"AG 78 {SESSION_KIND_LABEL[ag_session.kind]} „{ag_session.title}“{place}"
        return texts.meeting_line(what, starts, today)

    def undeliverable_line(self, staff: Staff, reason: str) -> Line:
        return texts.undeliverable_line(staff.name, staff.handle, reason)

    def reminder(self, lines: list[Line], *, late: bool, now: datetime, limit: int) -> Reply:
        return texts.reminder(lines, late=late, now=now, limit=limit)

    def digest(
        self,
        rows: list[tuple[Deadline, str | None]],
        more: int,
        *,
        week_start: date,
        today: date,
        late: bool,
    ) -> Reply:
        lines = [digest_line(d, code, today) for d, code in rows]
        if more:
            lines.append(f"… und {more} weitere. /fristen zeigt alle.")
        return texts.digest(lines, week_start=week_start, late=late)

    def row_message(
        self, session: Session, row: OutboxEntry, now: datetime
    ) -> RowMessage[Reply] | None:
        if row.item_type == ALERT:  # hours controlling, 90 % rule (issue 7), C7 notices
            today = now.astimezone(self.settings.tz).date()
            alert = alert_reply(session, self.settings, self.calendar, row, today)
            if alert is None:
                return None
            # A C7 notice to the ASD (issue 14) is a message of its own, like a page.
            notice = row.stage.startswith(NOTICE_PREFIX)
            return RowMessage(alert, f"notice:{row.id}" if notice else "main")
        if row.item_type in rota_texts.ITEM_TYPES:  # on-call messages (issue 6)
            message = rota_texts.compose(session, self.settings, row, now)
            return None if message is None else RowMessage(message, f"rota:{row.id}")
        log.error("outbox row %s has unknown item type %r", row.id, row.item_type)
        return None

    def parts(self, messages: list[Reply], limit: int) -> list[Reply]:
        return split(combine(messages), limit)


def split(reply: Reply, limit: int) -> list[Reply]:
    """`reply` in parts of at most `limit` characters, cut between lines; buttons on the last."""
    if len(reply.text) <= limit:
        return [reply]
    parts: list[str] = []
    current = ""
    for line in reply.text.split("\n"):
        while len(line) > limit:  # one line longer than a message: cut it
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    out = [Reply(text) for text in parts]
    out[-1] = Reply(parts[-1], buttons=reply.buttons, attachments=reply.attachments)
    return out


def combine(replies: list[Reply]) -> Reply:
    return Reply(
        "\n\n".join(r.text for r in replies),
        buttons=tuple(b for r in replies for b in r.buttons),
        attachments=tuple(a for r in replies for a in r.attachments),
    )
