"""Calendar feeds: render time for 1,000 and 10,000 events against icalendar's component tree
(the baseline, same events, same run), and requests per second for a cached feed (200 and 304)
against a bare aiohttp hello-world handler served by the same process.

The render figures are CPU time of this process (best of the runs): the machine may be shared.
"cold" starts with an empty event cache (the first render after start-up), "warm" re-renders
the same events (a render after a change that touched a few of them).

The server runs in a child process on 127.0.0.1 (one core); the load comes from `wrk`
(`apt-get install -y wrk`), otherwise from an aiohttp client in this process (then the client
may be the bottleneck of every figure, and the script says so). Each load run is bounded in
time, and the server process is stopped at the end. Server CPU per request is read from
/proc for the child.

    apt-get install -y wrk   # once; Debian's package
    .venv/bin/python bench/feeds.py [--seconds 3] [--connections 32] [--runs 5] [--skip-render]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import ClientSession, web

from config.enums import OrgKind, Role, SessionKind
from config.settings import Settings
from scheduler.clock import SystemClock
from scheduler.ics import FeedCalendar, FeedEvent, clear_event_cache, render
from scheduler.web import FeedServer, start
from storage.db import Database
from storage.feeds import FeedKind, issue_token
from storage.models.ag78 import AgSession
from storage.models.staff import Organisation, Staff
from tests.ics_reference import render_reference

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
REFRESH = timedelta(hours=1)


def events(n: int) -> list[FeedEvent]:
    start = datetime(2025, 1, 6, 9, 0, tzinfo=BERLIN)
    out = []
    for i in range(n):
        begins = start + timedelta(days=i % 1500, hours=i % 5)
        out.append(
            FeedEvent(
                uid=f"bench-{i}@koopbot",
                summary=f"HB-2025-{i % 1000:03d} Hilfeplangespräch",
                start=begins,
                end=begins + timedelta(hours=1),
                sequence=i % 3,
                last_modified=STAMP,
                location="Stadtteilbüro Mitte, Raum 2",
                description="Frist (C2/D3: 6 Wochen vor dem Gespräch)",
                categories=("Termin",),
            )
        )
    return out


def _cpu(cal: FeedCalendar, renderer: Callable[..., bytes]) -> float:
    t0 = time.process_time()
    renderer(cal, tz=BERLIN, refresh=REFRESH)
    return time.process_time() - t0


def bench_render(runs: int) -> None:
    print("render (CPU ms, best of runs; icalendar = the old component-tree renderer)")
    for n in (1_000, 10_000):
        cal = FeedCalendar(name="Bench", description="Bench, Termine", events=events(n))
        cold = []
        for _ in range(runs):
            clear_event_cache()
            cold.append(_cpu(cal, render))
        warm = [_cpu(cal, render) for _ in range(runs)]
        ref = [_cpu(cal, render_reference) for _ in range(runs if n <= 1_000 else 1)]
        size = len(render(cal, tz=BERLIN, refresh=REFRESH))
        print(
            f"  {n:>6} events: cold {min(cold) * 1000:7.1f} ms (median "
            f"{statistics.median(cold) * 1000:7.1f}), warm {min(warm) * 1000:6.1f} ms, "
            f"icalendar {min(ref) * 1000:8.1f} ms -> {min(ref) / min(cold):5.1f}x faster cold, "
            f"{size / 1024:5.0f} KiB"
        )


def prepare(data_dir: Path) -> tuple[str, str]:
    """A database with the AG 78 sessions of a few years and one member's feed token."""
    settings = Settings(data_dir=data_dir)
    db = Database(settings.effective_database_url)
    db.upgrade()
    now = datetime.now(UTC)
    with db.session() as session:
        org = Organisation(name="Jugendamt", kind=OrgKind.jugendamt)
        session.add(org)
        session.flush()
        assert org.id is not None
        person = Staff(
            organisation_id=org.id, name="Bench", handle="BE", role=Role.caseworker, created_at=now
        )
        session.add(person)
        session.flush()
        assert person.id is not None
        for i in range(40):  # ten years of quarterly sessions
            day = datetime(2023, 1 + 3 * (i % 4), 13, 9, tzinfo=BERLIN) + timedelta(
                days=365 * (i // 4)
            )
            session.add(
                AgSession(
                    uid=f"ag78-bench-{i}@koopbot",
                    kind=SessionKind.session,
                    title=f"Sitzung {i % 4 + 1}. Quartal",
                    starts_at=day,
                    ends_at=day + timedelta(hours=3),
                    place="Kreishaus, Sitzungssaal 2",
                    agenda="Berichte aus den Trägern; Soziale Gruppenarbeit (§ 29 SGB VIII)",
                    updated_at=now,
                )
            )
        token = issue_token(session, staff_id=person.id, kind=FeedKind.ag78, now=now)
    db.dispose()
    return settings.effective_database_url, token


def serve(db_url: str, port: int, hello_port: int, bare_port: int) -> None:
    """The child process: the feed server as deployed and, in the same event loop, two hello
    worlds: the usual aiohttp application (an app, a router, one route) and a bare
    low-level server (what the feed server is built on)."""
    settings = Settings(database_url=db_url)
    server = FeedServer(settings, Database(db_url), SystemClock(settings.tz))

    async def hello(_: web.BaseRequest) -> web.Response:
        return web.Response(text="Hello, world")

    async def main() -> None:
        await start(server, "127.0.0.1", port)
        app = web.Application()
        app.router.add_get("/hello", hello)
        for runner, at in (
            (web.AppRunner(app), hello_port),
            (web.ServerRunner(web.Server(hello)), bare_port),
        ):
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", at).start()
        await asyncio.Event().wait()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server did not answer {url}")


def load_wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> float:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m is None or bad is not None:
        raise SystemExit(f"wrk failed or saw errors:\n{out}")
    return float(m[1])


async def _load_aiohttp(url: str, seconds: int, connections: int, headers: dict[str, str]) -> float:
    done = 0
    stop = time.monotonic() + seconds
    async with ClientSession(auto_decompress=False) as client:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop:
                async with client.get(url, headers=headers) as resp:
                    await resp.read()
                    assert resp.status in (200, 304)
                done += 1

        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return done / (time.monotonic() - t0)


def _child_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(
    pid: int, url: str, seconds: int, connections: int, headers: dict[str, str]
) -> tuple[float, float]:
    """Requests/s and server CPU µs per request."""
    cpu = _child_cpu(pid)
    if shutil.which("wrk"):
        rate = load_wrk(url, seconds, connections, headers)
    else:
        rate = asyncio.run(_load_aiohttp(url, seconds, connections, headers))
    used = _child_cpu(pid) - cpu
    return rate, used / (rate * seconds) * 1e6


def bench_requests(seconds: int, connections: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_url, token = prepare(Path(tmp))
        port, hello_port, bare_port = free_port(), free_port(), free_port()
        child = multiprocessing.get_context("spawn").Process(
            target=serve, args=(db_url, port, hello_port, bare_port), daemon=True
        )
        child.start()
        assert child.pid is not None
        try:
            base = f"http://127.0.0.1:{port}"
            feed = f"{base}/feeds/{token}.ics"
            hello_url = f"http://127.0.0.1:{hello_port}/hello"
            wait_ready(hello_url)
            wait_ready(feed)  # rendered once; from here on it is served from memory
            with urllib.request.urlopen(feed) as resp:
                size, etag = len(resp.read()), resp.headers["ETag"]
            tool = "wrk" if shutil.which("wrk") else "aiohttp client (may limit every figure)"
            print(
                f"requests ({tool}, {connections} connections, {seconds} s per run, {runs} "
                f"rounds; best req/s, least CPU; feed: 40 AG 78 sessions, {size / 1024:.1f} KiB)"
            )
            gz = {"Accept-Encoding": "gzip"}
            cases = {
                "hello world": (hello_url, gz),
                "hello world (bare)": (f"http://127.0.0.1:{bare_port}/hello", gz),
                "cached 200 (gzip)": (feed, gz),
                "cached 200 (identity)": (feed, {}),
                "cached 304": (feed, {**gz, "If-None-Match": etag[:-1] + '-gzip"'}),
            }
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
            for _ in range(runs):  # interleaved: a busy moment of the machine hits a round alike
                for name, (url, headers) in cases.items():
                    results[name].append(load(child.pid, url, seconds, connections, headers))
            hello = results["hello world"]
            for name, figures in results.items():
                rate = max(r for r, _ in figures)
                cpu = min(c for _, c in figures)
                line = f"  {name:<22} {rate:8.0f} req/s  {cpu:6.0f} µs CPU/request"
                if name != "hello world":
                    by_rate = [r / h for (r, _), (h, _) in zip(figures, hello, strict=True)]
                    by_cpu = [h / c for (_, c), (_, h) in zip(figures, hello, strict=True)]
                    line += (
                        f"  ratio {statistics.median(by_rate):4.2f} "
                        f"({min(by_rate):4.2f}-{max(by_rate):4.2f}), by CPU "
                        f"{statistics.median(by_cpu):4.2f} ({min(by_cpu):4.2f}-{max(by_cpu):4.2f})"
                    )
                print(line)
            print(
                "  ratios: median (range) of the rounds, each against the hello world application "
                "of the same round; goals 200 >= 0.90, 304 >= 0.95"
            )
        finally:
            child.terminate()
            child.join(10)
            if child.is_alive():
                child.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-render", action="store_true")
    args = parser.parse_args()
    if not args.skip_render:
        bench_render(args.runs)
    bench_requests(args.seconds, args.connections, args.runs)


if __name__ == "__main__":
    main()
