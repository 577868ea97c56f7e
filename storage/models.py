"""SQLModel tables. Cases carry pseudonymous codes only; no table has a field for client names."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from config.enums import (
    CaseStatus,
    DeadlineKind,
    DeadlineStatus,
    HoursCategory,
    LegalBasis,
    MeetingKind,
    MissedReason,
    OrgKind,
    Role,
    SessionKind,
    StaffType,
)
from storage.types import UTCDateTime


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


# When the reminder sweep next looks at a row (issue 4). New rows get the epoch ("plan now")
# from the server default; triggers (migration 0003) reset it when the date or status changes.
REMIND_NOW_SQL = "'1970-01-01 00:00:00'"


def _reminder_at() -> Column[datetime]:
    return Column(UTCDateTime(), nullable=True, server_default=text(REMIND_NOW_SQL), index=True)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    kind: OrgKind


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    name: str = Field(max_length=120)
    handle: str = Field(max_length=12, unique=True)  # Kürzel, how colleagues refer to each other
    role: Role
    staff_type: StaffType | None = None  # provider staff only
    work_phone: str | None = Field(default=None, max_length=40)
    active: bool = True
    created_at: datetime = Field(sa_column=_ts())
    # Issue 12 (retention, P4): when the person left; their data is anonymised
    # `retention.staff_days` later (anonymised_at), their hours stay in the figures.
    deactivated_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    anonymised_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class MessengerIdentity(SQLModel, table=True):
    __tablename__ = "messenger_identity"
    __table_args__ = (UniqueConstraint("transport", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    transport: str = Field(max_length=20)  # console, telegram, matrix
    external_id: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=_ts())


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(
        max_length=64, unique=True
    )  # sha256 hex; the code itself is never stored
    organisation_id: int = Field(foreign_key="organisation.id")
    role: Role
    staff_type: StaffType | None = None
    staff_id: int | None = Field(default=None, foreign_key="staff.id")  # pre-created staff record
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    used_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")


class Case(SQLModel, table=True):
    __tablename__ = "hzcase"  # "case" is an SQL keyword
    __table_args__ = (
        # Issue 18: who sees a case (P2), then open before closed, in code order: /faelle
        # reads one page of a person's cases and counts them from the index alone, and
        # /fristen starts from these cases instead of from all open deadlines. The id rides
        # along (SQLite's rowid does by itself), so joins from these cases read the index only.
        Index(
            "ix_hzcase_provider_staff_status_code",
            "provider_staff_id",
            "status",
            "code",
            postgresql_include=["id"],
        ),
        Index(
            "ix_hzcase_asd_staff_status_code",
            "asd_staff_id",
            "status",
            "code",
            postgresql_include=["id"],
        ),
        Index(
            "ix_hzcase_provider_org_status_code",
            "provider_org_id",
            "status",
            "code",
            postgresql_include=["id"],
        ),
        Index(
            "ix_hzcase_jugendamt_org_status_code",
            "jugendamt_org_id",
            "status",
            "code",
            postgresql_include=["id"],
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    legal_basis: LegalBasis
    start_date: date
    provider_org_id: int = Field(foreign_key="organisation.id")
    jugendamt_org_id: int = Field(foreign_key="organisation.id")
    provider_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    asd_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    child_protection: bool = False
    recommended_staff_type: StaffType
    report_interval_months: int | None = None  # shorter interval agreed in the help plan
    status: CaseStatus = CaseStatus.open
    closed_on: date | None = None
    created_at: datetime = Field(sa_column=_ts())
    # Issue 12 (retention, P4): code replaced, deadlines, meetings and free texts removed;
    # the row stays so that past quarters' hours and key figures do not change.
    anonymised_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", index=True)
    kind: MeetingKind
    starts_at: datetime = Field(sa_column=_ts())
    cancelled: bool = False
    created_at: datetime = Field(sa_column=_ts())
    sequence: int = 0  # calendar SEQUENCE, raised by storage.versioning on every change
    updated_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    reminder_at: datetime | None = Field(default=None, sa_column=_reminder_at())


class CoordinationRequest(SQLModel, table=True):
    __tablename__ = "coordination_request"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", index=True)
    raised_on: date
    raised_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_column=_ts())


class Deadline(SQLModel, table=True):
    __table_args__ = (
        # Issue 18: a person's open deadlines are found from their cases (case, status, due);
        # an index of all open deadlines by date would tempt the planner to walk every open
        # deadline of the database for one person's page, so there is none.
        Index("ix_deadline_case_status_due", "case_id", "status", "due"),
        # A provider coordinator's /fristen reads one organisation's open deadlines by date,
        # an ASD lead's those of the office's cases.
        Index("ix_deadline_org_status_due", "organisation_id", "status", "due"),
        Index("ix_deadline_asd_status_due", "jugendamt_org_id", "status", "due"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # Stable derivation key ("case:17:report:periodic:2"): recomputing the chain updates in place.
    key: str = Field(max_length=80, unique=True)
    case_id: int | None = Field(default=None, foreign_key="hzcase.id")
    organisation_id: int = Field(foreign_key="organisation.id")  # the case's provider
    # The case's ASD office, None for the provider's own deadlines (issue 18; copied from the
    # case, whose office never changes; migration 0010 adds it without an FK constraint:
    # SQLite cannot add one without rebuilding the table).
    jugendamt_org_id: int | None = None
    kind: DeadlineKind
    rule: str = Field(max_length=40)  # e.g. "C1/D1: 6 Wochen nach Hilfebeginn"
    due: date
    status: DeadlineStatus = DeadlineStatus.open
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    done_by: int | None = Field(default=None, foreign_key="staff.id")
    updated_at: datetime = Field(sa_column=_ts())
    reminder_at: datetime | None = Field(default=None, sa_column=_reminder_at())
    sequence: int = 0  # calendar SEQUENCE, raised by storage.versioning on every change


class HoursEntry(SQLModel, table=True):
    __tablename__ = "hours_entry"
    __table_args__ = (
        Index("ix_hours_staff_day", "staff_id", "day"),
        # Hours controlling (issue 7): an organisation's quarter, read from the index alone.
        Index(
            "ix_hours_org_day",
            "organisation_id",
            "day",
            "category",
            "staff_id",
            "minutes",
            "deleted_at",
        ),
        # The ASD's view (issue 18): the hours of its cases in a quarter, from the index alone.
        Index(
            "ix_hours_case_day", "case_id", "day", "category", "staff_id", "minutes", "deleted_at"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    day: date
    minutes: int
    category: HoursCategory
    case_id: int | None = Field(default=None, foreign_key="hzcase.id")
    participants: int | None = None
    missed_reason: MissedReason | None = None
    created_at: datetime = Field(sa_column=_ts())
    deleted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Rotation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=120)
    anchor: date  # the first shift starts on this day at `handover`
    handover: time
    shift_days: int = 7
    # Issue 6 (migration 0007 adds these without FK constraints: SQLite cannot add one to a
    # table others reference without rebuilding it).
    team_id: int | None = None
    backup_staff_id: int | None = None  # a fixed second line
    backup_next: bool = False  # or: the member who is next in line
    # Issue 15: the columns above describe the rule as last changed; the shifts come from the
    # versions in `rotation_rule` (a rotation without any is the single version above).
    created_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class RotationRule(SQLModel, table=True):
    """One version of a rotation's rule (issue 15), in force from `effective_from` until the
    next version begins. Versions are never changed: an edit adds one, and marks the planned
    versions it replaces as superseded (they had not begun)."""

    __tablename__ = "rotation_rule"
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id", index=True)
    effective_from: datetime = Field(sa_column=_ts())
    anchor: date  # shift k begins on anchor + k * shift_days at `handover`
    handover: time
    shift_days: int
    members: str = Field(default="", max_length=400)  # staff ids in order; empty: ended
    member_offset: int = 0  # index into `members` of the first shift
    first_number: int = 0  # running number of the first shift
    backup_staff_id: int | None = None
    backup_next: bool = False
    created_at: datetime = Field(sa_column=_ts())
    created_by: int | None = None
    superseded_by: int | None = None  # the version that replaced this planned one


class RotationMember(SQLModel, table=True):
    __tablename__ = "rotation_member"
    __table_args__ = (UniqueConstraint("rotation_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    position: int


class Availability(SQLModel, table=True):
    """Regular presence (weekday and hours) or an absence (a date range)."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    weekday: int | None = None  # 0 = Monday, for regular presence
    start_time: time | None = None
    end_time: time | None = None
    absent_from: date | None = None
    absent_until: date | None = None
    remote: bool = False
    absence_kind: str | None = Field(default=None, max_length=12)  # krank, urlaub, sonstiges
    deputy_staff_id: int | None = None  # this absence's deputy (issue 6; no FK, see Rotation)


