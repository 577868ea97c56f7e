"""Done-when of issue 7 on Telegram: a coordinator asks for last quarter and gets the figures,
the chart as a photo and the XLSX as a document, through the real adapter."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import select

from bot.core import Bot
from config.enums import HoursCategory
from scheduler.clock import FixedClock
from storage.db import Database
from storage.models.cases import Case
from storage.models.hours import HoursEntry
from storage.models.staff import Staff
from tests.telegram_api import ApiError, RateLimits, TelegramTestServer
from tests.telegram_harness import demo_codes, running_adapter

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def server() -> AsyncIterator[TelegramTestServer]:
    async with TelegramTestServer(limits=RateLimits.off()) as test_server:
        yield test_server


def _log(db: Database, handle: str, day: date, minutes: int, case: str | None = None) -> None:
    """Non-case work, or direct hours in `case`."""
    with db.session() as s:
        staff = s.exec(select(Staff).where(Staff.handle == handle)).one()
        case_id = None if case is None else s.exec(select(Case.id).where(Case.code == case)).one()
        s.add(
            HoursEntry(
                staff_id=staff.id or 0,
                organisation_id=staff.organisation_id,
                day=day,
                minutes=minutes,
                category=HoursCategory.non_case if case is None else HoursCategory.direct,
                case_id=case_id,
                created_at=datetime(2025, 6, 30, 18, tzinfo=BERLIN),
            )
        )


async def test_coordinator_gets_figures_chart_and_xlsx_on_telegram(
    bot: Bot, db: Database, clock: FixedClock, server: TelegramTestServer
) -> None:
    codes = demo_codes(bot, clock.now())
    async with running_adapter(bot, server):
        mara = server.user("Mara")
        (welcome,) = await server.say(mara, f"/start {codes['MK']}")
        assert welcome.text is not None and welcome.text.startswith("Willkommen")
        (saved,) = await server.say(mara, "/vertrag stunden=40")
        assert saved.text is not None and "• 2025: 40 Std. (Quartal 10 Std.)" in saved.text
        _log(db, "JB", date(2025, 6, 30), 150)
        _log(db, "LW", date(2025, 4, 1), 90)
        _log(db, "JB", date(2025, 6, 2), 120, "HB-2026-011")  # a chart needs direct hours
        clock.set(datetime(2025, 7, 1, 9, tzinfo=BERLIN))

        text, photo, document = await server.say(mara, "/quartal letztes", replies=3)

    assert text.text is not None
    assert text.text.startswith("Stundencontrolling Q2/2025 (01.04.2025–30.06.2025)")
    assert "Fallunspezifische Arbeit: 4 Std. · Netzwerkarbeit: 0 Std." in text.text
    assert photo.photo is not None and photo.caption is not None
    assert photo.caption.startswith("Stunden am Klienten Q2/2025")
    png = server.files[photo.photo[0]["file_id"]].data
    assert Image.open(io.BytesIO(png)).size == (800, 450)
    assert (photo.photo[0]["width"], photo.photo[0]["height"]) == (800, 450)
    assert document.document is not None
    # Issue 14: the creation time in the name, so no download replaces an earlier one.
    assert document.document["file_name"] == "stunden_2025-Q2_2025-07-01_090000.xlsx"
    book = load_workbook(io.BytesIO(server.files[document.document["file_id"]].data))
    categories = {r[0]: r[1:] for r in book["Kategorien"].iter_rows(min_row=2, values_only=True)}
    # 150 min (JB, Fachkraft) + 90 min (LW, semiprofessional) of non-case work = 4 h.
    assert categories["fallunspezifische Arbeit"] == (2.5, 1.5, 4.0)


async def test_a_refused_chart_or_file_gets_an_apology_and_a_warning(
    bot: Bot,
    db: Database,
    clock: FixedClock,
    server: TelegramTestServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 14, item 13: sendPhoto and sendDocument answered with HTTP 500."""
    codes = demo_codes(bot, clock.now())
    async with running_adapter(bot, server):
        mara = server.user("Mara")
        await server.say(mara, f"/start {codes['MK']}")
        await server.say(mara, "/vertrag stunden=40")
        _log(db, "JB", date(2025, 6, 2), 120, "HB-2026-011")
        clock.set(datetime(2025, 7, 1, 9, tzinfo=BERLIN))
        server.fail_next("sendPhoto", ApiError(500, "Internal Server Error"))
        server.fail_next("sendDocument", ApiError(500, "Internal Server Error"))

        text, apology = await server.say(mara, "/quartal letztes", replies=2)

        assert (text.text or "").startswith("Stundencontrolling Q2/2025")
        assert apology.text is not None and apology.text.startswith("Entschuldigung, die Grafik")
        assert "die Grafik und die Datei stunden_2025-Q2_" in apology.text
        assert "konnten ich gerade nicht senden" in apology.text
        # Only the document fails now: the chart arrives, the apology names the file.
        server.fail_next("sendDocument", ApiError(500, "Internal Server Error"))
        _, photo, apology = await server.say(mara, "/quartal letztes", replies=3)
        assert photo.photo is not None
        assert (apology.text or "").startswith("Entschuldigung, die Datei stunden_2025-Q2_")
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.telegram_send" and r.levelno == logging.WARNING
    ]
    assert sum("sendPhoto failed" in w for w in warnings) == 1
    assert sum("sendDocument failed" in w for w in warnings) == 2
    assert server.token not in caplog.text
    assert server.token.split(":")[1] not in caplog.text
