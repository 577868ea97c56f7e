"""What the metrics cost (issue 16): per recording call, per web request, per tick, per scrape.

    .venv/bin/python bench/ops.py [--rows 0,10000,100000]

- the one-line recording calls (`record_send`, `observe_tick`, `record_command`, the web
  server's request counter), in µs per call (timeit, best of 5);
- a cached feed request (200) through FeedServer.dispatch with and without the counter,
  in µs of server CPU per request (the same aiohttp low-level server as deployed);
- a scrape of /metrics and of /readyz over HTTP with that many pending rows in the outbox
  (SQLite), in ms (median of 20), and a sweep tick for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import timeit
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import ClientSession, web

from bot.core import build_calendar
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.engine import Sweeper
from scheduler.metrics import Metrics
from scheduler.web import FeedServer, start
from storage.db import Database
from tests.reminder_population import add_people_with_deadlines

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2025, 4, 8, 8, 5, tzinfo=BERLIN)  # a Tuesday, sending window open


def per_call_us(stmt: object, number: int = 100_000) -> float:
    assert callable(stmt)
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6


def recording_calls() -> None:
    m = Metrics()
    print("recording calls (µs per call, best of 5 × 100,000):")
    print(
        f"  record_send              {per_call_us(lambda: m.record_send('telegram', 'sent')):.2f}"
    )
    print(f"  observe_tick             {per_call_us(lambda: m.observe_tick('sweep', 0.01)):.2f}")
    cmd = m.commands
    print(
        f"  record_command           {per_call_us(lambda: cmd.labels('fristen', 'ok').inc()):.2f}"
    )
    print(
        f"  web request counter      {per_call_us(lambda: m.record_request('/healthz', 200)):.2f}"
    )


async def _time_requests(base: str, path: str, n: int) -> list[float]:
    out = []
    async with ClientSession() as http:
        for _ in range(n):
            t0 = time.perf_counter()
            async with http.get(base + path) as resp:
                await resp.read()
                assert resp.status == 200, (path, resp.status)
            out.append((time.perf_counter() - t0) * 1000)
    return out


async def web_request_cpu(settings: Settings, db: Database, clock: FixedClock) -> None:
    """CPU per request (client and server in this process) on the 404 path, which needs no
    database, so the counter's share is as visible as it can be."""
    server = FeedServer(settings, db, clock, metrics=Metrics())

    class Bare(FeedServer):
        async def dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
            return await self._route(request)

    bare = Bare(settings, db, clock, metrics=Metrics())
    request_count = 2000
    cpu: dict[str, list[float]] = {"without counter": [], "with counter": []}
    for _ in range(4):  # alternating rounds: the machine's load drifts
        for label, srv in (("without counter", bare), ("with counter", server)):
            runner = await start(srv, "127.0.0.1", 0)
            port = runner.addresses[0][1]
            async with ClientSession() as http:
                t0 = time.process_time()
                for _ in range(request_count):
                    async with http.get(f"http://127.0.0.1:{port}/nothing-here") as resp:
                        await resp.read()
                cpu[label].append((time.process_time() - t0) / request_count * 1e6)
            await runner.cleanup()
    for label, values in cpu.items():
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(
            f"  404 request, client+server CPU, {label:16s} median {statistics.median(values):.0f} µs ({shown})"
        )


async def scrapes(rows: int, tmp: Path) -> None:
    settings = Settings(data_dir=tmp / f"d{rows}")
    db = Database(settings.effective_database_url)
    db.upgrade()
    clock = FixedClock(START)
    if rows:
        add_people_with_deadlines(
            db, list(range(1, rows + 1)), date(2025, 4, 8), START - timedelta(days=1)
        )
    sweeper = Sweeper(settings, db, clock, build_calendar(settings))
    sweeper.sweep()
    metrics = Metrics()
    runner = await start(FeedServer(settings, db, clock, metrics=metrics), "127.0.0.1", 0)
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        m = await _time_requests(base, "/metrics", 20)
        r = await _time_requests(base, "/readyz", 20)
        h = await _time_requests(base, "/healthz", 20)
    finally:
        await runner.cleanup()
    t0 = time.perf_counter()
    clock.advance(timedelta(minutes=1))
    sweeper.sweep()
    sweep_ms = (time.perf_counter() - t0) * 1000
    print(
        f"  {rows:>7} pending rows: /metrics {statistics.median(m):6.1f} ms, "
        f"/readyz {statistics.median(r):6.1f} ms, /healthz {statistics.median(h):5.1f} ms "
        f"(a sweep tick: {sweep_ms:.1f} ms)"
    )
    db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="0,10000,100000")
    args = parser.parse_args()
    recording_calls()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        settings = Settings(data_dir=tmp / "web")
        db = Database(settings.effective_database_url)
        db.upgrade()
        print("web requests:")
        await web_request_cpu(settings, db, FixedClock(START))
        db.dispose()
        print("scrapes over HTTP (median of 20), SQLite:")
        for rows in (int(r) for r in args.rows.split(",")):
            await scrapes(rows, tmp)


if __name__ == "__main__":
    asyncio.run(main())
