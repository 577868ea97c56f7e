"""No feed token in any log line of the feed server (DOMAIN.md P3: the token is the secret).

Two layers, each enough on its own:
- the access log names the route that answered (`/feeds/{token}.ics`), never the path or query
  a client sent: a path spelled `/Feeds/<token>.ics` or `/feeds//<token>.ics` matches no route
  but still carries the token;
- a filter on every logger the server writes to (ours, aiohttp's access, server, web and
  internal loggers, asyncio's) rewrites each record before any handler sees it: the message,
  its arguments and the formatted traceback. aiohttp logs a malformed request line (`?\\xff`,
  `HTTP/9.9`, a NUL byte) with a traceback that quotes the whole line, token included.
This works without the central logging set-up, whatever handlers and formatters it installs.
"""

from __future__ import annotations

import logging
import re
from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from config.logs import RedactingFilter
from config.logs import redact as central_redact

REDACTED: Final = "[redacted]"
ROUTE: Final = "/feeds/{token}.ics"  # the route's name in the access log
ROUTE_KEY: Final = web.RequestKey("koopbot_route", str)  # where the server notes it
# Everything after a "feeds" path segment, in any letter case and with any slashes, up to the
# end of the path as logs quote it (space, quote, bracket).
_FEED_PATH = re.compile(r"(?i)(/+feeds)(?:/[^\s'\"<>()\[\]]*)")
# Tokens are 32 characters of [A-Za-z0-9_-]; a run of 16 or more (also percent-encoded, or the
# half of a token cut by a NUL byte) is redacted unless it reads as a snake_case or CamelCase
# identifier, which a random token practically never does (and tracebacks are full of).
_RUN = re.compile(r"(?:[A-Za-z0-9_-]|%[0-9A-Fa-f]{2}){16,}")
_WORDLIKE = re.compile(r"[a-z0-9_]*[a-z_][a-z0-9_]*|_*[A-Za-z][a-z]*(?:[A-Z][a-z]+)*")
LOGGERS: Final = (
    "scheduler.web",
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.internal",
    "asyncio",
)


def redact(text: str) -> str:
    """`text` without anything that may be a feed token."""
    text = _FEED_PATH.sub(lambda m: m[0] if m[0] == ROUTE else f"{m[1]}/{REDACTED}", text)
    return _RUN.sub(lambda m: m[0] if _WORDLIKE.fullmatch(m[0]) else REDACTED, text)


class TokenFilter(RedactingFilter):
    """Rewrites a record so that its message and traceback carry no token (the central
    filter's rewriting, with this module's stricter `redact` on top)."""

    clear_exc_info = True

    def redact(self, text: str) -> str:
        return central_redact(redact(text))


_FILTER: Final = TokenFilter()


def install() -> None:
    """Put the filter on every logger the feed server writes to (once per process)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


class RouteAccessLogger(AbstractAccessLogger):
    """The access log line: client, method, the route that answered (never the path sent),
    status and time."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        route = _route(request)
        self.logger.info(
            "%s %s %s %d %.1fms",
            request.remote,
            _method(request),
            route,
            response.status,
            time * 1000,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def _route(request: BaseRequest) -> str:
    route = request.get(ROUTE_KEY)
    return route if isinstance(route, str) else "(no route)"


def _method(request: BaseRequest) -> str:
    method = request.method
    return method if method.isalpha() and method.isupper() and len(method) <= 10 else "(other)"
