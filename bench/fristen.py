"""Reply time of /fristen with many cases: a caseworker, and coordinators who see them all.

Builds a fresh database through the real code (the demo organisation, then more staff and
cases whose deadline chains come from bot.casework.recompute_chain), then times
bot.core.Bot.handle. SQLite in a temporary directory by default; with --postgres URL also on a
fresh PostgreSQL database created next to URL's and dropped afterwards.

    .venv/bin/python bench/fristen.py [--cases 10000] [--caseworkers 50] [--calls 50]
    .venv/bin/python bench/fristen.py --postgres postgresql+psycopg://root@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, func, select

from bot.casework import recompute_chain
from bot.core import Bot, build_calendar
from bot.demo import JUGENDAMT, PROVIDER, load_demo
from bot.messages import Incoming, Sender
from config.settings import Settings
from scheduler.clock import SystemClock
from storage.db import Database
from storage.enums import DeadlineStatus, LegalBasis, Role, StaffType
from storage.models import Case, Deadline, Staff
from storage.staff import link_identity, organisation_by_name

THRESHOLD_MS = 50.0


@dataclass
class Population:
    cases: int = 0
    deadlines: int = 0
    open_deadlines: int = 0
    users: dict[str, str] = field(default_factory=dict)  # console user id -> description


def populate(db: Database, settings: Settings, n_cases: int, n_workers: int) -> Population:
    """The demo organisation plus `n_workers` caseworkers sharing `n_cases` cases."""
    now = datetime.now(settings.tz)
    today = now.date()
    calendar = build_calendar(settings)
    rng = random.Random(20261123)
    with db.session() as session:
        load_demo(session, settings, calendar, now)
        provider = organisation_by_name(session, PROVIDER)
        jugendamt = organisation_by_name(session, JUGENDAMT)
        assert provider and provider.id and jugendamt and jugendamt.id
        workers = [
            Staff(
                organisation_id=provider.id,
                name=f"Bench Fachkraft {i}",
                handle=f"BF{i:03d}",
                role=Role.caseworker,
                staff_type=StaffType.fachkraft if i % 4 else StaffType.semiprofessional,
                created_at=now,
            )
            for i in range(n_workers)
        ]
        asd = [
            Staff(
                organisation_id=jugendamt.id,
                name=f"Bench ASD {i}",
                handle=f"BA{i:02d}",
                role=Role.caseworker,
                created_at=now,
            )
            for i in range(10)
        ]
        session.add_all([*workers, *asd])
        session.flush()
        bases = list(LegalBasis)
        for i in range(n_cases):
            worker = workers[i % n_workers]
            case = Case(
                code=f"BE-{2024 + i % 3}-{i:05d}",
                legal_basis=bases[i % len(bases)],
                start_date=today - timedelta(days=rng.randint(0, 730)),
                provider_org_id=provider.id,
                jugendamt_org_id=jugendamt.id,
                provider_staff_id=worker.id,
                asd_staff_id=asd[i % len(asd)].id,
                recommended_staff_type=worker.staff_type or StaffType.fachkraft,
                report_interval_months=3 if i % 7 == 0 else None,
                created_at=now,
            )
            session.add(case)
            session.flush()
            changes = recompute_chain(
                session, case, calendar=calendar, periods=settings.periods, now=now
            )
            # As in the demo: what fell due more than two weeks ago was handed in.
            for deadline in changes.added:
                if deadline.due < today - timedelta(days=14):
                    deadline.status, deadline.done_at = DeadlineStatus.done, now
        users = {
            "bench-caseworker": (workers[0], "caseworker (provider), own cases"),
            "bench-coordinator": (_by_handle(session, "MK"), "coordinator (provider), all cases"),
            "bench-asd-lead": (_by_handle(session, "EL"), "coordinator (ASD), all cases"),
        }
        for user_id, (staff, _) in users.items():
            link_identity(session, staff, "console", user_id, now)
        population = Population(
            cases=session.exec(select(func.count()).select_from(Case)).one(),
            deadlines=session.exec(select(func.count()).select_from(Deadline)).one(),
            open_deadlines=session.exec(
                select(func.count())
                .select_from(Deadline)
                .where(col(Deadline.status) == DeadlineStatus.open)
            ).one(),
            users={user_id: label for user_id, (_, label) in users.items()},
        )
    return population


def _by_handle(session: Session, handle: str) -> Staff:
    staff = session.exec(select(Staff).where(Staff.handle == handle)).one()
    return staff


@dataclass
class Timing:
    first_ms: float
    samples_ms: list[float]
    reply: str

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.samples_ms, n=20, method="inclusive")[18]


def measure(bot: Bot, user_id: str, command: str, calls: int) -> Timing:
    message = Incoming(Sender("console", user_id), f"console:{user_id}", command)
    began = time.perf_counter()
    reply = bot.handle(message)
    first = (time.perf_counter() - began) * 1000
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        bot.handle(message)
        samples.append((time.perf_counter() - began) * 1000)
    return Timing(first, samples, reply.text)


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[float, str, Any]]]:
    """Record (milliseconds, SQL, parameters) of every statement run inside the block."""
    recorded: list[tuple[float, str, Any]] = []

    def before(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        started = conn.info["bench_started"].pop()
        recorded.append(((time.perf_counter() - started) * 1000, sql, params))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield recorded
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def explain(db: Database, sql: str, params: Any) -> list[str]:
    dialect = db.engine.dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(prefix + sql, params)
        rows = cursor.fetchall()
        cursor.close()
    finally:
        raw.close()
    if dialect == "sqlite":
        return [f"{row[0]:>3} {row[1]:>3}  {row[3]}" for row in rows]
    return [row[0] for row in rows]


def report(
    label: str, db: Database, settings: Settings, population: Population, calls: int
) -> dict[tuple[str, str], Timing]:
    bot = Bot(settings, db, SystemClock(settings.tz))
    print(f"\n{label}: /fristen via Bot.handle, {calls} calls each after one cold call")
    print(f"  {'who':<36}{'command':<15}{'first':>9}{'median':>9}{'p95':>9}{'max':>9}")
    results = {}
    for user_id, who in population.users.items():
        for command in ("/fristen", "/fristen alle"):
            timing = measure(bot, user_id, command, calls)
            results[(user_id, command)] = timing
            print(
                f"  {who:<36}{command:<15}{timing.first_ms:8.1f} {timing.median:8.1f} "
                f"{timing.p95:8.1f} {max(timing.samples_ms):8.1f}  ms"
            )
    for user_id, who in population.users.items():
        head = results[(user_id, "/fristen")].reply.splitlines()[0]
        print(f"  heading for {who}: {head}")
    _check_overdue_heading(db, settings, results)
    return results


def _check_overdue_heading(
    db: Database, settings: Settings, results: dict[tuple[str, str], Timing]
) -> None:
    """The heading's 'davon N überfällig' against the database (all of the coordinator's)."""
    today = datetime.now(settings.tz).date()
    with db.session() as session:
        overdue = session.exec(
            select(func.count())
            .select_from(Deadline)
            .where(col(Deadline.status) == DeadlineStatus.open, col(Deadline.due) < today)
        ).one()
    head = results[("bench-coordinator", "/fristen alle")].reply.splitlines()[0]
    print(f"  open and overdue in the database (provider coordinator sees all): {overdue}")
    if f"davon {overdue} überfällig" not in head:
        print(f"  !! the heading says otherwise: {head!r}")


def diagnose(db: Database, settings: Settings, user_id: str, command: str) -> None:
    """Per-statement times of one request, and the plan of the slowest statement."""
    bot = Bot(settings, db, SystemClock(settings.tz))
    message = Incoming(Sender("console", user_id), f"console:{user_id}", command)
    bot.handle(message)
    with statements(db.engine) as recorded:
        bot.handle(message)
    print(f"\n  statements of one {command!r} by {user_id}:")
    for ms, sql, _ in recorded:
        print(f"    {ms:7.2f} ms  {' '.join(sql.split())[:110]}")
    for ms, sql, params in sorted(recorded, key=lambda r: r[0], reverse=True)[:1]:
        print(f"\n  plan of the {ms:.1f} ms statement:\n    {' '.join(sql.split())}")
        for line in explain(db, sql, params):
            print(f"    | {line}")


def run_backend(
    label: str, url: str, data_dir: Path, args: argparse.Namespace
) -> dict[tuple[str, str], Timing]:
    settings = Settings(data_dir=data_dir, database_url=url)
    db = Database(url)
    try:
        began = time.perf_counter()
        db.upgrade()
        population = populate(db, settings, args.cases, args.caseworkers)
        setup = time.perf_counter() - began
        print(
            f"\n{label}: setup {setup:.1f} s for {population.cases} cases, "
            f"{population.deadlines} deadlines ({population.open_deadlines} open), "
            f"{args.caseworkers} bench caseworkers + the demo staff"
        )
        results = report(f"{label}, fresh", db, settings, population, args.calls)
        _diagnose_slow(db, settings, results, args.explain)
        refresh_statistics(db)
        results = report(
            f"{label}, after {'ANALYZE' if _is_sqlite(db) else 'VACUUM ANALYZE'}",
            db,
            settings,
            population,
            args.calls,
        )
        _diagnose_slow(db, settings, results, args.explain)
        what_if(db, settings)
        return results
    finally:
        db.dispose()


def _is_sqlite(db: Database) -> bool:
    return db.engine.dialect.name == "sqlite"


def _diagnose_slow(
    db: Database, settings: Settings, results: dict[tuple[str, str], Timing], everything: bool
) -> None:
    slow = sorted(results, key=lambda key: results[key].p95, reverse=True)
    if not everything:
        slow = [key for key in slow[:3] if results[key].p95 > THRESHOLD_MS]
    for user_id, command in slow:
        diagnose(db, settings, user_id, command)


def refresh_statistics(db: Database) -> None:
    """What the planner knows after ANALYZE: SQLite never gathers it by itself, PostgreSQL's
    autovacuum would within minutes of a bulk load (VACUUM also fills the visibility map)."""
    if _is_sqlite(db):
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


_CURRENT_COUNT = """
SELECT count(*) FROM deadline LEFT OUTER JOIN hzcase ON hzcase.id = deadline.case_id
WHERE deadline.status = 'open'
  AND (hzcase.provider_org_id = :org OR (deadline.case_id IS NULL AND deadline.organisation_id = :org))
  AND deadline.due <= :until
