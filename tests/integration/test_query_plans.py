"""Query plans of the listing commands: they start from what the asking person may see (issue 18).

A database with several providers and ASD offices (cases through `koopbot import cases`'s
code, hours bulk-inserted); every statement a command runs is explained on the real backend
(SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN). No statement may scan a large table
whole, and each command must use the index meant for it: a dropped index or a query that can
no longer use it fails here instead of in an agency with 100,000 cases. SQLite plans as it
would in production (with the statistics of an empty database, then after ANALYZE);
PostgreSQL, whose planner rightly prefers scanning tables this small, is asked for a plan
without sequential scans. `bench/fristen.py --explain` shows the plans at 100,000 cases.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlmodel import Session, select

from bot.case_file import CaseFile, RawRow
from bot.case_import import apply_import
from bot.case_plan import plan_import
from bot.core import Bot
from config.enums import HoursCategory, OrgKind, Role, StaffType
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.feeds import personal_feed
from storage.db import Database
from storage.models.cases import Case
from storage.models.hours import HoursEntry
from storage.models.staff import Organisation, Staff
from storage.planning import due_items
from tests.conftest import ChatUser
from tests.integration.helpers import BOTH_BACKENDS

LARGE = ("deadline", "hzcase", "hours_entry", "meeting")
PROVIDER = "Familienhilfe Weserufer e. V."
OFFICE = "ASD Stadtteilbüro Nord"


def _populate(db: Database, settings: Settings, now: datetime, cases: int) -> None:
    """Twenty more providers and eight more offices, 6,000 cases, hours over two quarters."""
    rng = random.Random(18)
    with db.session() as session:
        providers, offices = [PROVIDER], [OFFICE]
        for i in range(20):
            session.add(Organisation(name=f"Träger {i}", kind=OrgKind.provider))
            providers.append(f"Träger {i}")
        for i in range(8):
            session.add(Organisation(name=f"ASD-Büro {i}", kind=OrgKind.jugendamt))
            offices.append(f"ASD-Büro {i}")
        session.flush()
        orgs = {o.name: o for o in session.exec(select(Organisation))}
        workers: dict[str, list[str]] = {name: [] for name in providers}
        asd: dict[str, list[str]] = {name: [] for name in offices}
        for name in providers[1:] + offices[1:]:
            side = workers if orgs[name].kind is OrgKind.provider else asd
            for k in range(10):
                handle = f"Q{orgs[name].id}{k:02d}"
                session.add(
                    Staff(
                        organisation_id=orgs[name].id or 0,
                        name=f"Person {handle}",
                        handle=handle,
                        role=Role.caseworker,
                        staff_type=StaffType.fachkraft if side is workers else None,
                        created_at=now,
                    )
                )
                side[name].append(handle)
        # A realistic share for the demo's caseworkers: colleagues at their organisations.
        for name, side, staff_type in (
            (PROVIDER, workers, StaffType.fachkraft),
            (OFFICE, asd, None),
        ):
            for k in range(8):
                handle = f"Q{orgs[name].id}{k:02d}"
                session.add(
                    Staff(
                        organisation_id=orgs[name].id or 0,
                        name=f"Person {handle}",
                        handle=handle,
                        role=Role.caseworker,
                        staff_type=staff_type,
                        created_at=now,
                    )
                )
                side[name].append(handle)
        workers[PROVIDER] += ["JB", "TS"]
        asd[OFFICE] += ["TB"]
        session.flush()
    rows = []
    for i in range(cases):
        provider = providers[i % len(providers)]
        office = OFFICE if i % 20 == 0 else offices[1 + i % (len(offices) - 1)]
        rows.append(
            RawRow(
                i + 2,
                {
                    "aktenzeichen": f"QP-2025-{i:05d}",
                    "rechtsgrundlage": "30",
                    "hilfebeginn": (now.date() - timedelta(days=rng.randint(0, 900))).isoformat(),
                    "traeger": provider,
                    "asd": office,
                    "fachkraft_traeger": workers[provider][i % len(workers[provider])],
                    **({"fachkraft_asd": asd[office][i % len(asd[office])]} if asd[office] else {}),
                    **(
                        {"naechstes_hpg": (now.date() + timedelta(days=20 + i % 90)).isoformat()}
                        if i % 2
                        else {}
                    ),
                },
            )
        )
    with db.session() as session:
        bot = Bot(settings, db, FixedClock(now))
        plan = plan_import(
            session, CaseFile([], rows), settings=settings, calendar=bot.calendar, now=now
        )
        assert not plan.refused, plan.refused[:3]
        apply_import(session, plan, settings=settings, calendar=bot.calendar, now=now)
        _hours(session, now, rng)


def _hours(session: Session, now: datetime, rng: random.Random) -> None:
    today = now.date()
    cases = session.exec(select(Case.id, Case.provider_staff_id, Case.provider_org_id)).all()
    rows = []
    for case_id, staff_id, org_id in cases:
        for _ in range(20):  # more rows than one office's cases: whole scans cost
            rows.append(
                {
                    "staff_id": staff_id,
                    "organisation_id": org_id,
                    "day": today - timedelta(days=rng.randint(1, 170)),
                    "minutes": 90,
                    "category": HoursCategory.direct,
                    "case_id": case_id,
                    "participants": None,
                    "missed_reason": None,
                    "created_at": now,
                    "deleted_at": None,
                }
            )
    session.execute(insert(HoursEntry.__table__), rows)  # type: ignore[attr-defined]


def _refresh_statistics(db: Database) -> None:
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


@contextmanager
def _statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """(SQL, parameters) of every single-row statement run inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if not many and sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
            seen.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _plan(db: Database, sql: str, params: Any) -> list[str]:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return [str(row[3]) for row in cursor.fetchall()]
        # On a test-sized table a sequential scan is cheaper than any index, so PostgreSQL is
        # asked for its best plan without one: if a statement has no index path that reads
        # only part of a large table, the plan still scans it (or a whole index), and fails.
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute("EXPLAIN " + sql, params)
            return [str(row[0]) for row in cursor.fetchall()]
        finally:
            cursor.execute("RESET enable_seqscan")
    finally:
        raw.close()


