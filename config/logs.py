"""Central logging with one redacting filter (issue 11): no secret in any log of any process.

`setup_logging` puts ONE filter on the handlers (not on loggers), so every record passes it
whichever library wrote it (httpx, PTB's `telegram`, aiohttp, nio, apscheduler, asyncio):
the message, its arguments, the formatted traceback and stack. It masks
- the secrets of the settings: bot token, Matrix password and recovery key, webhook secret;
- secrets known only at run time, given to `register_secret` (the Matrix access token after
  login, a new feed token as it is issued, a recovery key as it is shown);
- secret shapes, whoever's they are: `/bot<token>/` in Bot API URLs, a Telegram token,
  feed paths `/feeds/<token>.ics` (any letter case), `access_token=…`, `Bearer …`,
  Synapse `syt_…` tokens, recovery keys `EsT… …`, `"password": "…"`.
Uncaught exceptions (main thread, threads) are logged through the same handlers.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from config.settings import Settings

REDACTED: Final = "[redacted]"
_MIN_SECRET = 6  # shorter values would mask ordinary words
_B58 = "1-9A-HJ-NP-Za-km-z"

_SHAPES: Final[tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...]] = (
    (re.compile(r"(/bot)[^/\s'\"]+"), rf"\1{REDACTED}"),  # Bot API: /bot<token>/sendMessage
    (re.compile(r"\b\d{5,15}:[A-Za-z0-9_-]{30,}"), REDACTED),  # a bot token anywhere
    (re.compile(r"(?i)(/+feeds/+)[^\s'\"<>()\[\]]+"), lambda m: _feed(m)),  # feed paths
    (re.compile(r"(?i)(access_token[\"']?\s*[=:]\s*[\"']?)[^\s&'\",;}]+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)(bearer\s+)[^\s'\",;}]+"), rf"\1{REDACTED}"),
    (re.compile(r"\bsy[td]_[A-Za-z0-9_-]{8,}"), REDACTED),  # Synapse access/refresh tokens
    (
        re.compile(rf"\bE[sS][{_B58}]{{2}}(?:\s?[{_B58}]{{4}}){{9,12}}(?:\s?[{_B58}]{{1,3}})?"),
        REDACTED,
    ),
    (re.compile(r"(?i)([\"']?password[\"']?\s*[=:]\s*[\"'])[^\"']*"), rf"\1{REDACTED}"),
)

FEED_ROUTE: Final = "/feeds/{token}.ics"  # how the feed server's access log names the route


def _feed(match: re.Match[str]) -> str:
    return match[0] if match[0] == FEED_ROUTE else f"{match[1]}{REDACTED}"


_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | bytes | None) -> None:
    """A secret known only at run time: masked in every later log record."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not value or len(value.strip()) < _MIN_SECRET:
        return
    with _lock:
        _secrets.add(value.strip())


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret the settings hold (read errors: nothing, the process reports them)."""
    found: list[str] = []
    telegram, matrix = settings.telegram, settings.matrix
    for secret in (telegram.token, telegram.webhook_secret, matrix.password, matrix.recovery_key):
        if secret is not None:
            found.append(secret.get_secret_value())
    readers = [matrix.read_recovery_key]
    if telegram.configured:
        readers.append(telegram.read_token)  # also from the token file
    for read in readers:
        try:
            value = read()
        except Exception:  # a bad token or file: reported elsewhere, without the value
            value = None
        if value:
            found.append(value)
    return found


def redact(text: str) -> str:
    """`text` with every known secret and secret shape masked."""
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
        compact = "".join(secret.split())
        if compact != secret and compact in text:
            text = text.replace(compact, REDACTED)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record so that its message, traceback and stack carry no secret.

    The traceback is formatted and redacted into `exc_text`, which logging's formatters print
    instead of formatting `exc_info` again; `exc_info` stays for handlers that inspect it
    (`clear_exc_info` drops it, for formatters that would not use `exc_text`)."""

    clear_exc_info = False

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what can be shown, redacted
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info:
            # Formatted here, so no formatter can print the raw traceback later.
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = self.redact(text).rstrip("\n")
            if self.clear_exc_info:
                record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in record.__dict__.items():  # the event's fields (`extra=`), for JSON
            if key not in _RECORD_FIELDS and isinstance(value, str):
                record.__dict__[key] = self.redact(value)
        return True

    def redact(self, text: str) -> str:
        return redact(text)


# The attributes every LogRecord has; anything else came in through `extra=`.
_RECORD_FIELDS: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

FILTER: Final = RedactingFilter()
# Libraries that write request and response bodies at DEBUG (nio has its own setting).
_QUIET_AT_DEBUG: Final = ("telegram", "httpx", "httpcore", "aiohttp.client")


def formatter(settings: Settings) -> logging.Formatter:
    """The log line format of `log.format`: text or JSON lines (config/log_format.py)."""
    from config import log_format

    return log_format.formatter(settings)


def guard(handlers: Iterable[logging.Handler]) -> None:
    """Put the redacting filter on `handlers` (once each)."""
    for handler in handlers:
        if FILTER not in handler.filters:
            handler.addFilter(FILTER)


def setup_logging(settings: Settings) -> None:
    """koopbot.log in the data directory, errors on stderr, both redacted; uncaught
    exceptions logged through them."""
    for secret in settings_secrets(settings):
        register_secret(secret)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.data_dir / "koopbot.log", encoding="utf-8")
    handler.setFormatter(formatter(settings))
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    for name in _QUIET_AT_DEBUG:  # at DEBUG they log whole requests: message texts, people
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    root.addHandler(handler)
    errors = logging.StreamHandler(sys.stderr)
    errors.setLevel(logging.ERROR)  # the bare message, as before
    root.addHandler(errors)
    guard(root.handlers)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_exception


_uncaught = logging.getLogger("koopbot.uncaught")


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    _uncaught.critical("uncaught exception", exc_info=(kind, value, tb))


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    _uncaught.error(
        "uncaught exception in thread %s",
        getattr(args.thread, "name", "?"),
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