"""
_PROPOSED_COUNT = """
SELECT count(*) FROM deadline
WHERE deadline.organisation_id = :org AND deadline.status = 'open' AND deadline.due <= :until
"""
_PROPOSED_PAGE = """
SELECT deadline.id, deadline.due, hzcase.code FROM deadline
LEFT OUTER JOIN hzcase ON hzcase.id = deadline.case_id
WHERE deadline.organisation_id = :org AND deadline.status = 'open' AND deadline.due <= :until
ORDER BY deadline.due, deadline.id LIMIT 30
"""
_CURRENT_CASEWORKER = """
SELECT count(*) FROM deadline LEFT OUTER JOIN hzcase ON hzcase.id = deadline.case_id
WHERE deadline.status = 'open' AND hzcase.provider_staff_id = :staff
"""


def what_if(db: Database, settings: Settings) -> None:
    """The provider coordinator's count as it is, and filtered on deadline.organisation_id
    (which sync_deadlines already sets to the case's provider) with a matching index."""
    today = datetime.now(settings.tz).date()
    with db.session() as session:
        org = organisation_by_name(session, PROVIDER)
        worker = _by_handle(session, "BF000")
        assert org is not None
        mismatched = session.exec(
            select(func.count())
            .select_from(Deadline)
            .join(Case, col(Case.id) == col(Deadline.case_id))
            .where(col(Deadline.organisation_id) != col(Case.provider_org_id))
        ).one()
    params = {"org": org.id, "until": today + timedelta(days=60), "staff": worker.id}

    def timed(sql: str) -> tuple[float, Any]:
        samples, result = [], None
        with db.engine.connect() as conn:
            for _ in range(30):
                began = time.perf_counter()
                result = conn.execute(text(sql), params).all()[0][0]
                samples.append((time.perf_counter() - began) * 1000)
        return statistics.median(samples), result

    print("\n  what if (raw SQL, median of 30):")
    print(f"    case deadlines whose organisation_id is not the case's provider: {mismatched}")
    ms, n = timed(_CURRENT_COUNT)
    print(f"    coordinator count, as now (join, OR)            {ms:7.2f} ms  ({n})")
    ms, n = timed(_CURRENT_CASEWORKER)
    print(f"    caseworker 'alle' count, as now                 {ms:7.2f} ms  ({n})")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE INDEX bench_deadline_org_status_due "
                "ON deadline (organisation_id, status, due)"
            )
        )
        conn.execute(text("ANALYZE deadline"))
    ms, n = timed(_PROPOSED_COUNT)
    print(f"    coordinator count on deadline.organisation_id   {ms:7.2f} ms  ({n})")
    ms, n = timed(_PROPOSED_PAGE)
    print(f"    coordinator first 30 on deadline.organisation_id{ms:7.2f} ms")
    print("    (with index deadline(organisation_id, status, due))")


