"""Reply time of the listing commands as the database grows (issue 18).

A city's case load (bench/agency.py): many providers and ASD offices, the demo organisation
among them. The people measured see a fixed number of cases however large the database is: a
provider caseworker (30 cases), the provider's coordinator (1,000), the ASD office's lead
(2,000) and an ASD caseworker (60). The cases come in through `koopbot import cases`'s code
(chains as for /fall_neu; what fell due more than two weeks ago recorded as done), hours are
bulk-inserted; then bot.core.Bot.handle is timed. SQLite in a temporary directory; with
--postgres URL also on a fresh PostgreSQL database created next to URL's and dropped after.
`--single-org` puts every case into the demo organisation (its coordinators see them all).

    .venv/bin/python bench/fristen.py [--cases 10000] [--calls 50] [--explain]
    .venv/bin/python bench/fristen.py --cases 100000 --postgres postgresql+psycopg://root@127.0.0.1:5432/test
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
from config.settings import Settings
from scheduler.clock import SystemClock
from storage.cases import side_of, visible_cases_clause
from storage.db import Database
from storage.enums import DeadlineStatus, HoursCategory
from storage.models import Case, Deadline, HoursEntry, Staff
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
        population.import_seconds = time.perf_counter() - began
        entries = []
        for case_id, staff_id, org_id in session.exec(
            select(Case.id, Case.provider_staff_id, Case.provider_org_id)
        ):
            for _ in range(hours_per_case):
                entries.append(
                    {
                        "staff_id": staff_id,
                        "organisation_id": org_id,
                        "day": today - timedelta(days=rng.randint(0, 80)),
                        "minutes": 30 * rng.randint(1, 6),
                        "category": HoursCategory.direct,
                        "case_id": case_id,
                        "participants": None,
                        "missed_reason": None,
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


def commands_of(user_id: str, population: Population) -> list[str]:
    label = population.users[user_id]
    out = ["/fristen", "/fristen alle", "/faelle", f"/fall {population.cases_of[user_id]}"]
    if label.startswith("caseworker (provider"):
        out += ["/meinestunden monat", "/quartal"]
    elif not label.startswith("coordinator"):  # the provider's /quartal: bench/controlling.py
        out.append("/quartal")
    return out


def report(
    label: str, db: Database, settings: Settings, population: Population, calls: int
) -> dict[tuple[str, str], Timing]:
    bot = Bot(settings, db, SystemClock(settings.tz))
    print(f"\n{label}: via Bot.handle, {calls} calls each after one cold call")
    print(f"  {'who':<34}{'command':<22}{'first':>8}{'median':>9}{'p95':>9}{'max':>9}")
    results = {}
    for user_id, who in population.users.items():
        for command in commands_of(user_id, population):
            timing = measure(bot, user_id, command, calls)
            results[(user_id, command)] = timing
            shown = command if not command.startswith("/fall ") else "/fall CODE"
            print(
                f"  {who:<34}{shown:<22}{timing.first_ms:7.1f} {timing.median:8.1f} "
                f"{timing.p95:8.1f} {max(timing.samples_ms):8.1f}  ms"
            )
    for user_id, who in population.users.items():
        head = results[(user_id, "/fristen")].reply.splitlines()[0]
        print(f"  /fristen heading for {who}: {head}")
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


def run_backend(
    label: str, url: str, data_dir: Path, args: argparse.Namespace
) -> dict[tuple[str, str], Timing]:
    settings = Settings(data_dir=data_dir, database_url=url)
    db = Database(url)
    shape = Shape(cases=args.cases, single_org=args.single_org)
    try:
        began = time.perf_counter()
        db.upgrade()
        population = populate(db, settings, shape, args.hours_per_case)
        setup = time.perf_counter() - began
        print(
            f"\n{label}: setup {setup:.1f} s for {population.cases} cases "
            f"(imported in {population.import_seconds:.1f} s, "
            f"{population.cases / population.import_seconds:.0f} cases/s), "
            f"{population.deadlines} deadlines ({population.open_deadlines} open), "
            f"{population.hours} hours entries"
        )
        results = report(f"{label}, fresh", db, settings, population, args.calls)
        refresh_statistics(db)
        results = report(
            f"{label}, after {'ANALYZE' if _is_sqlite(db) else 'VACUUM ANALYZE'}",
            db,
            settings,
            population,
            args.calls,
        )
        _diagnose_slow(db, settings, results, args.explain)
        return results
    finally:
        db.dispose()


def _is_sqlite(db: Database) -> bool:
    return db.engine.dialect.name == "sqlite"


def _diagnose_slow(
    db: Database, settings: Settings, results: dict[tuple[str, str], Timing], everything: bool
) -> None:
    slow = sorted(results, key=lambda key: results[key].p95, reverse=True)
    if everything:
        slow = [key for key in slow if key[1] in ("/fristen", "/fristen alle")]
    else:
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
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--hours-per-case", type=int, default=6)
    parser.add_argument("--single-org", action="store_true", help="every case in one provider")
    parser.add_argument("--postgres", metavar="URL", help="also run on a fresh PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true", help="only the PostgreSQL run")
    parser.add_argument("--explain", action="store_true", help="show the plans of /fristen")
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
    print(f"koopbot listing bench, Python {sys.version.split()[0]}, {args.cases} cases")
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
