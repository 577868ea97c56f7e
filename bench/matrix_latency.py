"""Matrix round trip: a caseworker's nio client -> Synapse -> koopbot -> Synapse -> client.

Starts a real Synapse (from `.venv-synapse`, or `$KOOPBOT_SYNAPSE_PYTHON`) in a temporary
directory on 127.0.0.1, runs koopbot's Matrix adapter in this process on a fresh SQLite
database with the demo organisation, registers a caseworker in an end-to-end encrypted direct
chat, then times N commands (one at a time, each waiting for its answer). Prints p50/p95 of
the round trip and of the time spent inside Bot.handle (koopbot's own share). Synapse is
stopped at the end, also on failure.

    .venv/bin/python bench/matrix_latency.py [--commands 100]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e" / "matrix"))

from people import Person, RunningBot  # noqa: E402
from synapse_server import Synapse  # noqa: E402

from bot.core import Bot  # noqa: E402
from bot.demo import demo_invites, load_demo  # noqa: E402
from bot.matrix import MatrixAdapter  # noqa: E402
from config.messengers import MatrixSettings  # noqa: E402
from config.settings import Settings  # noqa: E402
from scheduler.clock import FixedClock  # noqa: E402
from storage.db import Database  # noqa: E402

COMMANDS = ["!notfall", "!ag78", "!fristen", "!meinestunden", "!faelle"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(tmp: Path, synapse: Synapse, n: int) -> None:
    settings = Settings(data_dir=tmp / "data")
    db = Database(settings.effective_database_url)
    db.upgrade()
    clock = FixedClock(datetime(2025, 4, 7, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    bot = Bot(settings, db, clock)
    with db.session() as session:
        load_demo(session, settings, bot.calendar, clock.now())
        codes = {p.handle: c for p, c in demo_invites(session, settings, clock.now())}
    koop = synapse.register("koopbot")
    human = synapse.register("mara")
    for account in (koop, human):
        synapse.exempt_from_rate_limit(account.user_id)
    config = MatrixSettings.model_validate(
        {"homeserver": synapse.url, "user_id": koop.user_id, "password": koop.password}
    )
    running = RunningBot(MatrixAdapter(config, bot, tmp / "koopbot-matrix"))
    person = Person(synapse.url, human, tmp / "mara")
    try:
        await running.start()
        await person.start()
        room = await person.create_room(invite=[koop.user_id], direct=True)
        await person.wait_joined(room, koop.user_id)
        started = time.perf_counter()
        await person.ask(room, f"/start {codes['MK']}", koop.user_id)
        first = time.perf_counter() - started
        running.adapter.stats.handle_seconds.clear()
        running.adapter.stats.store_seconds.clear()
        round_trips: list[float] = []
        for i in range(n):
            started = time.perf_counter()
            answer = await person.ask(room, COMMANDS[i % len(COMMANDS)], koop.user_id)
            round_trips.append(time.perf_counter() - started)
            assert answer.encrypted
        inside = running.adapter.stats.handle_seconds
        store = running.adapter.stats.store_seconds  # exactly-once bookkeeping (issue 10)
        ms = 1000.0
        print(f"Matrix round trip, encrypted direct chat, {n} commands ({', '.join(COMMANDS)}):")
        print(f"  first message (key sharing, registration): {first * ms:7.1f} ms")
        print(
            f"  round trip   p50 {pct(round_trips, 0.5) * ms:7.1f} ms   "
            f"p95 {pct(round_trips, 0.95) * ms:7.1f} ms   "
            f"mean {statistics.fmean(round_trips) * ms:7.1f} ms"
        )
        print(
            f"  Bot.handle   p50 {pct(inside, 0.5) * ms:7.1f} ms   "
            f"p95 {pct(inside, 0.95) * ms:7.1f} ms   "
            f"share of the mean round trip {statistics.fmean(inside) / statistics.fmean(round_trips):.1%}"
        )
        if store:
            print(
                f"  bookkeeping  {len(store) / n:.1f} transactions per command, "
                f"p50 {pct(store, 0.5) * ms:7.1f} ms   p95 {pct(store, 0.95) * ms:7.1f} ms   "
                f"per command {sum(store) / n * ms:7.1f} ms"
            )
    finally:
        await person.stop()
        await running.stop()
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=100)
    args = parser.parse_args()
    logging.getLogger("nio").setLevel(logging.ERROR)  # key-sharing chatter, not figures
    with tempfile.TemporaryDirectory(prefix="koopbot-matrix-bench-") as tmp:
        synapse = Synapse(Path(tmp) / "synapse")
        try:
            synapse.start()
            asyncio.run(measure(Path(tmp), synapse, args.commands))
        finally:
            synapse.stop()


if __name__ == "__main__":
    main()
