"""What each calendar feed shows, read from the database for one token holder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from config.enums import CaseStatus, DeadlineStatus, OrgKind, SessionKind
from config.settings import Settings
from scheduler.ics import FeedCalendar, FeedEvent
from scheduler.oncall_events import rotation_events
from scheduler.rota_state import load_states
from storage.cases import visible_cases_clause
from storage.feeds import FeedKind
from storage.models.ag78 import AgSession
from storage.models.cases import Case, Deadline, Meeting
from storage.models.feeds import FeedToken
from storage.models.rota import Rotation
from storage.models.staff import Organisation, Staff

# Labels repeated here rather than imported from bot/: scheduler must not depend on the chat.
_DEADLINE_LABEL = {
    "action_plan": "Handlungsplan",
    "help_plan_review": "Folge-Hilfeplangespräch",
    "report": "Bericht",
    "coordination": "Abstimmungsgespräch",
    "annual_report": "Jahresbericht",
}
_MEETING_LABEL = {"hpg": "Hilfeplangespräch", "closing": "Abschlussgespräch"}
_SESSION_LABEL = {SessionKind.session: "Sitzung", SessionKind.workshop: "Workshop"}
MEETING_LENGTH = timedelta(hours=1)  # meetings are stored with a start only


def feed_url(settings: Settings, token: str) -> str:
    """The subscription link for a token (the only place the token leaves the server)."""
    return f"{settings.web.base_url}/feeds/{token}.ics"


def rotation_title(name: str) -> str:
    """ "Rufbereitschaft Weserufer" for a rotation named either "Weserufer" or like that."""
    return name if name.lower().startswith("rufbereitschaft") else f"Rufbereitschaft {name}"


@dataclass(frozen=True)
class FeedKey:
    """Which feed a token shows: the AG 78 and a rotation's feed are the same for every holder."""

    kind: FeedKind
    staff_id: int | None = None  # personal and myshifts feeds
    rotation_id: int | None = None  # a rotation's feed

    @classmethod
    def of(cls, grant: FeedToken) -> FeedKey:
        kind = FeedKind(grant.kind)
        if kind is FeedKind.ag78:
            return cls(kind)
        if kind is FeedKind.oncall:
            return cls(kind, rotation_id=grant.rotation_id)
        return cls(kind, staff_id=grant.staff_id)


def build_feed(session: Session, key: FeedKey, settings: Settings, now: datetime) -> FeedCalendar:
    """The calendar a token's feed shows, as of the aware instant `now`."""
    cutoff = now - timedelta(days=settings.web.cancelled_days)
    if key.kind is FeedKind.ag78:
        return ag78_feed(session, settings, cutoff)
    if key.kind is FeedKind.oncall:
        rotation = session.get(Rotation, key.rotation_id) if key.rotation_id else None
        return oncall_feed(session, settings, now, rotation=rotation, person=None)
    holder = session.get(Staff, key.staff_id)
    assert holder is not None
    if key.kind is FeedKind.personal:
        return personal_feed(session, holder, settings, cutoff)
    return oncall_feed(session, settings, now, rotation=None, person=holder)


def ag78_feed(session: Session, settings: Settings, cutoff: datetime) -> FeedCalendar:
    """Every AG 78 session; cancelled ones stay as CANCELLED until `cutoff` passes them."""
    domain = settings.web.uid_domain
    events = []
    rows = session.exec(
        select(AgSession).where(
            or_(col(AgSession.cancelled).is_(False), col(AgSession.updated_at) >= cutoff)
        )
    )
    for s in rows:
        label = _SESSION_LABEL[s.kind]
        place = s.place or None
        link = place if place and place.startswith(("https://", "http://")) else None
        description = f"{label} der AG 78 (§ 78 SGB VIII)"
        if s.agenda:
            description += f"\nThemen: {s.agenda}"
        uid = s.uid if "@" in s.uid else f"{s.uid}@{domain}"
        events.append(
            FeedEvent(
                uid=uid,
                summary=f"AG 78 – {s.title}" if label in s.title else f"AG 78 – {label}: {s.title}",
                start=s.starts_at,
                end=s.ends_at,
                sequence=s.sequence,
                last_modified=s.updated_at,
                cancelled=s.cancelled,
                location=place,
                url=link,
                description=description,
                categories=("AG 78", label),
            )
        )
    return FeedCalendar(
        name="AG 78 – Termine",
        description="Sitzungen und Workshops der AG 78 (koopbot)",
        events=events,
    )