class AgSession(SQLModel, table=True):
    """A session of the AG 78 working group."""

    __tablename__ = "ag_session"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=80, unique=True)  # stable calendar UID
    kind: SessionKind = SessionKind.session
    title: str = Field(max_length=200)
    starts_at: datetime = Field(sa_column=_ts())
    ends_at: datetime = Field(sa_column=_ts())
    place: str | None = Field(default=None, max_length=200)
    agenda: str | None = Field(default=None, max_length=1000)
    cancelled: bool = False
    sequence: int = 0
    updated_at: datetime = Field(sa_column=_ts())
    reminder_at: datetime | None = Field(default=None, sa_column=_reminder_at())


class AuditEntry(SQLModel, table=True):
    """Append-only: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_ts())
    actor_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    actor: str = Field(max_length=40)  # "staff", "cli", "system"
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_id: int | None = None
    details: str = Field(default="{}", max_length=2000)  # JSON of codes and ids, never free text


class FeedToken(SQLModel, table=True):
    """A secret calendar-feed link (DOMAIN.md P3); only the SHA-256 of the token is stored."""

    __tablename__ = "feed_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    kind: str = Field(max_length=20)  # storage.feeds.FeedKind
    rotation_id: int | None = Field(default=None, foreign_key="rotation.id")
    created_at: datetime = Field(sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class FeedState(SQLModel, table=True):
    """One row: a counter raised in every transaction that changes what a feed shows."""

    __tablename__ = "feed_state"
    id: int | None = Field(default=None, primary_key=True)
    version: int = 0


class OutboxEntry(SQLModel, table=True):
    """One reminder to one person (issue 4): written by the sweep, sent by the dispatcher."""

    __tablename__ = "reminder_outbox"
    __table_args__ = (
        UniqueConstraint("item_type", "item_id", "stage", "staff_id", name="uq_outbox_key"),
        Index("ix_outbox_status_send_after", "status", "send_after"),
    )
    id: int | None = Field(default=None, primary_key=True)
    item_type: str = Field(max_length=12)  # deadline, meeting, session, digest, undeliverable
    item_id: int
    stage: str = Field(max_length=24)  # e.g. "d14:20250422", "o3:20250422", "m1:202506021000"
    staff_id: int = Field(foreign_key="staff.id", index=True)
    fire_at: datetime = Field(sa_column=_ts())  # when it should have gone out
    send_after: datetime = Field(sa_column=_ts())  # next attempt (or lease end while sending)
    status: str = Field(default="pending", max_length=10)  # pending sending sent failed cancelled
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=40)
    lease_until: float | None = None  # epoch seconds on the database clock (issue 11)
    send_key: str | None = Field(default=None, max_length=40)  # first claim, kept on a retry
    transport: str | None = Field(default=None, max_length=20)
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    late: bool = False
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=_ts())


class RateLimit(SQLModel, table=True):
    """A send slot reservation shared by every scheduler on one database (issue 11)."""

    __tablename__ = "rate_limit"
    key: str = Field(primary_key=True, max_length=80)
    next_at: float  # epoch seconds on the database clock


# -- hours controlling (issue 7) ---------------------------------------------------------------


class Contract(SQLModel, table=True):
    """A provider's budget contract with the Jugendamt (Trägerbudgetvereinbarung, seed 001 II.5)."""

    id: int | None = Field(default=None, primary_key=True)
    provider_org_id: int = Field(foreign_key="organisation.id", unique=True)
    starts_on: date
    ends_on: date
    steering_percent: int = 15  # expected steering effect: up to +15 % services, same budget
    updated_at: datetime = Field(sa_column=_ts())


