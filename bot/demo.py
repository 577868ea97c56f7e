"""A demo organisation: a provider, an ASD district office, staff of every role, cases,
an on-call rotation and the AG 78 sessions of seed 003. All names are invented staff names;
cases carry pseudonymous codes only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from config.enums import (
    DeadlineStatus,
    HoursCategory,
    LegalBasis,
    MissedReason,
    OrgKind,
    Role,
    SessionKind,
    StaffType,
)
from config.settings import Settings
from scheduler.casework import ensure_annual_reports, recompute_chain
from scheduler.workdays import WorkCalendar
from storage import audit
from storage.contracts import contract_of, set_planned_hours
from storage.models.ag78 import AgSession
from storage.models.cases import Case
from storage.models.hours import Contract, HoursEntry
from storage.models.rota import Rotation, RotationMember
from storage.models.staff import Invite, Organisation, Staff, Team
from storage.staff import create_invite, organisation_by_name

PROVIDER = "Familienhilfe Weserufer e. V."
JUGENDAMT = "ASD Stadtteilbüro Nord"


@dataclass(frozen=True)
class _Person:
    name: str
    handle: str
    org: str
    role: Role
    staff_type: StaffType | None
    phone: str | None


PEOPLE = (
    _Person("Mara Koch", "MK", PROVIDER, Role.coordinator, StaffType.fachkraft, "0421 555-1010"),
    _Person("Jonas Berg", "JB", PROVIDER, Role.caseworker, StaffType.fachkraft, "0421 555-1011"),
    _Person(
        "Lea Wolf", "LW", PROVIDER, Role.caseworker, StaffType.semiprofessional, "0421 555-1012"
    ),
    _Person("Tim Sommer", "TS", PROVIDER, Role.caseworker, StaffType.fachkraft, "0421 555-1013"),
    _Person("Eva Lind", "EL", JUGENDAMT, Role.coordinator, None, "0421 361-2000"),
    _Person("Tobias Brandt", "TB", JUGENDAMT, Role.caseworker, None, "0421 361-2001"),
)

# (code, legal basis, days before today the help started, provider staff, ASD staff,
#  child protection, recommended type, shorter report interval)
CASES = (
    ("HB-2026-011", LegalBasis.p31, 12, "JB", "TB", False, StaffType.fachkraft, None),
    ("HB-2026-007", LegalBasis.p30, 45, "LW", "TB", False, StaffType.semiprofessional, None),
    ("HB-2026-003", LegalBasis.p27_2, 100, "JB", "TB", True, StaffType.fachkraft, 3),
    ("HB-2025-041", LegalBasis.p31, 170, "TS", "TB", False, StaffType.fachkraft, None),
    ("HB-2025-029", LegalBasis.p35, 200, "TS", "TB", False, StaffType.fachkraft, None),
    # The README's example case (issue 14): its examples (/hpg HB-2025-017 02.06.2025 …) work
    # on the demo as loaded. Coordinated by MK with EL, so the staff's own lists stay as they are.
    ("HB-2025-017", LegalBasis.p30, 31, "MK", "EL", False, StaffType.fachkraft, None),
)
README_CASE = "HB-2025-017"
# A case's code carries the year it was opened: the help starts no later than this day, so
# the code and the start agree whatever day the demo is loaded (earlier if `today` is).
_LATEST_START = {
    "HB-2025-041": date(2025, 10, 1),
    "HB-2025-029": date(2025, 8, 1),
    README_CASE: date(2025, 3, 7),  # the README's /fall_neu … beginn=07.03.2025
}

# Seed 003 (DrS/2023/064): the first session, the workshop (called a Wednesday in the seed,
# but 20.03.2023 was a Monday: DOMAIN.md A2) and the 2023 sessions, 9-12 h.
SEED_SESSIONS = (
    (date(2023, 1, 27), time(9), time(12), SessionKind.session, "1. Sitzung AG 78 HzE"),
    (date(2023, 3, 20), time(9), time(16), SessionKind.workshop, "Fachaustausch (Workshop)"),
    (date(2023, 5, 12), time(9), time(12), SessionKind.session, "Sitzung 2. Quartal"),
    (date(2023, 9, 1), time(9), time(12), SessionKind.session, "Sitzung 3. Quartal"),
    (date(2023, 10, 13), time(9), time(12), SessionKind.session, "Sitzung 4. Quartal"),
)


def load_demo(session: Session, settings: Settings, calendar: WorkCalendar, now: datetime) -> bool:
    """Create the demo organisation unless it exists; True if it was created."""
    if organisation_by_name(session, PROVIDER) is not None:
        return False
    tz = settings.tz
    today = now.astimezone(tz).date()
    provider = Organisation(name=PROVIDER, kind=OrgKind.provider)
    jugendamt = Organisation(name=JUGENDAMT, kind=OrgKind.jugendamt)
    session.add_all([provider, jugendamt])
    session.flush()
    assert provider.id is not None and jugendamt.id is not None
    team = Team(organisation_id=provider.id, name="Ambulante Hilfen")
    session.add(team)
    session.flush()
    orgs = {PROVIDER: provider, JUGENDAMT: jugendamt}
    staff: dict[str, Staff] = {}
    for p in PEOPLE:
        org = orgs[p.org]
        assert org.id is not None
        staff[p.handle] = Staff(
            organisation_id=org.id,
            team_id=team.id if org is provider else None,
            name=p.name,
            handle=p.handle,
            role=p.role,
            staff_type=p.staff_type,
            work_phone=p.phone,
            created_at=now,
        )
    session.add_all(staff.values())
    session.flush()
    for code, basis, days_ago, fk, asd, child, recommended, interval in CASES:
        began = today - timedelta(days=days_ago)
        case = Case(
            code=code,
            legal_basis=basis,
            start_date=min(began, _LATEST_START.get(code, began)),
            provider_org_id=provider.id,
            jugendamt_org_id=jugendamt.id,
            provider_staff_id=staff[fk].id,
            asd_staff_id=staff[asd].id,
            child_protection=child,
            recommended_staff_type=recommended,
            report_interval_months=interval,
            created_at=now,
        )
        session.add(case)
        session.flush()
        changes = recompute_chain(
            session, case, calendar=calendar, periods=settings.periods, now=now
        )
        # Demo history: deadlines more than two weeks past were handed in on time.
        for deadline in changes.added:
            if deadline.due < today - timedelta(days=14):
                deadline.status, deadline.done_at = DeadlineStatus.done, now
    ensure_annual_reports(session, provider, calendar=calendar, periods=settings.periods, now=now)
    monday = today - timedelta(days=today.weekday() + 21)
    rotation = Rotation(
        organisation_id=provider.id,
        name="Rufbereitschaft Weserufer",
        anchor=monday,
        handover=time(9, 0),
        shift_days=7,
        created_at=now,
    )
    session.add(rotation)
    session.flush()
    assert rotation.id is not None
    for position, handle in enumerate(("MK", "JB", "TS")):
        person = staff[handle]
        assert person.id is not None
        session.add(RotationMember(rotation_id=rotation.id, staff_id=person.id, position=position))
    for day, start, end, kind, title in SEED_SESSIONS + _upcoming_sessions(today):
        session.add(
            AgSession(
                uid=f"ag78-{day.isoformat()}@koopbot",
                kind=kind,
                title=title,
                starts_at=datetime.combine(day, start, tzinfo=tz),
                ends_at=datetime.combine(day, end, tzinfo=tz),
                place="Kreishaus, Sitzungssaal 2",
                updated_at=now,
            )
        )
    audit.record(
        session,
        at=now,
        actor="cli",
        action="load_demo",
        entity="organisation",
        entity_id=provider.id,
    )
    session.flush()
    return True


def _upcoming_sessions(today: date) -> tuple[tuple[date, time, time, SessionKind, str], ...]:
    """Quarterly demo sessions after today, on the second Friday of a quarter's middle month."""
    out: list[tuple[date, time, time, SessionKind, str]] = []
    year, month = today.year, today.month
    while len(out) < 3:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if month % 3 != 2:
            continue
        first = date(year, month, 1)
        friday = first + timedelta(days=(4 - first.weekday()) % 7 + 7)
        if friday > today:
            quarter = (month - 1) // 3 + 1
            out.append(
                (
                    friday,
                    time(9),
                    time(12),
                    SessionKind.session,
                    f"Sitzung {quarter}. Quartal {year}",
                )
            )
    return tuple(out)


