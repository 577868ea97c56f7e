"""Sweep time per tick with many open deadlines, on SQLite and PostgreSQL.

    .venv/bin/python bench/reminder_sweep.py [--backend sqlite|postgresql|both] [--n 100000 1000000]

Builds a fresh database per run (an SQLite file in a temporary directory; a new PostgreSQL
database at 127.0.0.1:5432, dropped afterwards), bulk-inserts open deadlines due over the next
two years (5 % overdue), already planned as the running engine leaves them, and times:
idle ticks (nothing due: the common minute), and the 08:00 tick that writes the day's reminders.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core import build_calendar
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.engine import Sweeper, policy_for
from scheduler.reminders import deadline_stages, plan
from storage.db import Database

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 4, 8, 10, 0, tzinfo=BERLIN)  # Tuesday, after the 08:00 tick
ORGS = 1000
PG_ADMIN = "postgresql+psycopg://root@127.0.0.1:5432/postgres"


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"koopbot_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def populate(db: Database, settings: Settings, n: int, now: datetime = NOW) -> float:
    """n open deadlines, planned (reminder_at = their next stage); returns seconds taken."""
    started = time.perf_counter()
    policy, cal = policy_for(settings), build_calendar(settings)
    today = now.date()
    next_at: dict[date, datetime | None] = {}
    for offset in range(-37, 740):
        due = today + timedelta(days=offset)
        next_at[due] = plan(deadline_stages(policy, cal, due), since=now, now=now)[1]
    created = now.astimezone(UTC) - timedelta(days=60)
    orgs = [(i + 1, f"Träger {i}", "provider") for i in range(ORGS)]
    staff = [
        (i + 1, i + 1, f"Koordination {i}", f"K{i}", "coordinator", True, created)
        for i in range(ORGS)
    ]

    def rows() -> Iterator[tuple[object, ...]]:
        for i in range(n):
            offset = (i * 7919) % 767 - 37 if i % 20 else -((i // 20) % 37) - 1  # 5 % overdue
            due = today + timedelta(days=offset)
            at = next_at[due]
            yield (
                f"bench:{i}",
                i % ORGS + 1,
                "annual_report",
                "bench",
                due,
                "open",
                created,
                0,
                None if at is None else at.astimezone(UTC),
            )

    cols = "key, organisation_id, kind, rule, due, status, updated_at, sequence, reminder_at"
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if db.engine.dialect.name == "sqlite":
            cur.executemany("INSERT INTO organisation (id, name, kind) VALUES (?, ?, ?)", orgs)
            cur.executemany(
                "INSERT INTO staff (id, organisation_id, name, handle, role, active, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*s[:6], s[6].strftime("%Y-%m-%d %H:%M:%S.%f")) for s in staff],
            )
            fmt = "%Y-%m-%d %H:%M:%S.%f"
            cur.executemany(
                f"INSERT INTO deadline ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        *r[:4],
                        r[4].isoformat(),
                        r[5],
                        r[6].astimezone(UTC).strftime(fmt),
                        r[7],  # type: ignore[attr-defined]
                        None if r[8] is None else r[8].strftime(fmt),
                    )  # type: ignore[attr-defined]
                    for r in rows()
                ),
            )
        else:
            with cur.copy("COPY organisation (id, name, kind) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for o in orgs:
                    copy.write_row(o)
            with cur.copy(  # type: ignore[attr-defined]
                "COPY staff (id, organisation_id, name, handle, role, active, created_at) FROM STDIN"
            ) as copy:
                for s in staff:
                    copy.write_row(s)
            with cur.copy(f"COPY deadline ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for r in rows():
                    copy.write_row(r)
            cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def tick(sweeper: Sweeper, clock: FixedClock, at: datetime) -> tuple[float, int, int]:
    clock.set(at)
    started = time.perf_counter()
    stats = sweeper.sweep()
    return (time.perf_counter() - started) * 1000, stats.items, stats.written


def run(backend: str, n: int) -> None:
    with database(backend) as url:
        settings = Settings(database_url=url, data_dir=Path(tempfile.gettempdir()))
        db = Database(url)
        db.upgrade()
        setup = populate(db, settings, n)
        clock = FixedClock(NOW)
        sweeper = Sweeper(settings, db, clock, build_calendar(settings))
        tick(sweeper, clock, NOW)  # warm up connections and the calendar
        idle = [tick(sweeper, clock, NOW + timedelta(minutes=m))[0] for m in range(1, 31)]
        morning_ms, items, written = tick(sweeper, clock, datetime(2025, 4, 9, 8, 0, tzinfo=BERLIN))
        after = [
            tick(sweeper, clock, datetime(2025, 4, 9, 8, m, tzinfo=BERLIN))[0] for m in range(1, 21)
        ]
        plan_sql = (
            "EXPLAIN QUERY PLAN SELECT id FROM deadline WHERE reminder_at <= '2025-04-09' "
            "ORDER BY reminder_at LIMIT 500"
            if backend == "sqlite"
            else "EXPLAIN SELECT id FROM deadline WHERE reminder_at <= '2025-04-09' "
            "ORDER BY reminder_at LIMIT 500"
        )
        with db.engine.connect() as conn:
            query_plan = " | ".join(str(r[-1]) for r in conn.execute(text(plan_sql)))
        db.dispose()
    idle_sorted = sorted(idle + after)
    print(
        f"{backend:10s} {n:>9,d} deadlines: setup {setup:5.1f} s | idle tick median "
        f"{statistics.median(idle_sorted):6.2f} ms, p95 {idle_sorted[int(len(idle_sorted) * 0.95)]:6.2f} ms, "
        f"max {idle_sorted[-1]:6.2f} ms | 08:00 tick {morning_ms:8.1f} ms for {items:,d} due rows "
        f"({written:,d} reminders, {items / max(morning_ms, 1e-9) * 1000:,.0f} rows/s)"
    )
    print(f"{'':10s} plan: {query_plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for n in args.n:
        for backend in backends:
            run(backend, n)


if __name__ == "__main__":
    main()
