"""The log line format (issue 16): today's text or, with `log.format = "json"`, one JSON
object a line (python-json-logger): time, level, logger, message, plus the event's fields
(the `extra=` of the call). Filters run before any formatter, so what they redact (bot
tokens, feed tokens) is redacted in both formats."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from config.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _JsonLines(JsonFormatter):
    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        super().add_fields(log_data, record, message_dict)

    def format(self, record: logging.LogRecord) -> str:
        # The redacting filter (config/logs.py) leaves the traceback, redacted, in `exc_text`;
        # python-json-logger would format `exc_info` anew, secrets and all.
        if record.exc_info and record.exc_text:
            exc_info, record.exc_info = record.exc_info, None
            try:
                return super().format(record)
            finally:
                record.exc_info = exc_info
        return super().format(record)


def formatter(settings: Settings) -> logging.Formatter:
    """The formatter for `settings.log.format`."""
    if settings.log.format == "json":
        return _JsonLines(["message"], json_ensure_ascii=False)
    return logging.Formatter(TEXT_FORMAT)
