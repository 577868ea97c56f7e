"""Sweep time per tick with many open deadlines, on SQLite and PostgreSQL.

    .venv/bin/python bench/reminder_sweep.py [--backend sqlite|postgresql|both] [--n 100000 1000000]

Builds a fresh database per run (an SQLite file in a temporary directory; a new PostgreSQL
database at 127.0.0.1:5432, dropped afterwards), bulk-inserts open deadlines due over the next
two years (5 % overdue), already planned as the running engine leaves them, and times:
idle ticks (nothing due: the common minute), then a simulated day with an injected clock: a
tick every `reminders.sweep_seconds` from Tuesday 10:30 to Wednesday 08:30, across the evening
and night in which Wednesday's 08:00 reminders are planned ahead (`plan_ahead_hours`, at most
`max_rows_per_tick` per tick) and the 08:00 tick itself; it prints the max and p99 tick time.
"""

from __future__ import annotations

import argparse
import gc
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
        gc.collect()
        gc.freeze()  # as `koopbot scheduler` does after start-up (scheduler/service.py)
        idle = [tick(sweeper, clock, NOW + timedelta(minutes=m))[0] for m in range(1, 31)]
        step = timedelta(seconds=settings.reminders.sweep_seconds)
        at, end = NOW + timedelta(minutes=30) + step, datetime(2025, 4, 9, 8, 30, tzinfo=BERLIN)
        day: list[tuple[float, int, int, datetime]] = []
        while at <= end:
            day.append((*tick(sweeper, clock, at), at))
            at += step
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
    idle_sorted = sorted(idle)
    ms = sorted(t for t, *_ in day)
    slowest = max(day, key=lambda d: d[0])
    # The process's first planning tick compiles the planning statements once (~20 ms more).
    first = next((i for i, d in enumerate(day) if d[1]), len(day))
    steady = max((d[0] for d in day[first + 1 :]), default=0.0)
    burst = next(d for d in day if d[3] == datetime(2025, 4, 9, 8, 0, tzinfo=BERLIN))
    r = settings.reminders
    print(
        f"{backend:10s} {n:>9,d} deadlines: setup {setup:5.1f} s | idle tick median "
        f"{statistics.median(idle_sorted):6.2f} ms, max {idle_sorted[-1]:6.2f} ms"
    )
    print(
        f"{'':10s} simulated day ({len(day):,d} ticks of {r.sweep_seconds} s, plan ahead "
        f"{r.plan_ahead_hours} h, <= {r.max_rows_per_tick} rows/tick): "
        f"p50 {statistics.median(ms):6.2f} ms, p99 {ms[int(len(ms) * 0.99)]:6.2f} ms, "
        f"max {slowest[0]:6.2f} ms (at {slowest[3].astimezone(BERLIN):%a %H:%M}), "
        f"max after the first planning tick {steady:6.2f} ms | "
        f"{sum(d[1] for d in day):,d} rows planned, {sum(d[2] for d in day):,d} reminders "
        f"written | 08:00 tick {burst[0]:6.2f} ms for {burst[1]:,d} rows"
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