def demo_invites(session: Session, settings: Settings, now: datetime) -> list[tuple[Staff, str]]:
    """A fresh one-time invite for every demo person who has not registered yet."""
    out: list[tuple[Staff, str]] = []
    for p in PEOPLE:
        person = session.exec(select(Staff).where(Staff.handle == p.handle)).first()
        if person is None:
            continue
        used = session.exec(
            select(Invite).where(Invite.staff_id == person.id, Invite.used_at != None)  # noqa: E711
        ).first()
        if used is not None:
            continue
        org = session.get(Organisation, person.organisation_id)
        assert org is not None
        code, _ = create_invite(
            session,
            organisation=org,
            role=person.role,
            now=now,
            valid_days=settings.invite_valid_days,
            staff_type=person.staff_type,
            staff=person,
        )
        out.append((person, code))
    return out


# The demo provider's budget contract (seed 001: 01.01.2025-31.12.2029) and its planned
# direct hours per year, sized for the demo's handful of cases.
DEMO_PLANNED_HOURS = 1200


def load_demo_history(
    session: Session, settings: Settings, calendar: WorkCalendar, now: datetime
) -> bool:
    """The contract and hours of the two quarters before this one, so /quartal letztes,
    /grafik and /export show something; True if added now. Only the CLI demo loads this."""
    provider = organisation_by_name(session, PROVIDER)
    if provider is None or provider.id is None or contract_of(session, provider.id) is not None:
        return False
    contract = Contract(
        provider_org_id=provider.id,
        starts_on=settings.periods.contract_start,
        ends_on=settings.periods.contract_end,
        updated_at=now,
    )
    session.add(contract)
    session.flush()
    assert contract.id is not None
    today = now.astimezone(settings.tz).date()
    for year in range(settings.periods.contract_start.year, settings.periods.contract_end.year + 1):
        set_planned_hours(session, contract.id, year, DEMO_PLANNED_HOURS, now)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    first = _months_back(quarter_start, 6)
    cases = session.exec(select(Case).where(Case.provider_org_id == provider.id)).all()
    by_staff: dict[int, list[Case]] = {}
    for case in cases:
        if case.provider_staff_id is not None and case.code != README_CASE:
            by_staff.setdefault(case.provider_staff_id, []).append(case)
    day, n = first, 0
    while day < quarter_start:
        if calendar.is_working_day(day):
            for staff_id, own in sorted(by_staff.items()):
                n += 1
                started = [c for c in own if c.start_date <= day]
                for entry in _demo_day(staff_id, provider.id, day, started, n, now):
                    session.add(entry)
        day += timedelta(days=1)
    audit.record(
        session,
        at=now,
        actor="cli",
        action="load_demo_history",
        entity="contract",
        entity_id=contract.id,
    )
    session.flush()
    return True