_PG_NODE = re.compile(
    r"^\s*(?:->\s*)?(?P<node>[A-Z][A-Za-z ]+?)(?: using (?P<using>\w+))?(?: on (?P<on>\w+))?"
    r"(?: \w+)?\s+\(cost"
)
_INDEXES = """
SELECT c.relname, t.relname, a.attname FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
"""


def _pg_indexes(db: Database) -> dict[str, tuple[str, str]]:
    """Index name -> (its table, its first column)."""
    with db.engine.connect() as conn:
        return {name: (table, column) for name, table, column in conn.execute(text(_INDEXES))}


def _problems(
    db: Database, plan: list[str], indexes: dict[str, tuple[str, str]]
) -> tuple[list[str], set[str]]:
    """Whole scans of large tables (or of their indexes) in the plan, and the indexes it uses."""
    problems: list[str] = []
    used: set[str] = set()
    if db.engine.dialect.name == "sqlite":
        for line in plan:
            used.update(re.findall(r"INDEX (\w+)", line))
            m = re.match(r"(SCAN|SEARCH) (\w+)", line)
            # SCAN reads the table (or an index) whole; ANY(first column) skips through all
            # of an index's values of its first column, e.g. every organisation's quarter.
            if m and m[2] in LARGE and (m[1] == "SCAN" or "(ANY(" in line):
                problems.append(line)
        return problems, used
    nodes = [(i, m) for i, line in enumerate(plan) if (m := _PG_NODE.match(line))]
    for k, (i, m) in enumerate(nodes):
        node = m["node"]
        if node == "Seq Scan" and m["on"] in LARGE:
            problems.append(plan[i].strip())
        if "Index" not in node:
            continue
        index = m["using"] if m["using"] else m["on"]
        used.add(index)
        table, first = indexes[index]
        if table not in LARGE:
            continue
        end = nodes[k + 1][0] if k + 1 < len(nodes) else len(plan)
        conds = " ".join(line for line in plan[i + 1 : end] if "Index Cond" in line)
        if re.search(rf"\b{first}\b\)?(?:::[a-z ]+)?\s*(=|<|>|IS\b)", conds):
            continue  # the index narrows by its first column: a part of it is read
        if not conds and k > 0 and nodes[k - 1][1]["node"] == "Limit":
            continue  # walks the index in the ORDER BY's order and stops at the LIMIT
        problems.append(plan[i].strip())
    return problems, used


def _check(db: Database, what: str, act: Callable[[], object], expected: set[str]) -> None:
    with _statements(db) as seen:
        act()
    assert seen, what
    catalog = {} if db.engine.dialect.name == "sqlite" else _pg_indexes(db)
    used: set[str] = set()
    for sql, params in seen:
        plan = _plan(db, sql, params)
        problems, indexes = _problems(db, plan, catalog)
        used |= indexes
        assert not problems, f"{what}: {' '.join(sql.split())[:200]}\n" + "\n".join(plan)
    assert expected <= used, f"{what}: expected {expected - used} among {sorted(used)}" + "\n".join(
        "\n".join(_plan(db, sql, params)) for sql, params in seen
    )


