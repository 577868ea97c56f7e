"""SIGKILLs at random moments while schedulers sweep and send (issue 11).

    .venv/bin/python bench/reminder_crash.py [--kills 50] [--n 2000] [--backends sqlite,postgresql]
    .venv/bin/python bench/reminder_crash.py --matrix [--kills 20] [--people 8] [--per-person 30]

n people each have one deadline due today (not swept yet: the first workers sweep too); a
worker process (tests/reminder_worker.py) is started and killed with SIGKILL after a random
0.05-0.6 s, `kills` times, then one runs to the end. Right after each kill the reminders the
server accepted but the database has not marked sent are counted: the sends in flight, the
most that can go out twice. Prints lost reminders, duplicates and that count per backend.

`--matrix`: the same over Matrix on a real Synapse (KOOPBOT_SYNAPSE_PYTHON), a worker sending
through the Matrix messenger (tests/matrix_reminder_worker.py), killed while a row is claimed
for sending and restarted on the same device (tests/e2e/matrix/matrix_crash.py); prints lost
reminders, duplicates (each reminder counted in what its person's client received) and the
rows caught in a kill and sent again under their transaction id.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from bench.reminder_common import finish_worker, pg_database, start_worker
from storage import outbox
from storage.db import Database
from tests.reminder_population import add_people_with_deadlines
from tests.telegram_api import RateLimits, TelegramTestServer

START = datetime(2025, 4, 8, 8, 5, tzinfo=ZoneInfo("Europe/Berlin"))
ENV = {
    "KOOPBOT_REMINDERS__LEASE_SECONDS": "4",
    "KOOPBOT_REMINDERS__MAX_IN_FLIGHT": "4",
    "KOOPBOT_REMINDERS__MESSENGERS": '["telegram"]',
    "KOOPBOT_REMINDERS__RATE_PER_SECOND": '{"telegram": 150}',
    "KOOPBOT_LOG_LEVEL": "WARNING",
}


def unmarked_chats(db: Database) -> set[int]:
    with db.session() as s:
        rows = s.execute(
            text(
                "SELECT i.external_id FROM messenger_identity i JOIN reminder_outbox o"
                " ON o.staff_id = i.staff_id WHERE o.status <> 'sent'"
            )
        ).scalars()
        return {int(r) for r in rows}


async def run(backend: str, kills: int, n: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        context = pg_database() if backend == "postgresql" else nullcontext(None)
        with context as pg:
            url = pg or f"sqlite:///{Path(tmp) / 'crash.db'}"
            async with TelegramTestServer(limits=RateLimits.off()) as server:
                db = Database(url)
                db.upgrade()
                chats = [server.user(f"P{i}").id for i in range(n)]
                add_people_with_deadlines(db, chats, date(2025, 4, 8), START - timedelta(days=1))
                rng = random.Random(seed)
                in_flight: set[tuple[int, int]] = set()
                done = 0
                while done < kills:
                    proc = await start_worker(
                        url, server.base_url, START.isoformat(), ENV, Path(tmp)
                    )
                    await asyncio.sleep(rng.uniform(0.05, 0.6))
                    if proc.returncode is not None:
                        break
                    proc.send_signal(signal.SIGKILL)
                    await proc.wait()
                    done += 1
                    unmarked = unmarked_chats(db)
                    # (chat, messages so far): a send accepted but not marked, counted once.
                    in_flight |= {
                        (c, len(server.sent_to(c)))
                        for c in chats
                        if c in unmarked and server.sent_to(c)
                    }
                last = await start_worker(url, server.base_url, START.isoformat(), ENV, Path(tmp))
                await finish_worker(last)
                with db.session() as s:
                    statuses = outbox.counts_by_status(s)
                db.dispose()
    counts = [len(server.sent_to(c)) for c in chats]
    lost = sum(1 for c in counts if c == 0)
    duplicates = sum(c - 1 for c in counts if c > 1)
    print(
        f"{backend}: {done} kills, {n} reminders: lost {lost}, duplicates {duplicates}, "
        f"sends in flight at the kills (accepted, not marked) {len(in_flight)}; outbox {statuses}; "
        f"load {os.getloadavg()[0]:.1f}"
    )


async def run_matrix(kills: int, people: int, per_person: int, seed: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e" / "matrix"))
    from matrix_crash import crash_run
    from synapse_server import Synapse

    with tempfile.TemporaryDirectory() as tmp:
        synapse = Synapse(Path(tmp) / "synapse")
        synapse.start()
        try:
            work = Path(tmp) / "koopbot"
            work.mkdir()
            out = await crash_run(
                synapse,
                work,
                people_n=people,
                per_person=per_person,
                kills=kills,
                spacing=0.4,
                seed=seed,
            )
        finally:
            synapse.stop()
    print(
        f"matrix: {out.kills} kills, {len(out.reminders)} reminders for {people} people: "
        f"lost {len(out.lost)}, duplicates {sum(c - 1 for c in out.duplicates.values())}, "
        f"rows caught in a kill and sent again {out.caught}, messages {out.messages}, "
        f"undecryptable {out.undecryptable}; outbox {out.statuses}; {out.seconds:.0f} s; "
        f"load {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=None, help="50; 20 with --matrix")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=20250408)
    parser.add_argument("--matrix", action="store_true")
    parser.add_argument("--people", type=int, default=8)
    parser.add_argument("--per-person", type=int, default=30)
    args = parser.parse_args()
    if args.matrix:
        kills = 20 if args.kills is None else args.kills
        asyncio.run(run_matrix(kills, args.people, args.per_person, args.seed))
        return
    args.kills = 50 if args.kills is None else args.kills
    for backend in args.backends.split(","):
        asyncio.run(run(backend, args.kills, args.n, args.seed))


if __name__ == "__main__":
    main()
