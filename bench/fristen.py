"""Reply time of the listing commands as the database grows (issue 18).

A city's case load (bench/agency.py): many providers and ASD offices, the demo organisation
among them. The people measured see a fixed number of cases however large the database is: a
provider caseworker (30 cases), the provider's coordinator (1,000), the ASD office's lead
(2,000) and an ASD caseworker (60). The cases come in through `koopbot import cases`'s code
(chains as for /fall_neu; what fell due more than two weeks ago recorded as done), hours are
bulk-inserted; then bot.core.Bot.handle is timed. SQLite in a temporary directory; with
--postgres URL also on a fresh PostgreSQL database created next to URL's and dropped after.
`--single-org` puts every case into the demo organisation (its coordinators see them all).

    .venv/bin/python bench/fristen.py [--sizes 10000,100000] [--calls 50] [--explain]
    .venv/bin/python bench/fristen.py --sizes 10000,100000 --postgres postgresql+psycopg://root@127.0.0.1:5432/test

The sizes are measured in turns, call by call, in one process: on a shared machine the load
falls on all of them alike, and the ratio of their p95 is what the issue's goal is about.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import col, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from agency import Shape, build

from bot.case_file import CaseFile
from bot.case_import import apply_import
from bot.case_plan import plan_import
from bot.core import Bot, build_calendar
from bot.demo import load_demo
from bot.messages import Incoming, Sender
from config.enums import DeadlineStatus, HoursCategory, MissedReason
from config.settings import Settings
from scheduler.clock import SystemClock
from storage.case_import import refresh_statistics as analyse_after_import
from storage.cases import side_of, visible_cases_clause
from storage.db import Database
from storage.models.cases import Case, Deadline
from storage.models.hours import HoursEntry
from storage.models.staff import Staff
from storage.staff import link_identity

THRESHOLD_MS = 10.0


@dataclass
class Population:
    cases: int = 0
    deadlines: int = 0
    open_deadlines: int = 0
    hours: int = 0
    import_seconds: float = 0.0
    users: dict[str, str] = field(default_factory=dict)  # console user id -> description
    cases_of: dict[str, str] = field(default_factory=dict)  # console user id -> a visible code


def populate(db: Database, settings: Settings, shape: Shape, hours_per_case: int) -> Population:
    """The demo organisation among many; the case list imported; hours bulk-inserted."""
    now = datetime.now(settings.tz)
    today = now.date()
    calendar = build_calendar(settings)
    rng = random.Random(20261201)
    population = Population()
    with db.session() as session:
        load_demo(session, settings, calendar, now)
        agency = build(session, shape, now)
        began = time.perf_counter()
        plan = plan_import(
            session, CaseFile([], agency.rows), settings=settings, calendar=calendar, now=now
        )
        assert not plan.refused, plan.refused[:3]
        apply_import(
            session,
            plan,
            settings=settings,
            calendar=calendar,
            now=now,
            done_before=today - timedelta(days=14),
        )
    analyse_after_import(db.engine)  # as `koopbot import cases` does after its commit
    population.import_seconds = time.perf_counter() - began
    with db.session() as session:
        entries = []
        for case_id, staff_id, org_id in session.exec(
            select(Case.id, Case.provider_staff_id, Case.provider_org_id)
        ):
            for _ in range(hours_per_case):
                roll = rng.random()  # mostly direct hours, some missed and group offers
                category = (
                    HoursCategory.missed
                    if roll < 0.06
                    else HoursCategory.group
                    if roll < 0.09
                    else HoursCategory.direct
                )
                entries.append(
                    {
                        "staff_id": staff_id,
                        "organisation_id": org_id,
                        "day": today - timedelta(days=rng.randint(0, 80)),
                        "minutes": 30 * rng.randint(1, 6),
                        "category": category,
                        "case_id": case_id if category is not HoursCategory.group else None,
                        "participants": 6 if category is HoursCategory.group else None,
                        "missed_reason": MissedReason.not_met
                        if category is HoursCategory.missed
                        else None,
                        "created_at": now,
                        "deleted_at": None,
                    }
                )
                if len(entries) >= 20_000:
                    session.execute(insert(HoursEntry.__table__), entries)  # type: ignore[attr-defined]
                    population.hours += len(entries)
                    entries = []
        if entries:
            session.execute(insert(HoursEntry.__table__), entries)  # type: ignore[attr-defined]
            population.hours += len(entries)
        for handle, label in agency.measured.items():
            staff = session.exec(select(Staff).where(Staff.handle == handle)).one()
            user_id = f"bench-{handle.lower()}"
            link_identity(session, staff, "console", user_id, now)
            population.users[user_id] = label
            visible = session.exec(
                select(Case.code)
                .where(visible_cases_clause(staff, side_of(session, staff)))
                .order_by(col(Case.code).desc())
                .limit(1)
            ).one()
            population.cases_of[user_id] = visible
        population.cases = session.exec(select(func.count()).select_from(Case)).one()
        population.deadlines = session.exec(select(func.count()).select_from(Deadline)).one()
        population.open_deadlines = session.exec(
            select(func.count())
            .select_from(Deadline)
            .where(col(Deadline.status) == DeadlineStatus.open)
        ).one()
    return population


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


def commands_of(user_id: str, population: Population) -> list[str]:
    label = population.users[user_id]
    out = ["/fristen", "/fristen alle", "/faelle", f"/fall {population.cases_of[user_id]}"]
    if label.startswith("caseworker (provider"):
        out += ["/meinestunden monat", "/quartal"]
    elif not label.startswith("coordinator"):  # the provider's /quartal: bench/controlling.py
        out.append("/quartal")
    return out


@dataclass
class Instance:
    """One database of one size, built and ready to be asked."""

    size: int
    db: Database
    settings: Settings
    population: Population
    bot: Bot


def _once(bot: Bot, user_id: str, command: str) -> tuple[float, float, str]:
    """Wall and CPU milliseconds of one request (CPU: this process only, so on PostgreSQL
    without the server's part; on a crowded machine it is the steadier figure)."""
    message = Incoming(Sender("console", user_id), f"console:{user_id}", command)
    began, cpu = time.perf_counter(), time.process_time()
    reply = bot.handle(message)
    return (time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000, reply.text


def report(label: str, instances: list[Instance], calls: int) -> dict[tuple[int, str, str], Timing]:
    """Every command of every measured person, the sizes taking turns call by call, so that
    the load of a shared machine falls on all of them alike (the ratio is what counts)."""
    sizes = " vs ".join(f"{i.size:,}" for i in instances)
    print(f"\n{label}: via Bot.handle, {calls} calls each after one cold call, {sizes} cases")
    head = "".join(f"{f'p50/p95 ms @{i.size // 1000}k':>19}" for i in instances)
    cpu_head = "".join(f"{f'cpu p95 @{i.size // 1000}k':>14}" for i in instances)
    print(f"  {'who':<34}{'command':<20}{head}{'p95 ratio':>11}{cpu_head}")
    results: dict[tuple[int, str, str], Timing] = {}
    first = instances[0].population
    for user_id, who in first.users.items():
        for command in commands_of(user_id, first):
            samples: dict[int, list[float]] = {i.size: [] for i in instances}
            cpu: dict[int, list[float]] = {i.size: [] for i in instances}
            firsts: dict[int, tuple[float, str]] = {}
            for n in range(calls + 1):
                for inst in instances:
                    actual = command
                    if command.startswith("/fall "):
                        actual = f"/fall {inst.population.cases_of[user_id]}"
                    ms, cpu_ms, reply = _once(inst.bot, user_id, actual)
                    if n == 0:
                        firsts[inst.size] = (ms, reply)
                    else:
                        samples[inst.size].append(ms)
                        cpu[inst.size].append(cpu_ms)
            cells = ""
            for inst in instances:
                timing = Timing(firsts[inst.size][0], samples[inst.size], firsts[inst.size][1])
                results[(inst.size, user_id, command)] = timing
                cells += f"{timing.median:12.1f}/{timing.p95:6.1f}"
            ratio = results[(instances[-1].size, user_id, command)].p95 / max(
                results[(instances[0].size, user_id, command)].p95, 0.001
            )
            shown = command if not command.startswith("/fall ") else "/fall CODE"
            cpu_cells = "".join(f"{Timing(0, cpu[i.size], '').p95:14.1f}" for i in instances)
            print(f"  {who:<34}{shown:<20}{cells}{ratio:10.2f}x{cpu_cells}")
    for inst in instances:
        for user_id, who in inst.population.users.items():
            head = results[(inst.size, user_id, "/fristen")].reply.splitlines()[0]
            print(f"  {inst.size:>7,} cases, /fristen for {who}: {head}")
    return results


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
    for ms, sql, params in sorted(recorded, key=lambda r: r[0], reverse=True)[:2]:
        print(f"\n  plan of the {ms:.1f} ms statement:\n    {' '.join(sql.split())[:400]}")
        for line in explain(db, sql, params):
            print(f"    | {line}")


def build_instance(size: int, url: str, data_dir: Path, args: argparse.Namespace) -> Instance:
    settings = Settings(data_dir=data_dir, database_url=url)
    db = Database(url)
    began = time.perf_counter()
    db.upgrade()
    population = populate(
        db, settings, Shape(cases=size, single_org=args.single_org), args.hours_per_case
    )
    print(
        f"  {size:,} cases: setup {time.perf_counter() - began:.1f} s "
        f"(imported in {population.import_seconds:.1f} s, "
        f"{population.cases / population.import_seconds:.0f} cases/s), "
        f"{population.deadlines} deadlines ({population.open_deadlines} open), "
        f"{population.hours} hours entries",
        flush=True,
    )
    return Instance(size, db, settings, population, Bot(settings, db, SystemClock(settings.tz)))


def run_backend(label: str, instances: list[Instance], args: argparse.Namespace) -> None:
    try:
        report(f"{label}, fresh", instances, args.calls)
        for inst in instances:
            refresh_statistics(inst.db)
        analysed = "ANALYZE" if _is_sqlite(instances[0].db) else "VACUUM ANALYZE"
        results = report(f"{label}, after {analysed}", instances, args.calls)
        largest = instances[-1]
        _diagnose_slow(
            largest.db,
            largest.settings,
            {(u, c): t for (size, u, c), t in results.items() if size == largest.size},
            args.explain,
            largest.population,
        )
    finally:
        for inst in instances:
            inst.db.dispose()


def _is_sqlite(db: Database) -> bool:
    return db.engine.dialect.name == "sqlite"


def _diagnose_slow(
    db: Database,
    settings: Settings,
    results: dict[tuple[str, str], Timing],
    everything: bool,
    population: Population,
) -> None:
    slow = sorted(results, key=lambda key: results[key].p95, reverse=True)
    if everything:
        slow = [key for key in slow if key[1] in ("/fristen", "/fristen alle")]
    else:
        slow = [key for key in slow[:3] if results[key].p95 > THRESHOLD_MS]
    for user_id, command in slow:
        if command.startswith("/fall "):
            command = f"/fall {population.cases_of[user_id]}"
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


@contextmanager
def fresh_postgres(url: str, suffix: str = "") -> Iterator[str]:
    """A new database beside the one in `url`, dropped afterwards; yields its URL."""
    base = make_url(url)
    name = f"koopbot_bench_{os.getpid()}{suffix}"
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
    parser.add_argument(
        "--sizes",
        default="10000",
        help="comma-separated case counts, measured in turns (e.g. 10000,100000)",
    )
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--hours-per-case", type=int, default=6)
    parser.add_argument("--single-org", action="store_true", help="every case in one provider")
    parser.add_argument("--postgres", metavar="URL", help="also run on fresh PostgreSQL databases")
    parser.add_argument("--no-sqlite", action="store_true", help="only the PostgreSQL run")
    parser.add_argument("--explain", action="store_true", help="show the plans of /fristen")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    for key in [k for k in os.environ if k.startswith("KOOPBOT_")]:
        del os.environ[key]  # the bench's own settings, not the caller's
    print(f"koopbot listing bench, Python {sys.version.split()[0]}, sizes {sizes}")
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="koopbot-bench-") as tmp:
            print("\nSQLite:")
            instances = [
                build_instance(n, f"sqlite:///{Path(tmp) / f'bench{n}.db'}", Path(tmp), args)
                for n in sizes
            ]
            run_backend("SQLite", instances, args)
    if args.postgres:
        with tempfile.TemporaryDirectory(prefix="koopbot-bench-") as tmp, ExitStack() as stack:
            print("\nPostgreSQL:")
            instances = [
                build_instance(
                    n, stack.enter_context(fresh_postgres(args.postgres, f"_{n}")), Path(tmp), args
                )
                for n in sizes
            ]
            run_backend("PostgreSQL", instances, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