class ContractYear(SQLModel, table=True):
    """The planned direct hours ("Stunden am Klient") of one contract year (H2)."""

    __tablename__ = "contract_year"
    __table_args__ = (UniqueConstraint("contract_id", "year"),)
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    year: int
    planned_direct_hours: int
    updated_at: datetime = Field(sa_column=_ts())


class QuarterClosing(SQLModel, table=True):
    """A closed quarter: its hours entries are locked; coordinators correct with a reason."""

    __tablename__ = "quarter_closing"
    __table_args__ = (UniqueConstraint("organisation_id", "year", "quarter"),)
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    year: int
    quarter: int
    first_day: date
    last_day: date
    closed_at: datetime = Field(sa_column=_ts())
    closed_by: int = Field(foreign_key="staff.id")


class HoursCorrection(SQLModel, table=True):
    """A coordinator's correction of an hours entry (after closing), with the reason given."""

    __tablename__ = "hours_correction"
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="hours_entry.id", index=True)
    corrected_by: int = Field(foreign_key="staff.id")
    at: datetime = Field(sa_column=_ts())
    old_minutes: int
    new_minutes: int | None = None  # None: the entry was withdrawn
    reason: str = Field(max_length=200)


class HelpOutcome(SQLModel, table=True):
    """How an ended help went on (H5): with or without follow-up help outside the family."""

    __tablename__ = "help_outcome"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", unique=True)
    follow_up_outside: bool
    recorded_by: int = Field(foreign_key="staff.id")
    recorded_at: datetime = Field(sa_column=_ts())


