"""A city's case load for the benches: providers, ASD offices, staff, and their case list.

The demo organisation (bot.demo) is one provider and one ASD office among many. Its people
are the ones measured; what they may see has a fixed size (`Shape`), whatever the size of
the database, so a reply that grows with the database shows as such. `single_org` puts every
case into the demo organisation instead (the shape of the old bench: its coordinators see
everything). Cases come as rows of a case list, for `koopbot import cases`'s code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.case_file import RawRow
from bot.demo import JUGENDAMT, PROVIDER
from config.enums import OrgKind, Role, StaffType
from storage.models.staff import Organisation, Staff

HEADER = (
    "aktenzeichen;rechtsgrundlage;hilfebeginn;traeger;asd;fachkraft_traeger;fachkraft_asd;"
    "empfehlung;kinderschutz;berichtsintervall;naechstes_hpg"
)


@dataclass(frozen=True)
class Shape:
    cases: int = 10_000
    provider_cases: int = 1_000  # the demo provider's cases (its coordinator sees them)
    office_cases: int = 2_000  # the demo ASD office's (its lead sees them)
    caseload: int = 30  # cases per provider caseworker
    asd_caseload: int = 60  # cases per ASD caseworker
    single_org: bool = False


@dataclass
class Agency:
    rows: list[RawRow] = field(default_factory=list)
    measured: dict[str, str] = field(default_factory=dict)  # handle -> description
    organisations: int = 0
    staff: int = 0


def _add_staff(
    session: Session, org: Organisation, prefix: str, count: int, now: datetime
) -> list[str]:
    provider = org.kind is OrgKind.provider
    people = [
        Staff(
            organisation_id=org.id or 0,
            name=f"Bench {prefix}{i}",
            handle=f"{prefix}{i:04d}"[:12],
            role=Role.caseworker,
            staff_type=(StaffType.fachkraft if i % 4 else StaffType.semiprofessional)
            if provider
            else None,
            created_at=now,
        )
        for i in range(count)
    ]
    session.add_all(people)
    return [p.handle for p in people]


def build(session: Session, shape: Shape, now: datetime, seed: int = 20261201) -> Agency:
    """Organisations and staff in the session (the demo must be loaded), and the case rows."""
    rng = random.Random(seed)
    agency = Agency()
    provider = session.exec(select(Organisation).where(Organisation.name == PROVIDER)).one()
    office = session.exec(select(Organisation).where(Organisation.name == JUGENDAMT)).one()
    if shape.single_org:
        per_provider = {PROVIDER: shape.cases}
        per_office = {JUGENDAMT: shape.cases}
    elif shape.cases < shape.office_cases:
        raise ValueError(f"at least {shape.office_cases} cases, the demo office's share")
    else:
        others = max(0, shape.cases - shape.office_cases)
        per_provider = {PROVIDER: shape.provider_cases}
        rest = shape.cases - shape.provider_cases
        for i in range(-(-rest // shape.provider_cases)):
            per_provider[f"Bench-Träger {i}"] = min(
                shape.provider_cases, rest - i * shape.provider_cases
            )
        per_office = {JUGENDAMT: shape.office_cases}
        for i in range(-(-others // shape.office_cases)):
            per_office[f"Bench-ASD {i}"] = min(shape.office_cases, others - i * shape.office_cases)
    orgs = {PROVIDER: provider, JUGENDAMT: office}
    for name in [*per_provider, *per_office]:
        if name not in orgs:
            kind = OrgKind.provider if name in per_provider else OrgKind.jugendamt
            orgs[name] = Organisation(name=name, kind=kind)
            session.add(orgs[name])
    session.flush()
    workers: dict[str, list[str]] = {}
    for n, (name, count) in enumerate(per_provider.items()):
        prefix = "BF" if name == PROVIDER else f"F{n}-"
        workers[name] = _add_staff(
            session, orgs[name], prefix, max(1, -(-count // shape.caseload)), now
        )
    asd: dict[str, list[str]] = {}
    for n, (name, count) in enumerate(per_office.items()):
        prefix = "BA" if name == JUGENDAMT else f"A{n}-"
        asd[name] = _add_staff(
            session, orgs[name], prefix, max(1, -(-count // shape.asd_caseload)), now
        )
    session.flush()
    agency.organisations = len(orgs)
    agency.staff = sum(map(len, workers.values())) + sum(map(len, asd.values()))
    # Provider cases in order; the demo office takes all the demo provider's cases and then
    # its share of the others, so each side's sets have the sizes the shape names.
    office_slots = [name for name, count in per_office.items() for _ in range(count)]
    office_slots.sort(key=lambda name: name != JUGENDAMT)
    provider_slots = [name for name, count in per_provider.items() for _ in range(count)]
    bases = ["30", "31", "27 Abs. 2", "29", "35"]
    today = now.date()
    for i, (p_name, a_name) in enumerate(zip(provider_slots, office_slots, strict=True)):
        p_staff = workers[p_name][i % len(workers[p_name])]
        a_staff = asd[a_name][i % len(asd[a_name])]
        start = today - timedelta(days=rng.randint(0, 730))
        values = {
            "aktenzeichen": f"BE-{2024 + i % 3}-{i:05d}"
            if i < 100_000
            else f"BF-{2024 + i % 3}-{i % 100_000:05d}",
            "rechtsgrundlage": bases[i % len(bases)],
            "hilfebeginn": start.strftime("%d.%m.%Y"),
            "traeger": p_name,
            "asd": a_name,
            "fachkraft_traeger": p_staff,
            "fachkraft_asd": a_staff,
        }
        if i % 7 == 0:
            values["berichtsintervall"] = "3"
        if i % 3 == 0:
            hpg = today + timedelta(days=rng.randint(7, 150))
            values["naechstes_hpg"] = f"{hpg.strftime('%d.%m.%Y')} {9 + i % 6}:00"
        agency.rows.append(RawRow(i + 2, values))
    agency.measured = {
        workers[PROVIDER][0]: f"caseworker (provider, {shape.caseload} cases)",
        "MK": f"coordinator (provider, {per_provider[PROVIDER]} cases)",
        "EL": f"ASD lead ({per_office[JUGENDAMT]} cases)",
        asd[JUGENDAMT][0]: f"ASD caseworker ({shape.asd_caseload} cases)",
    }
    return agency


def csv_text(rows: list[RawRow]) -> str:
    """The rows as a case list file (for the import bench)."""
    columns = HEADER.split(";")
    lines = [HEADER]
    for row in rows:
        lines.append(";".join(row.values.get(c, "") for c in columns))
    return "\n".join(lines) + "\n"