def _months_back(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _demo_day(
    staff_id: int, org_id: int, day: date, cases: list[Case], n: int, now: datetime
) -> list[HoursEntry]:
    """A plausible working day: direct hours on a case, a group on Wednesdays, network work
    on Fridays, now and then a session the family cancelled."""

    def entry(
        minutes: int,
        category: HoursCategory,
        case_id: int | None = None,
        participants: int | None = None,
        missed_reason: MissedReason | None = None,
    ) -> HoursEntry:
        return HoursEntry(
            staff_id=staff_id,
            organisation_id=org_id,
            day=day,
            minutes=minutes,
            category=category,
            case_id=case_id,
            participants=participants,
            missed_reason=missed_reason,
            created_at=now,
        )

    out = [entry(90, HoursCategory.non_case)]
    if cases:
        case = cases[n % len(cases)]
        if n % 11 == 0:
            out.append(
                entry(
                    90,
                    HoursCategory.missed,
                    case_id=case.id,
                    missed_reason=MissedReason.cancelled_by_family,
                )
            )
        else:
            out.append(entry(180 + 30 * (n % 3), HoursCategory.direct, case_id=case.id))
    if day.weekday() == 2:
        out.append(entry(90, HoursCategory.group, participants=5 + n % 4))
    if day.weekday() == 4:
        out.append(entry(60, HoursCategory.network))
    return out
