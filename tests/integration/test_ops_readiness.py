"""`/readyz` and `/metrics` of the web service on a real database, with an injected clock:
each check turns the answer to 503 and back to 200 (issue 16)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.core import build_calendar
from bot.reminder_render import GermanRenderer
from config.settings import Settings
from scheduler.clock import FixedClock
from scheduler.dispatch import Dispatcher
from scheduler.engine import Sweeper
from scheduler.metrics import Metrics
from scheduler.ports import FailureKind
from scheduler.web import FeedServer
from storage.db import Database
from tests.integration.helpers import BOTH_BACKENDS
from tests.reminder_fakes import RecordingMessenger
from tests.reminder_population import add_people_with_deadlines


@pytest.fixture
def ops_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "readyz": settings.readyz.model_copy(
                update={"outbox_max_age_seconds": 600, "messenger_max_age_seconds": 300}
            ),
            "reminders": settings.reminders.model_copy(
                update={"sweep_seconds": 60, "messengers": ["telegram"]}
            ),
        }
    )


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


async def client_for(server: FeedServer) -> TestClient:
    client = TestClient(TestServer(server.app(), host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def http(
    ops_settings: Settings, db: Database, clock: FixedClock, metrics: Metrics
) -> AsyncIterator[TestClient]:
    client = await client_for(FeedServer(ops_settings, db, clock, metrics=metrics))
    try:
        yield client
    finally:
        await client.close()


async def readyz(http: TestClient) -> tuple[int, dict[str, str]]:
    async with http.get("/readyz") as resp:
        body = json.loads(await resp.text())
        assert (resp.status == 200) == (body["status"] == "ready"), body
        return resp.status, body["failing"]


async def scrape(http: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with http.get("/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_sweep_that_stops_running_makes_readyz_fail_until_it_runs_again(
    http: TestClient, clock: FixedClock, metrics: Metrics
) -> None:
    metrics.expect_sweep(60, at=clock.now().timestamp())
    assert await readyz(http) == (200, {})
    clock.advance(timedelta(seconds=121))  # more than 2 x sweep_seconds without a sweep
    status, failing = await readyz(http)
    assert status == 503 and set(failing) == {"sweep"}, failing
    metrics.observe_tick("sweep", 0.01, at=clock.now().timestamp())
    assert await readyz(http) == (200, {})


async def test_a_messenger_that_stops_polling_makes_readyz_fail(
    http: TestClient, clock: FixedClock, metrics: Metrics
) -> None:
    metrics.expect_messenger("telegram", at=clock.now().timestamp())
    assert await readyz(http) == (200, {})
    clock.advance(timedelta(seconds=301))
    status, failing = await readyz(http)
    assert status == 503 and set(failing) == {"telegram"}, failing
    metrics.record_contact("telegram", at=clock.now().timestamp())
    assert await readyz(http) == (200, {})
    assert (await scrape(http))[
        ("koopbot_messenger_contact_age_seconds", (("messenger", "telegram"),))
    ] == 0


@BOTH_BACKENDS
async def test_a_stalled_outbox_fails_readyz_also_while_its_rows_wait_for_a_retry(
    http: TestClient,
    ops_settings: Settings,
    db: Database,
    clock: FixedClock,
    metrics: Metrics,
) -> None:
    clock.set(clock.now().replace(hour=8))  # the due day's reminder is due at 08:00
    chats = [101, 102, 103]
    add_people_with_deadlines(db, chats, date(2025, 4, 7), clock.now() - timedelta(days=1))
    Sweeper(ops_settings, db, clock, build_calendar(ops_settings)).sweep()
    assert await readyz(http) == (200, {})
    values = await scrape(http)
    assert values[("koopbot_outbox_rows", (("state", "pending"), ("transport", "telegram")))] == 3
    assert values[("koopbot_outbox_oldest_due_seconds", ())] == 0

    clock.advance(timedelta(seconds=601))  # nobody dispatched for ten minutes
    status, failing = await readyz(http)
    assert status == 503 and set(failing) == {"outbox"}, failing
    assert (await scrape(http))[("koopbot_outbox_oldest_due_seconds", ())] == 601

    # The messenger is down: each send fails and waits for its retry; still stalled.
    messenger = RecordingMessenger(clock, transport="telegram")
    for chat in chats:
        messenger.fail(str(chat), FailureKind.network, times=1)
    dispatcher = Dispatcher(
        ops_settings,
        db,
        clock,
        build_calendar(ops_settings),
        {"telegram": messenger},
        GermanRenderer(ops_settings, build_calendar(ops_settings)),
    )
    stats = await dispatcher.dispatch()
    assert stats.retried == 3 and not messenger.sent
    status, failing = await readyz(http)
    assert status == 503 and set(failing) == {"outbox"}, failing

    clock.advance(timedelta(hours=1))  # past the backoff: the messenger is back
    await dispatcher.dispatch()
    assert len(messenger.sent) == 3
    assert await readyz(http) == (200, {})
    values = await scrape(http)
    assert values[("koopbot_outbox_oldest_due_seconds", ())] == 0
    assert ("koopbot_outbox_rows", (("state", "pending"), ("transport", "telegram"))) not in values


async def test_a_person_who_blocked_the_bot_is_no_stall(
    http: TestClient,
    ops_settings: Settings,
    db: Database,
    clock: FixedClock,
) -> None:
    add_people_with_deadlines(db, [201], date(2025, 4, 7), clock.now() - timedelta(days=1))
    Sweeper(ops_settings, db, clock, build_calendar(ops_settings)).sweep()
    messenger = RecordingMessenger(clock, transport="telegram")
    messenger.fail("201", FailureKind.blocked)
    dispatcher = Dispatcher(
        ops_settings,
        db,
        clock,
        build_calendar(ops_settings),
        {"telegram": messenger},
        GermanRenderer(ops_settings, build_calendar(ops_settings)),
    )
    await dispatcher.dispatch()
    clock.advance(timedelta(seconds=601))
    assert await readyz(http) == (200, {})


async def test_a_database_that_does_not_answer_fails_readyz(
    ops_settings: Settings, clock: FixedClock, metrics: Metrics
) -> None:
    gone = Database("postgresql+psycopg://koopbot@127.0.0.1:1/koopbot?connect_timeout=2")
    client = await client_for(FeedServer(ops_settings, gone, clock, metrics=metrics))
    try:
        status, failing = await readyz(client)
        assert status == 503 and set(failing) == {"database"}, failing
        async with client.get("/metrics") as resp:
            assert resp.status == 200  # the process's own figures still come
    finally:
        await client.close()
        gone.dispose()


async def test_requests_are_counted_by_route_and_status_never_by_path(http: TestClient) -> None:
    async with http.get("/feeds/not-a-token-at-all-0123456789.ics") as resp:
        assert resp.status == 404
    async with http.get("/healthz") as resp:
        assert resp.status == 200
    values = await scrape(http)
    requests = {k[1]: v for k, v in values.items() if k[0] == "koopbot_web_requests_total"}
    assert requests[(("route", "/feeds/{token}.ics"), ("status", "404"))] == 1
    assert requests[(("route", "/healthz"), ("status", "200"))] == 1
    assert not any("not-a-token" in str(labels) for labels in requests)
