"""On-call figures (issues 6, 15): /notfall reply time, the on-call sweep tick, page delivery.

Builds a temporary SQLite database with the demo organisation plus R extra rotations (each
with members, overrides and a confirmed swap), then measures with an injected clock:

- `/notfall` through the core (all rotations, overrides and swaps applied): median and p95;
- one tick of the on-call sweep (escalations, heads-up and handover reminders, handover checks,
  gap detection over `gap_days`): median and max;
- page to delivered: `/anpiepen` + dispatch through a recording messenger, at night.

Two scenarios: rotations that start today ("new"), and rotations that started ten years ago
with ten years of history: an override and a swap per rotation and month, a confirmed handover
for every past shift ("ten years").

Wall-clock figures and the process's CPU time: on a machine shared with other work the CPU
time shows what the code costs, the wall clock what a user waits.

`--baseline DIR` runs the same measurements on another checkout (e.g. main, unpacked with
`git archive main | tar -x -C /tmp/koopbot-main`) in a subprocess, so both figures come from one run
on the same machine. The script only uses what both versions have: chat commands, the sweep,
and the tables of issue 6.

    .venv/bin/python bench/rota.py [--rotations 50] [--runs 200] [--baseline /tmp/koopbot-main]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.reminder_render import GermanRenderer

CODE = Path(os.environ.get("KOOPBOT_BENCH_CODE") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(CODE))

from sqlalchemy import inspect, text  # noqa: E402

from bot.core import Bot  # noqa: E402
from bot.demo import demo_invites, load_demo  # noqa: E402
from bot.messages import Incoming, Sender  # noqa: E402
from config.settings import Settings  # noqa: E402
from scheduler.clock import FixedClock  # noqa: E402
from scheduler.dispatch import Dispatcher  # noqa: E402
from scheduler.rota_sweep import RotaSweeper  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.reminder_fakes import RecordingMessenger  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 4, 7, 10, tzinfo=BERLIN)
TEN_YEARS_AGO = date(2015, 4, 6)  # a Monday


def say(bot: Bot, user: str, text_: str) -> str:
    return bot.handle(Incoming(Sender("console", user), user, text_)).text


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def build(
    tmp: Path, rotations: int, since: date | None
) -> tuple[Settings, Database, Bot, FixedClock]:
    settings = Settings(data_dir=tmp)
    db = Database(settings.effective_database_url)
    db.upgrade()
    clock = FixedClock(NOW)
    bot = Bot(settings, db, clock)
    with db.session() as session:
        load_demo(session, settings, bot.calendar, clock.now())
        codes = {s.handle: c for s, c in demo_invites(session, settings, clock.now())}
    for handle, code in codes.items():
        say(bot, f"u-{handle}", f"/start {code}")
    start = "" if since is None else f" start={since:%d.%m.%Y}"
    for i in range(rotations):
        reply = say(
            bot,
            "u-MK",
            f'/rufbereitschaft_neu "Bereitschaft {i:03d}" mitglieder=JB,LW,TS '
            f"schicht={1 + i % 7} uebergabe=0{7 + i % 3}:00 zweite=naechste{start}",
        )
        assert "eingerichtet" in reply, reply
    for week in range(8):
        day = (clock.now() + timedelta(days=7 * week + 1)).strftime("%d.%m.")
        say(bot, "u-MK", f"/vertretung JB {day}-{day} durch=MK grund=krank")
    asked = say(bot, "u-JB", "/tausch 14.04. 21.04. rb=Weserufer")
    number = asked.split("/tausch_ok ")[1].split(")")[0]
    say(bot, "u-TS", f"/tausch_ok {number}")
    if since is not None:
        history(db, since)
    return settings, db, bot, clock


def history(db: Database, since: date) -> None:
    """Ten years of past overrides, swaps and handover confirmations, written in bulk."""
    with db.engine.begin() as conn:
        swap_columns = {c["name"] for c in inspect(conn).get_columns("oncall_swap")}
        staff = dict(conn.execute(text("SELECT handle, id FROM staff")).all())
        rows = conn.execute(
            text("SELECT id, shift_days, handover FROM rotation WHERE name LIKE 'Bereitschaft %'")
        ).all()
        members = [staff["JB"], staff["LW"], staff["TS"]]
        overrides: list[dict[str, Any]] = []
        swaps: list[dict[str, Any]] = []
        handovers: list[dict[str, Any]] = []
        months = (NOW.date() - since).days // 30
        for rotation_id, shift_days, handover in rows:
            at = clock_time.fromisoformat(str(handover)) if isinstance(handover, str) else handover
            shifts = (NOW.date() - since).days // shift_days
            for n in range(shifts - 1):
                start = datetime.combine(since + timedelta(days=n * shift_days), at, BERLIN)
                handovers.append(
                    {
                        "r": rotation_id,
                        "n": n,
                        "s": members[n % 3],
                        "c": start.astimezone(UTC).replace(tzinfo=None),
                    }
                )
            for m in range(months - 1):
                day = since + timedelta(days=30 * m + 3)
                start = datetime.combine(day, clock_time(0), BERLIN).astimezone(UTC)
                overrides.append(
                    {
                        "r": rotation_id,
                        "a": staff["JB"],
                        "b": staff["MK"],
                        "s": start.replace(tzinfo=None),
                        "e": (start + timedelta(days=1)).replace(tzinfo=None),
                        "c": start.replace(tzinfo=None),
                        "x": None if m % 4 else start.replace(tzinfo=None),
                        "by": staff["MK"],
                    }
                )
                n = (30 * m) // shift_days
                swaps.append(
                    {
                        "r": rotation_id,
                        "a": n,
                        "b": n + 1,
                        "ha": members[n % 3],
                        "hb": members[(n + 1) % 3],
                        "by": members[n % 3],
                        "t": start.replace(tzinfo=None),
                        "fs": start.replace(tzinfo=None),
                        "le": (start + timedelta(days=2 * shift_days)).replace(tzinfo=None),
                    }
                )
        conn.execute(
            text(
                "INSERT INTO oncall_handover (rotation_id, shift_number, staff_id, confirmed_at) "
                "VALUES (:r, :n, :s, :c)"
            ),
            handovers,
        )
        conn.execute(
            text(
                "INSERT INTO oncall_override (rotation_id, absent_staff_id, substitute_staff_id, "
                "starts_at, ends_at, reason, created_by, created_at, cancelled_at) "
                "VALUES (:r, :a, :b, :s, :e, 'krank', :by, :c, :x)"
            ),
            overrides,
        )
        spans = ", first_start, last_end" if "last_end" in swap_columns else ""
        values = ", :fs, :le" if spans else ""
        conn.execute(
            text(
                "INSERT INTO oncall_swap (rotation_id, shift_a, holder_a, holder_b, shift_b, "
                "requested_by, confirmed_a_at, confirmed_b_at, status, created_at, decided_at"
                f"{spans}) VALUES (:r, :a, :ha, :hb, :b, :by, :t, :t, 'confirmed', :t, :t{values})"
            ),
            swaps,
        )
    print(
        f"  history: {len(handovers)} confirmed handovers, {len(overrides)} overrides, "
        f"{len(swaps)} swaps since {since:%d.%m.%Y}",
        file=sys.stderr,
    )


def measure(rotations: int, runs: int, since: date | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings, db, bot, clock = build(Path(tmp), rotations, since)
        times, cpu = [], []
        reply = ""
        for _ in range(runs):
            start, busy = time.perf_counter(), time.process_time()
            reply = say(bot, "u-TB", "/notfall")
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - busy)
        assert reply.startswith("Notfallkontakt jetzt:"), reply
        assert reply.count("Bereitschaft 0") == rotations, reply
        sweeper = RotaSweeper(settings, db, clock, bot.calendar)
        ticks, tick_cpu = [], []
        for minute in range(30):
            clock.set(datetime(2025, 4, 7, 10, minute, tzinfo=BERLIN))
            start, busy = time.perf_counter(), time.process_time()
            sweeper.tick()
            ticks.append(time.perf_counter() - start)
            tick_cpu.append(time.process_time() - busy)
        messenger = RecordingMessenger(clock)
        dispatcher = Dispatcher(
            settings,
            db,
            clock,
            bot.calendar,
            {"console": messenger},
            GermanRenderer(settings, bot.calendar),
        )
        asyncio.run(dispatcher.dispatch())  # send what is queued before measuring
        clock.set(datetime(2025, 4, 8, 2, 0, tzinfo=BERLIN))
        delivered = []
        for _ in range(20):
            before = len(messenger.sent)
            start = time.perf_counter()
            say(bot, "u-TB", "/anpiepen Weserufer Bitte dringend zurückrufen")
            asyncio.run(dispatcher.dispatch())
            delivered.append(time.perf_counter() - start)
            assert len(messenger.sent) == before + 1
        db.dispose()
    ms = 1000.0
    return {
        "notfall_median": statistics.median(times) * ms,
        "notfall_p95": percentile(times, 0.95) * ms,
        "notfall_cpu_median": statistics.median(cpu) * ms,
        "notfall_cpu_p95": percentile(cpu, 0.95) * ms,
        "tick_first": ticks[0] * ms,
        "tick_median": statistics.median(ticks[1:]) * ms,
        "tick_max": max(ticks[1:]) * ms,
        "tick_cpu_median": statistics.median(tick_cpu[1:]) * ms,
        "tick_cpu_max": max(tick_cpu[1:]) * ms,
        "page_median": statistics.median(delivered) * ms,
        "page_max": max(delivered) * ms,
    }


def run_here(rotations: int, runs: int) -> dict[str, dict[str, float]]:
    return {
        "new": measure(rotations, runs, None),
        "ten years": measure(rotations, runs, TEN_YEARS_AGO),
    }


def report(label: str, results: dict[str, dict[str, float]], rotations: int, runs: int) -> None:
    print(f"{label} ({CODE if label == 'this checkout' else label}):")
    for scenario, r in results.items():
        print(f"  {scenario}: {rotations + 1} rotations, 8 overrides, 1 swap")
        print(
            f"    /notfall: median {r['notfall_median']:.1f} ms, p95 {r['notfall_p95']:.1f} ms "
            f"over {runs} runs (CPU time: median {r['notfall_cpu_median']:.1f} ms, "
            f"p95 {r['notfall_cpu_p95']:.1f} ms)"
        )
        print(
            f"    on-call tick: median {r['tick_median']:.1f} ms, max {r['tick_max']:.1f} ms "
            f"over 29 ticks (CPU time: median {r['tick_cpu_median']:.1f} ms, max "
            f"{r['tick_cpu_max']:.1f} ms; first tick, writing the outbox rows: "
            f"{r['tick_first']:.1f} ms)"
        )
        print(
            f"    page to delivered (command + one dispatch, at night): median "
            f"{r['page_median']:.1f} ms, max {r['page_max']:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rotations", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--baseline", type=Path, help="another checkout to measure the same way")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    results = run_here(args.rotations, args.runs)
    if args.json:
        print(json.dumps(results))
        return
    report("this checkout", results, args.rotations, args.runs)
    if args.baseline is not None:
        env = {**os.environ, "KOOPBOT_BENCH_CODE": str(args.baseline.resolve())}
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--json",
                f"--rotations={args.rotations}",
                f"--runs={args.runs}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        report(f"baseline {args.baseline}", json.loads(done.stdout), args.rotations, args.runs)


if __name__ == "__main__":
    main()