# -- emergency contact and reachability (issue 6) ----------------------------------------------


class OncallOverride(SQLModel, table=True):
    """Illness or leave: `substitute` is on call instead of `absent_staff_id` over a range."""

    __tablename__ = "oncall_override"
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int | None = Field(default=None, foreign_key="rotation.id")  # None: all
    absent_staff_id: int = Field(foreign_key="staff.id", index=True)
    substitute_staff_id: int = Field(foreign_key="staff.id")
    starts_at: datetime = Field(sa_column=_ts())
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    reason: str = Field(max_length=12)  # krank, urlaub, sonstiges, übernommen
    created_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_column=_ts())
    cancelled_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class OncallSwap(SQLModel, table=True):
    """A swap of two shifts (or one shift handed over); in force once both have confirmed."""

    __tablename__ = "oncall_swap"
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id", index=True)
    shift_a: int
    holder_a: int = Field(foreign_key="staff.id")
    holder_b: int = Field(foreign_key="staff.id")
    shift_b: int | None = None
    requested_by: int = Field(foreign_key="staff.id")
    confirmed_a_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    confirmed_b_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    status: str = Field(default="pending", max_length=10)  # pending confirmed declined void
    created_at: datetime = Field(sa_column=_ts())
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # Issue 15: the span of the shifts named, so a window loads only the swaps it needs.
    first_start: datetime = Field(sa_column=_ts())
    last_end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class OncallHandover(SQLModel, table=True):
    """The incoming person confirmed taking over a shift."""

    __tablename__ = "oncall_handover"
    __table_args__ = (UniqueConstraint("rotation_id", "shift_number", "staff_id"),)
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id")
    shift_number: int
    staff_id: int = Field(foreign_key="staff.id")
    confirmed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class OncallChange(SQLModel, table=True):
    """Someone's next on-call duty changed (issue 15): what it was and what it is now, kept
    for the notice that tells them (composed when it is sent)."""

    __tablename__ = "oncall_change"
    __table_args__ = (Index("ix_oncall_change_person", "rotation_id", "staff_id"),)
    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id")
    staff_id: int = Field(foreign_key="staff.id")
    cause: str = Field(max_length=12)  # edit, end, swap, override, unoverride, takeover
    ref_id: int | None = None  # the swap, override or rule version behind it
    before_start: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    before_end: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    after_start: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    after_end: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())


