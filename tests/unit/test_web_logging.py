"""Redaction of feed tokens in log records (the server-side test is in
tests/integration/test_feed_server.py)."""

from __future__ import annotations

import logging

import pytest

from scheduler.web_logging import TokenFilter, redact

TOKEN = "loeAgbIAJoqVS4pwOOr0Q-jCNOmMQ8x_"


@pytest.mark.parametrize(
    "text",
    [
        f"GET /feeds/{TOKEN}.ics",
        f"GET /Feeds/{TOKEN}.ICS",
        f"GET /feeds//{TOKEN}.ics",
        f"GET /feeds/x/{TOKEN}.ics?download=1",
        f"GET /x?token={TOKEN}",
        f"b'GET /feeds/{TOKEN}.ics?\\xff HTTP/1.1'",
        f"b'GET /{TOKEN[:16]}\\x00{TOKEN[16:]} HTTP/1.1'",
        "GET /" + "".join(f"%{ord(c):02X}" for c in TOKEN),
        f"Got more than 8190 bytes when reading: b'{TOKEN * 3}...'",
    ],
)
def test_every_spelling_of_a_token_is_redacted(text: str) -> None:
    out = redact(text)
    assert TOKEN not in out and TOKEN[:16] not in out and TOKEN[16:] not in out
    assert "%6C%6F%65" not in out
    assert "[redacted]" in out


@pytest.mark.parametrize(
    "text",
    [
        "calendar feeds on 127.0.0.1:8080",
        "aiohttp.http_exceptions.BadStatusLine: 400, message: Bad status line",
        'File "/work/.venv/lib/python3.11/site-packages/aiohttp/web_protocol.py", line 548',
        "in _handle_request_in_the_loop: ServerDisconnectedError, HttpProcessingError",
        "127.0.0.1 GET /feeds/{token}.ics 200 1.2ms",
    ],
)
def test_ordinary_log_text_stays_readable(text: str) -> None:
    assert redact(text) == text


def test_the_filter_rewrites_message_arguments_and_traceback() -> None:
    try:
        raise ValueError(f"bad request line /feeds/{TOKEN}.ics")
    except ValueError as exc:
        record = logging.LogRecord(
            "aiohttp.server",
            logging.ERROR,
            __file__,
            1,
            "from %s: %s",
            ("127.0.0.1", TOKEN),
            (type(exc), exc, exc.__traceback__),
        )
    assert TokenFilter().filter(record)
    formatted = logging.Formatter("%(message)s").format(record)
    assert TOKEN not in formatted
    assert "from 127.0.0.1: [redacted]" in formatted
    assert "ValueError: bad request line /feeds/[redacted]" in formatted