def _shows(reply: str, expected: str) -> str:
    assert expected in reply, reply
    return reply


def _commands(
    demo: dict[str, ChatUser], jb_case: str
) -> list[tuple[str, Callable[[], object], set[str]]]:
    jb, ts, mk, el, tb = demo["JB"], demo["TS"], demo["MK"], demo["EL"], demo["TB"]
    person = {"ix_hzcase_provider_staff_status_code", "ix_deadline_case_status_due"}
    asd_person = {"ix_hzcase_asd_staff_status_code", "ix_deadline_case_status_due"}
    return [
        ("JB /fristen", lambda: jb.say("/fristen"), person),
        ("TS /fristen alle", lambda: ts.say("/fristen alle"), person),
        ("TB /fristen", lambda: tb.say("/fristen"), asd_person),
        ("MK /fristen", lambda: mk.say("/fristen"), {"ix_deadline_org_status_due"}),
        ("MK /fristen alle", lambda: mk.say("/fristen alle"), {"ix_deadline_org_status_due"}),
        ("EL /fristen", lambda: el.say("/fristen"), {"ix_deadline_asd_status_due"}),
        ("EL /fristen alle", lambda: el.say("/fristen alle"), {"ix_deadline_asd_status_due"}),
        ("JB /faelle", lambda: jb.say("/faelle"), person),
        ("TB /faelle alle", lambda: tb.say("/faelle alle"), asd_person),
        ("MK /faelle", lambda: mk.say("/faelle"), {"ix_hzcase_provider_org_status_code"}),
        ("EL /faelle", lambda: el.say("/faelle"), {"ix_hzcase_jugendamt_org_status_code"}),
        (
            "JB /fall",
            lambda: _shows(jb.say(f"/fall {jb_case}"), f"Fall {jb_case}"),
            {"ix_deadline_case_status_due", "ix_meeting_case_id"},
        ),
        ("JB /meinestunden monat", lambda: jb.say("/meinestunden monat"), {"ix_hours_staff_day"}),
        ("JB /quartal", lambda: jb.say("/quartal"), {"ix_hours_staff_day"}),
        ("TB /quartal", lambda: tb.say("/quartal"), {"ix_hours_case_day"}),
        ("EL /quartal", lambda: el.say("/quartal"), {"ix_hours_case_day"}),
        ("MK /quartal", lambda: mk.say("/quartal"), {"ix_hours_org_day"}),
    ]


@BOTH_BACKENDS
def test_listing_commands_start_from_what_the_person_may_see(
    backend: str,
    bot: Bot,
    db: Database,
    settings: Settings,
    clock: FixedClock,
    demo: dict[str, ChatUser],
) -> None:
    _populate(db, settings, clock.now(), 6000)
    with db.session() as session:
        jb = session.exec(select(Staff).where(Staff.handle == "JB")).one()
        jb_case = session.exec(
            select(Case.code).where(Case.provider_staff_id == jb.id, Case.code.startswith("QP-"))  # type: ignore[attr-defined]
        ).first()
        assert jb_case is not None
    rounds = ["as loaded", "analysed"] if backend == "sqlite" else ["analysed"]
    for state in rounds:
        if state == "analysed":
            _refresh_statistics(db)
        for what, act, expected in _commands(demo, jb_case):
            _check(db, f"{what} ({state})", act, expected)
        # The reminder sweep and a person's calendar feed, the same way.
        with db.session() as session:
            _check(
                db,
                f"sweep ({state})",
                lambda: due_items(session, "deadline", clock.now(), 200),
                {"ix_deadline_reminder_at"},
            )
            for handle in ("JB", "EL", "MK"):
                holder = session.exec(select(Staff).where(Staff.handle == handle)).one()
                _check(
                    db,
                    f"feed of {handle} ({state})",
                    lambda h=holder: personal_feed(session, h, settings, clock.now()),  # type: ignore[misc]
                    set(),
                )


def test_a_plan_that_reads_a_whole_table_is_caught(
    db: Database, settings: Settings, clock: FixedClock, demo: dict[str, ChatUser]
) -> None:
    """The check itself: a count over all open deadlines by date scans."""
    with db.session() as session:
        query = "SELECT count(*) FROM deadline WHERE status = 'open' AND due <= '2099-01-01'"
        with pytest.raises(AssertionError, match="SCAN deadline"):
            _check(db, "all open deadlines", lambda: session.execute(text(query)), set())
