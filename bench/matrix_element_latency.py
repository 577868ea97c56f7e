"""Matrix round trip as an Element user sees it: matrix-js-sdk with Rust crypto, insecure
devices excluded (Element's default since MSC4153) -> Synapse -> koopbot -> Synapse -> client.

Starts a real Synapse on 127.0.0.1 (from `.venv-synapse` or `$KOOPBOT_SYNAPSE_PYTHON`), runs
koopbot's Matrix adapter in this process (its cross-signed identity created on start) on a
fresh SQLite database with the demo organisation, registers a caseworker from the
Element-grade client (`tests/e2e/matrix/element`, Node 22; `bash .ci/run` installs it) in an
encrypted direct chat, then times N commands one at a time. The round trip is measured inside
the client, from sending to the answer being decrypted; every answer must be trusted
(decrypted, no shield). Prints p50/p95 of the round trip and of koopbot's own share (the time
in Bot.handle). Synapse and the client are stopped at the end, also on failure.

    .venv/bin/python bench/matrix_element_latency.py [--commands 100]
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
sys.path.insert(0, str(ROOT / "tests" / "e2e" / "matrix" / "element"))

from element_client import ElementClient  # noqa: E402
from people import RunningBot  # noqa: E402
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
    element = ElementClient(tmp / "element.log")
    try:
        started = time.perf_counter()
        await running.start()
        bot_start = time.perf_counter() - started
        await element.start()
        started = time.perf_counter()
        await element.login(synapse.url, human.user_id, human.password)
        login = time.perf_counter() - started
        room = await element.create_dm(koop.user_id)
        welcome, first = await element.timed_ask(room, f"/start {codes['MK']}", koop.user_id)
        assert welcome.trusted, welcome
        running.adapter.stats.handle_seconds.clear()
        round_trips: list[float] = []
        for i in range(n):
            answer, ms = await element.timed_ask(room, COMMANDS[i % len(COMMANDS)], koop.user_id)
            assert answer.trusted, answer
            round_trips.append(ms / 1000)
        inside = running.adapter.stats.handle_seconds
        share = statistics.fmean(inside) / statistics.fmean(round_trips)
        ms_ = 1000.0
        print(
            f"Matrix round trip with an Element-grade client (matrix-js-sdk, Rust crypto, "
            f"insecure devices excluded), encrypted direct chat, {n} commands "
            f"({', '.join(COMMANDS)}); all {n} answers decrypted, no shield:"
        )
        print(f"  koopbot start incl. cross-signing set-up:  {bot_start * ms_:7.1f} ms")
        print(f"  client login incl. its own cross-signing:  {login * ms_:7.1f} ms")
        print(f"  first message (key sharing, registration): {first:7.1f} ms")
        print(
            f"  round trip   p50 {pct(round_trips, 0.5) * ms_:7.1f} ms   "
            f"p95 {pct(round_trips, 0.95) * ms_:7.1f} ms   "
            f"mean {statistics.fmean(round_trips) * ms_:7.1f} ms"
        )
        print(
            f"  Bot.handle   p50 {pct(inside, 0.5) * ms_:7.1f} ms   "
            f"p95 {pct(inside, 0.95) * ms_:7.1f} ms   share of the mean round trip {share:.1%}"
        )
    finally:
        await element.stop()
        await running.stop()
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=100)
    args = parser.parse_args()
    logging.getLogger("nio").setLevel(logging.ERROR)  # key-sharing chatter, not figures
    with tempfile.TemporaryDirectory(prefix="koopbot-element-bench-") as tmp:
        synapse = Synapse(Path(tmp) / "synapse")
        try:
            synapse.start()
            asyncio.run(measure(Path(tmp), synapse, args.commands))
        finally:
            synapse.stop()


if __name__ == "__main__":
    main()
