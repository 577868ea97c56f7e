"""Calendar feeds: render time for 1,000 and 10,000 events, and requests per second for a
cached feed against a bare aiohttp hello-world handler served by the same process.

The server runs in a child process on 127.0.0.1 (one core); the load comes from `wrk` when it
is installed (`apt-get install -y wrk`), otherwise from an aiohttp client in this process (then
the client may be the bottleneck of both figures, and the script says so). Every load loop is
bounded in time and the server process is stopped at the end.

    .venv/bin/python bench/feeds.py [--seconds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, web

from config.settings import Settings
from scheduler.clock import SystemClock
from scheduler.ics import FeedCalendar, FeedEvent, render
from scheduler.web import FeedServer
from storage.db import Database
from storage.enums import OrgKind, Role, SessionKind
from storage.feeds import FeedKind, issue_token
from storage.models import AgSession, Organisation, Staff

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2025, 1, 2, 8, 0, tzinfo=UTC)


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


def bench_render() -> None:
    for n in (1_000, 10_000):
        cal = FeedCalendar(name="Bench", description="Bench", events=events(n))
        times = []
        size = 0
        for _ in range(3):
            t0 = time.perf_counter()
            size = len(render(cal, tz=BERLIN, refresh=timedelta(hours=1)))
            times.append(time.perf_counter() - t0)
        print(
            f"render {n:>6} events: best {min(times) * 1000:8.1f} ms, "
            f"median {statistics.median(times) * 1000:8.1f} ms, {size / 1024:7.0f} KiB"
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


def serve(db_url: str, port: int) -> None:
    """The child process: the real feed app plus a hello-world route, one event loop."""
    settings = Settings(database_url=db_url)
    db = Database(db_url)
    app = FeedServer(settings, db, SystemClock(settings.tz)).app()

    async def hello(_: web.Request) -> web.Response:
        return web.Response(text="Hello, world")

    app.router.add_get("/hello", hello)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


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


def load_wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m is None or non2xx is not None:
        raise SystemExit(f"wrk failed or saw errors:\n{out}")
    return float(m[1])


async def _load_aiohttp(url: str, seconds: int, connections: int) -> float:
    done = 0
    stop = time.monotonic() + seconds
    async with ClientSession() as client:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop:
                async with client.get(url) as resp:
                    await resp.read()
                    assert resp.status == 200
                done += 1

        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return done / (time.monotonic() - t0)


def load(url: str, seconds: int, connections: int) -> float:
    if shutil.which("wrk"):
        return load_wrk(url, seconds, connections)
    return asyncio.run(_load_aiohttp(url, seconds, connections))


def bench_requests(seconds: int, connections: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_url, token = prepare(Path(tmp))
        port = free_port()
        child = multiprocessing.get_context("spawn").Process(
            target=serve, args=(db_url, port), daemon=True
        )
        child.start()
        try:
            base = f"http://127.0.0.1:{port}"
            feed = f"{base}/feeds/{token}.ics"
            wait_ready(f"{base}/hello")
            wait_ready(feed)  # rendered once; from here on it is served from the cache
            with urllib.request.urlopen(feed) as resp:
                size = len(resp.read())
            tool = "wrk" if shutil.which("wrk") else "aiohttp client (may limit both figures)"
            print(f"load: {tool}, {connections} connections, {seconds} s per run, 2 runs each")
            hello = max(load(f"{base}/hello", seconds, connections) for _ in range(2))
            cached = max(load(feed, seconds, connections) for _ in range(2))
            print(f"hello world : {hello:9.0f} req/s")
            print(f"cached feed : {cached:9.0f} req/s ({size / 1024:.1f} KiB, 40 events)")
            print(f"ratio       : {cached / hello:9.2f} (goal >= 0.80)")
        finally:
            child.terminate()
            child.join(10)
            if child.is_alive():
                child.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    bench_render()
    bench_requests(args.seconds, args.connections)


if __name__ == "__main__":
    main()
