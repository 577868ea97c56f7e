"""The calendar feed server: aiohttp, `/feeds/<token>.ics` and `/healthz`.

Feeds are rendered once per change and served from memory: a request costs a dict lookup and
a hash until the database's feed counter (storage.versioning) moves, which the server checks
at most every `web.recheck_seconds`. ETags are hashes of the bytes, so a 304 is never wrong.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from config.settings import Settings
from scheduler.clock import Clock
from scheduler.feeds import build_feed
from scheduler.ics import render
from storage.db import Database
from storage.feeds import feed_version, hash_token, token_grant

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"
_FEED_PATH = re.compile(r"/feeds/[^/]*")


@dataclass(frozen=True)
class _Entry:
    version: int
    day: date  # feeds that depend on today (on-call windows, expiry of cancellations)
    body: bytes
    gzipped: bytes
    etag: str  # the opaque part, without quotes
    last_modified: datetime  # when these bytes were first served, whole seconds
    headers: dict[str, str]  # of a 200 without and with gzip (a 304 drops Content-*)
    gzip_headers: dict[str, str]


class FeedServer:
    """Serves the feeds of one database; `monotonic` is injectable for tests."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self._monotonic = monotonic
        self._cache: dict[str, _Entry] = {}
        self._version = -1
        self._checked: float | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)  # GET and HEAD
        app.router.add_get(r"/feeds/{token:[A-Za-z0-9_-]{1,200}}.ics", self.feed)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        """Answers when the database does."""
        await asyncio.to_thread(self._read_version)
        return web.Response(text="ok\n", headers={"Cache-Control": "no-store"})

    async def feed(self, request: web.Request) -> web.Response:
        """One feed by its secret token; an unknown or revoked token is a plain 404."""
        token = request.match_info["token"]
        digest = hash_token(token)
        version = await self._current_version()
        today = self.clock.now().astimezone(self.settings.tz).date()
        entry = self._cache.get(digest)
        if entry is None or entry.version < version or entry.day != today:
            entry = await asyncio.to_thread(self._load, token, entry)
            if entry is None:
                self._cache.pop(digest, None)
                raise web.HTTPNotFound()  # the same answer as for a path that never existed
            self._cache[digest] = entry
        return self._respond(request, entry)

    async def _current_version(self) -> int:
        now = self._monotonic()
        if self._checked is None or now - self._checked >= self.settings.web.recheck_seconds:
            self._version = await asyncio.to_thread(self._read_version)
            self._checked = now
        return self._version

    def _read_version(self) -> int:
        with self.db.session() as session:
            return feed_version(session)

    def _load(self, token: str, previous: _Entry | None) -> _Entry | None:
        now = self.clock.now()
        with self.db.session() as session:
            version = feed_version(session)
            grant = token_grant(session, token)
            if grant is None:
                return None
            calendar = build_feed(session, grant, self.settings, now)
        body = render(
            calendar,
            tz=self.settings.tz,
            refresh=timedelta(minutes=self.settings.web.refresh_minutes),
        )
        etag = hashlib.sha256(body).hexdigest()[:32]
        if previous is not None and previous.etag == etag:
            first_seen = previous.last_modified
        else:
            first_seen = now.astimezone(UTC).replace(microsecond=0)
        headers = {
            "ETag": f'"{etag}"',
            "Last-Modified": format_datetime(first_seen, usegmt=True),
            # Revalidate every time (a 304 is cheap); no shared cache may keep a secret URL.
            "Cache-Control": "private, no-cache",
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Type": CONTENT_TYPE,
            "Content-Disposition": 'inline; filename="koopbot.ics"',
        }
        return _Entry(
            version=version,
            day=now.astimezone(self.settings.tz).date(),
            body=body,
            gzipped=gzip.compress(body, compresslevel=6, mtime=0),
            etag=etag,
            last_modified=first_seen,
            headers=headers,
            gzip_headers={**headers, "ETag": f'"{etag}-gzip"', "Content-Encoding": "gzip"},
        )

    def _respond(self, request: web.Request, entry: _Entry) -> web.Response:
        use_gzip = _accepts_gzip(request.headers.get("Accept-Encoding", ""))
        if _not_modified(request, entry):
            headers = entry.gzip_headers if use_gzip else entry.headers
            return web.Response(status=304, headers=headers)
        if use_gzip:
            return web.Response(body=entry.gzipped, headers=entry.gzip_headers)
        return web.Response(body=entry.body, headers=entry.headers)


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and _q_is_zero(q[2:]))
    return False


def _q_is_zero(value: str) -> bool:
    try:
        return float(value) == 0
    except ValueError:
        return False


def _not_modified(request: web.Request, entry: _Entry) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")}
        return "*" in tags or entry.etag in tags or f"{entry.etag}-gzip" in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return entry.last_modified <= when


class RedactingAccessLogger(AbstractAccessLogger):
    """The access log without feed tokens: they are secrets (P3)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        path = _FEED_PATH.sub("/feeds/[token]", request.path)
        self.logger.info(
            "%s %s %s %d %.1fms",
            request.remote,
            request.method,
            path,
            response.status,
            time * 1000,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


async def serve(settings: Settings, db: Database, clock: Clock) -> None:
    """Run the feed server until cancelled (`koopbot run`, service "web")."""
    server = FeedServer(settings, db, clock)
    runner = web.AppRunner(server.app(), access_log_class=RedactingAccessLogger)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.web.host, settings.web.port)
        await site.start()
        log.info("calendar feeds on %s:%s", settings.web.host, settings.web.port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