@contextmanager
def fresh_postgres(url: str) -> Iterator[str]:
    """A new database beside the one in `url`, dropped afterwards; yields its URL."""
    base = make_url(url)
    name = f"koopbot_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--caseworkers", type=int, default=50)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--postgres", metavar="URL", help="also run on a fresh PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true", help="only the PostgreSQL run")
    parser.add_argument("--explain", action="store_true", help="show query plans even when fast")
    parser.add_argument("--keep", type=Path, help="build the SQLite database in this directory")
    args = parser.parse_args()
    for key in [k for k in os.environ if k.startswith("KOOPBOT_")]:
        del os.environ[key]  # the bench's own settings, not the caller's

    runs: list[tuple[str, Callable[[Path], dict[tuple[str, str], Timing]]]] = []
    if not args.no_sqlite:
        runs.append(
            (
                "SQLite",
                lambda tmp: run_backend("SQLite", f"sqlite:///{tmp / 'bench.db'}", tmp, args),
            )
        )
    if args.postgres:

        def on_postgres(tmp: Path) -> dict[tuple[str, str], Timing]:
            with fresh_postgres(args.postgres) as url:
                return run_backend("PostgreSQL", url, tmp, args)

        runs.append(("PostgreSQL", on_postgres))
    print(f"koopbot /fristen bench, Python {sys.version.split()[0]}")
    for label, run in runs:
        if label == "SQLite" and args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / "bench.db").unlink(missing_ok=True)
            run(args.keep)
            continue
        with tempfile.TemporaryDirectory(prefix="koopbot-bench-") as tmp:
            run(Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