def personal_feed(
    session: Session, holder: Staff, settings: Settings, cutoff: datetime
) -> FeedCalendar:
    """The holder's deadlines (all-day) and the meetings of their cases; case codes only (P3)."""
    org = session.get(Organisation, holder.organisation_id)
    assert org is not None
    domain = settings.web.uid_domain
    visible = visible_cases_clause(holder, org.kind)
    case_rows = session.exec(select(Case).where(visible)).all()
    codes = {c.id: c.code for c in case_rows}
    open_codes = {c.id for c in case_rows if c.status is CaseStatus.open}
    events: list[FeedEvent] = []
    deadline_query = select(Deadline).where(
        col(Deadline.case_id).in_(list(codes)),
        or_(col(Deadline.status) == DeadlineStatus.open, col(Deadline.updated_at) >= cutoff),
    )
    deadlines = list(session.exec(deadline_query))
    if holder.role.value == "coordinator" and org.kind is OrgKind.provider:
        deadlines += session.exec(
            select(Deadline).where(
                col(Deadline.case_id).is_(None),
                Deadline.organisation_id == holder.organisation_id,
                or_(
                    col(Deadline.status) == DeadlineStatus.open, col(Deadline.updated_at) >= cutoff
                ),
            )
        )
    for d in deadlines:
        code = codes.get(d.case_id) if d.case_id is not None else None
        label = _DEADLINE_LABEL[d.kind.value]
        changed = max(d.updated_at, d.done_at) if d.done_at else d.updated_at
        events.append(
            FeedEvent(
                uid=f"deadline-{d.id}@{domain}",
                summary=f"{code} {label}" if code else f"{label} (Organisation)",
                start=d.due,
                end=d.due + timedelta(days=1),
                sequence=d.sequence,
                last_modified=changed,
                # Done and dropped deadlines leave the calendar the way RFC 5545 clients
                # understand: as CANCELLED for a while, then not at all.
                cancelled=d.status is not DeadlineStatus.open,
                description=f"Frist ({d.rule})",
                categories=("Frist", label),
            )
        )
    meetings = session.exec(
        select(Meeting).where(
            col(Meeting.case_id).in_(list(open_codes)),
            or_(
                col(Meeting.cancelled).is_(False),
                col(Meeting.updated_at) >= cutoff,
            ),
        )
    )
    for m in meetings:
        label = _MEETING_LABEL[m.kind.value]
        events.append(
            FeedEvent(
                uid=f"meeting-{m.id}@{domain}",
                summary=f"{codes[m.case_id]} {label}",
                start=m.starts_at,
                end=m.starts_at + MEETING_LENGTH,
                sequence=m.sequence,
                last_modified=m.updated_at or m.created_at,
                cancelled=m.cancelled,
                categories=("Termin", label),
            )
        )
    return FeedCalendar(
        name=f"Meine Fristen und Termine ({holder.handle})",
        description="Offene Fristen und Gespräche deiner Fälle, nur mit Aktenzeichen (koopbot)",
        events=events,
    )


def oncall_feed(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    rotation: Rotation | None,
    person: Staff | None,
) -> FeedCalendar:
    """The shifts of one rotation, or one person's shifts in every rotation, around `now`."""
    tz = settings.tz
    today = now.astimezone(tz).date()
    window_start = datetime.combine(
        today - timedelta(days=settings.web.oncall_past_days), time(0), tzinfo=tz
    )
    window_end = datetime.combine(
        today + timedelta(days=settings.web.oncall_future_days), time(0), tzinfo=tz
    )
    # A person's feed looks at every rotation: a substitute holds shifts without being a member.
    events: list[FeedEvent] = []
    for state in load_states(
        session,
        tz,
        start=window_start,
        end=window_end,
        rotations=None if rotation is None else [rotation],
    ):
        events += rotation_events(
            session,
            state,
            start=window_start,
            end=window_end,
            person=person,
            domain=settings.web.uid_domain,
        )
    if rotation is not None:
        name = rotation_title(rotation.name)
    else:
        assert person is not None
        name = f"Meine Rufbereitschaft ({person.handle})"
    return FeedCalendar(
        name=name, description="Schichten der Rufbereitschaft (koopbot)", events=events
    )
