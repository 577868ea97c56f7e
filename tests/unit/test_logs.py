"""The central redacting filter (issue 11): every library's records, secrets of the settings,
secrets registered at run time, secret shapes and uncaught tracebacks."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr

from config.logs import FILTER, redact, register_secret, setup_logging
from config.settings import Settings
from tests.logcheck import assert_no_secrets

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
PASSWORD = "correct horse battery staple"
WEBHOOK = "hook_secret_0123456789"
ACCESS = "syt_a29vcGJvdA_QWxhZGRpbjpvcGVuIHNlc2FtZQ_1a2b3c"
FEED = "q5Zf0yTtW7eXbR2pLmN8cVd4sHjKu1Ao"
RECOVERY = "EsTc 1nh8 JvWj 2XqP 8Hk4 9mFd Rt7L wQz3 Ay6B uG5N cE2s KpVx"


@pytest.fixture
def logged(tmp_path: Path) -> tuple[Settings, logging.Logger]:
    settings = Settings(
        data_dir=tmp_path,
        telegram={"token": SecretStr(TOKEN), "webhook_secret": SecretStr(WEBHOOK)},
        matrix={"password": SecretStr(PASSWORD)},
    )
    with logging_set_up(settings) as root:
        yield settings, root


@contextmanager
def logging_set_up(settings: Settings) -> Iterator[logging.Logger]:
    """`setup_logging(settings)`, and this process's logging as it was afterwards."""
    root = logging.getLogger()
    before, level, hook = list(root.handlers), root.level, sys.excepthook
    setup_logging(settings)
    try:
        yield root
    finally:
        for handler in root.handlers[len(before) :]:
            handler.close()
        root.handlers[:] = before
        root.setLevel(level)
        sys.excepthook = hook
        for name in ("telegram", "httpx", "httpcore", "aiohttp.client"):
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_every_library_logger_is_redacted(logged: tuple[Settings, logging.Logger]) -> None:
    settings, _ = logged
    register_secret(ACCESS)
    register_secret(FEED)
    for name in ("httpx", "telegram.Bot", "aiohttp.access", "nio.responses", "apscheduler"):
        log = logging.getLogger(name)
        log.warning("POST https://api.telegram.org/bot%s/sendMessage 200", TOKEN)
        log.warning("login %s", {"password": PASSWORD, "access_token": ACCESS})
        log.warning("GET /Feeds/%s.ics and /feeds//%s.ics", FEED, FEED)
        log.warning("webhook secret %s, header Authorization: Bearer %s", WEBHOOK, ACCESS)
        log.warning("recovery key %s", RECOVERY)
    try:
        raise RuntimeError(f"failed with {TOKEN} and {ACCESS}")
    except RuntimeError:
        logging.getLogger("asyncio").exception("task failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = (settings.data_dir / "koopbot.log").read_text(encoding="utf-8")
    assert text.count("[redacted]") >= 30, text
    assert "RuntimeError" in text and "sendMessage" in text
    assert_no_secrets([settings.data_dir / "koopbot.log"], [TOKEN, PASSWORD, WEBHOOK, ACCESS, FEED])
    assert "1nh8" not in text  # the recovery key's shape, not registered


def test_shapes_without_registration() -> None:
    other_token = "987654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    text = redact(
        f"/bot{other_token}/getMe access_token=syt_b3RoZXI_abcdefghij_0x0 "
        "Bearer abc.def.ghi /feeds/AbCdEfGhIjKlMnOpQrStUvWxYz012345.ics "
        '"password": "hunter22"'
    )
    for secret in (other_token, "syt_b3RoZXI", "abc.def.ghi", "AbCdEfGhIj", "hunter22"):
        assert secret not in text, text
    assert redact("GET /feeds/{token}.ics 200") == "GET /feeds/{token}.ics 200"  # the route


def test_uncaught_exception_goes_through_the_filter(
    logged: tuple[Settings, logging.Logger],
) -> None:
    settings, root = logged
    try:
        raise ValueError(f"boom {TOKEN}")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    for handler in root.handlers:
        handler.flush()
    text = (settings.data_dir / "koopbot.log").read_text(encoding="utf-8")
    assert "uncaught exception" in text and "ValueError: boom [redacted]" in text
    assert all(FILTER in h.filters for h in root.handlers[-2:])


def test_json_lines_are_redacted_too(tmp_path: Path) -> None:
    """log.format = "json" (issue 16): message, traceback and the event's fields masked."""
    settings = Settings(
        data_dir=tmp_path, log={"format": "json"}, telegram={"token": SecretStr(TOKEN)}
    )
    with logging_set_up(settings) as root:
        log = logging.getLogger("httpx")
        log.warning("POST /bot%s/sendMessage", TOKEN, extra={"url": f"/bot{TOKEN}/getMe"})
        try:
            raise RuntimeError(f"failed with {TOKEN}")
        except RuntimeError:
            log.exception("request failed")
        for handler in root.handlers:
            handler.flush()
    lines = [
        json.loads(line) for line in (tmp_path / "koopbot.log").read_text("utf-8").splitlines()
    ]
    assert [line["logger"] for line in lines] == ["httpx", "httpx"]
    assert "RuntimeError" in lines[1]["exc_info"] and "url" in lines[0]
    assert_no_secrets([tmp_path / "koopbot.log"], [TOKEN])


def test_libraries_that_log_message_texts_stay_above_debug(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, log_level="DEBUG")
    with logging_set_up(settings) as root:
        assert root.level == logging.DEBUG  # koopbot's own debugging stays possible
        for name in ("telegram.ext.Application", "httpx", "httpcore.http11"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.INFO, name
