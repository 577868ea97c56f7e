"""The Matrix adapter reports its syncs to the metrics and /readyz (issue 16), on real Synapse."""

from __future__ import annotations

import asyncio
import time

from scheduler.metrics import METRICS
from scheduler.readiness import Readiness
from tests.e2e.matrix.conftest import MatrixWorld


async def test_each_sync_counts_as_contact_for_readiness(world: MatrixWorld) -> None:
    started = time.time()
    await world.start_bot()
    live = METRICS.liveness
    assert "matrix" in live.messengers_started
    first = live.last_contact.get("matrix")
    assert first is not None and first >= started  # the first sync is in
    deadline = time.monotonic() + 60
    while live.last_contact["matrix"] == first:  # a long poll returns within 10 s
        assert time.monotonic() < deadline, "no second sync within 60 s"
        await asyncio.sleep(0.1)
    bot = world.bot
    verdict, _ = Readiness(bot.settings, world.db, bot.clock).check()
    # The world's clock is fixed in 2025; compare the contact with real time instead.
    assert live.messenger_age("matrix", time.time()) is not None
    assert live.messenger_age("matrix", time.time()) < 60
    assert "database" not in verdict.failing