class Page(SQLModel, table=True):
    """A page of the on-call person; escalates level by level until acknowledged."""

    id: int | None = Field(default=None, primary_key=True)
    rotation_id: int = Field(foreign_key="rotation.id")
    caller_id: int = Field(foreign_key="staff.id")
    text: str = Field(max_length=200)  # short, checked against client names (P1)
    created_at: datetime = Field(sa_column=_ts())
    level: int = 0  # 0 on-call person, 1 second line, 2 coordinators
    escalate_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
    )
    acked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    acked_by: int | None = Field(default=None, foreign_key="staff.id")


class Deputy(SQLModel, table=True):
    """Who stands in for a person (or for everyone in a team) during an absence."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", unique=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", unique=True)
    deputy_staff_id: int = Field(foreign_key="staff.id")
    updated_at: datetime = Field(sa_column=_ts())


# -- Matrix adapter (issue 10): exactly-once answers, reactions on sent messages ----------------


class MatrixEvent(SQLModel, table=True):
    """An incoming Matrix event koopbot answers (or waits to decrypt): at most one answer each."""

    __tablename__ = "matrix_event"
    __table_args__ = (UniqueConstraint("event_id", name="uq_matrix_event_event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=255)
    room_id: str = Field(max_length=255)
    sender: str = Field(max_length=255)
    status: str = Field(max_length=10, index=True)  # pending answering answered ignored
    # While pending: the encrypted event as received (ciphertext only), to retry after a restart.
    encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # While answering: the rendered answer, so a resend after a crash posts the same message.
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answer_event_id: str | None = Field(default=None, max_length=255)
    notice_sent: bool = False  # "could not read your message" (undecryptable) went out
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class MatrixSentDeadline(SQLModel, table=True):
    """Which deadline a message koopbot sent carries, for the ✅ and 💤 reactions on it.

    No foreign key to `deadline`: a deleted deadline makes a reaction answer "not found"."""

    __tablename__ = "matrix_sent_deadline"
    __table_args__ = (UniqueConstraint("event_id", "deadline_id", name="uq_matrix_sent_deadline"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=255)
    deadline_id: int
    room_id: str = Field(max_length=255)
    for_user: str = Field(max_length=255)  # the person the message was for
    thread_root: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=_ts())


class MatrixSyncPosition(SQLModel, table=True):
    """Where koopbot's sync stands: advanced only past events it has handled."""

    __tablename__ = "matrix_sync_position"
    user_id: str = Field(primary_key=True, max_length=255)
    next_batch: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=_ts())


# -- privacy and security (issue 12) -----------------------------------------------------------


class StartAttempt(SQLModel, table=True):
    """A failed `/start` (wrong or used code, or refused by the limit): the brute-force guard."""

    __tablename__ = "start_attempt"
    __table_args__ = (Index("ix_start_attempt_account_at", "account", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    # SHA-256 of transport and messenger id: a stranger's account id is not kept in clear.
    account: str = Field(max_length=64)
    transport: str = Field(max_length=20)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    blocked: bool = False  # refused by the limit, the code was not even looked at


class AuditPurge(SQLModel, table=True):
    """Empty except inside the retention job's transaction: while a row is here, the audit
    log's triggers let entries older than its cutoff be deleted (and nothing else)."""

    __tablename__ = "audit_purge"
    id: int | None = Field(default=None, primary_key=True)
    cutoff: datetime = Field(sa_column=_ts())


# -- notices to the Jugendamt (issue 14, DOMAIN.md C7) -----------------------------------------


class CaseNotice(SQLModel, table=True):
    """A notice to the case's ASD contact: a significant change in the family or a group offer
    that started (C7); delivered through the outbox (item "alert", stage "c7:notice")."""

    __tablename__ = "case_notice"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hzcase.id", index=True)
    kind: str = Field(max_length=16)  # change, group_offer (bot/case_notices.py)
    text: str = Field(max_length=300)  # short, checked against client names (P1)
    sent_by: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_column=_ts())
