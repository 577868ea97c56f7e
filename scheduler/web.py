"""The calendar feed server: aiohttp, `/feeds/<token>.ics`, `/healthz`, `/readyz`, `/metrics`.

Feeds are rendered once per change and served from memory. A token resolves to the feed it
shows (every member's AG 78 token shows the same feed, so it is rendered once for all of them),
and a feed is rendered again only when the database's feed counter (storage.versioning) has
moved, which the server checks at most every `web.recheck_seconds`, or when the day changes.
However many requests arrive meanwhile, each feed, each token and the counter are read once
(single flight); the others wait for that result. Everything a cached 200 or 304 needs (bytes,
gzip, ETag, headers) is computed with the render, so serving one costs little more than a
hello world. ETags are hashes of the bytes, so a 304 is never wrong.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, TypeVar

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from config.settings import Settings
from scheduler import web_logging
from scheduler.clock import Clock
from scheduler.feeds import FeedKey, build_feed
from scheduler.ics import render
from scheduler.metrics import METRICS, Metrics
from scheduler.readiness import Readiness
from storage.db import Database
from storage.feeds import feed_version, token_grant

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"
_FEED_PATH = re.compile(r"/feeds/([A-Za-z0-9_-]{1,200})\.ics")
T = TypeVar("T")


@dataclass(frozen=True)
class _Feed:
    """One rendered feed and the four answers it can give."""

    version: int
    expires: datetime  # the next local midnight: windows and expiries depend on the day
    etag: str  # the opaque part, without quotes
    last_modified: datetime  # when these bytes were first served, whole seconds
    body: bytes
    gzipped: bytes
    headers: CIMultiDictProxy[str]  # of a 200 without and with gzip
    gzip_headers: CIMultiDictProxy[str]
    not_modified: CIMultiDictProxy[str]  # of a 304 (RFC 9110 15.4.5: no Content-*)
    gzip_not_modified: CIMultiDictProxy[str]
    tags: frozenset[str]  # If-None-Match values that mean "unchanged"


@dataclass(frozen=True)
class _Grant:
    version: int
    key: FeedKey


class FeedServer:
    """Serves the feeds of one database; `monotonic` is injectable for tests.

    `renders` counts feed renders and `lookups` token lookups, for tests and metrics.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: Metrics = METRICS,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self._monotonic = monotonic
        self._grants: dict[str, _Grant] = {}  # by token; only tokens that exist
        self._feeds: dict[FeedKey, _Feed] = {}
        self._flights: dict[Hashable, asyncio.Future[Any]] = {}
        self._version = -1
        self._now = clock.now()
        self._checked: float | None = None
        self._gzip_answers: dict[str, bool] = {}
        self.renders = 0
        self.lookups = 0
        self.metrics = metrics
        self.ops = Readiness(settings, db, clock, metrics) if settings.metrics.on_web else None
        self._ops_routes = self.ops.routes() if self.ops is not None else {}

    def app(self) -> web.Application:
        """The server as an aiohttp application (for aiohttp's test client)."""
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self.dispatch)
        return app

    def runner(self) -> web.ServerRunner:
        """The server as deployed: aiohttp's low-level server (two paths need no router and
        no application around them), with the logging that never shows a token."""
        web_logging.install()
        return web.ServerRunner(
            web.Server(
                self.dispatch,
                access_log_class=web_logging.RouteAccessLogger,
                logger=logging.getLogger("aiohttp.server"),
            )
        )

    async def dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        """Every request, counted by route and status (issue 16)."""
        try:
            response = await self._route(request)
        except web.HTTPException as exc:
            self.metrics.record_request(request.get(web_logging.ROUTE_KEY, "other"), exc.status)
            raise
        self.metrics.record_request(request.get(web_logging.ROUTE_KEY, "other"), response.status)
        return response

    async def _route(self, request: web.BaseRequest) -> web.StreamResponse:
        """`/feeds/<token>.ics`, `/healthz`, `/readyz`, `/metrics`, GET and HEAD; everything
        else a plain 404."""
        path = request.path
        m = _FEED_PATH.fullmatch(path) if path.startswith("/feeds/") else None
        ops = self._ops_routes
        if m is not None or path == "/healthz" or path in ops:
            if request.method not in ("GET", "HEAD"):
                raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
            if m is None:
                request[web_logging.ROUTE_KEY] = path
                if path == "/healthz":
                    return await self.healthz(request)
                return await ops[path](request)
            request[web_logging.ROUTE_KEY] = web_logging.ROUTE
            return await self.feed(m[1], request)
        raise web.HTTPNotFound()

    async def healthz(self, request: web.BaseRequest) -> web.Response:
        """Answers when the database does."""
        await asyncio.to_thread(self._read_version)
        return web.Response(text="ok\n", headers={"Cache-Control": "no-store"})

    async def feed(self, token: str, request: web.BaseRequest) -> web.Response:
        """One feed by its secret token; an unknown or revoked token is a plain 404."""
        checked = self._checked
        if checked is None or self._monotonic() - checked >= self.settings.web.recheck_seconds:
            await self._check()
        version = self._version
        # Keyed by the token itself: hashing it costs more than the rest of a cached answer.
        # The memory of this process holds the tokens of requests anyway; nothing is stored.
        grant = self._grants.get(token)
        if grant is None or grant.version < version:
            grant = await self._once(("token", token), lambda: self._resolve(token))
            if grant is None:
                raise web.HTTPNotFound()  # the same answer as for a path that never existed
        entry = self._feeds.get(grant.key)
        if entry is None or entry.version < version or self._now >= entry.expires:
            entry = await self._once(("feed", grant.key), lambda: self._refresh(grant.key))
        return self._respond(request, entry)

    async def _check(self) -> None:
        """Read the feed counter (and the clock, for the day) at most every recheck_seconds."""
        started = self._monotonic()
        self._version = await self._once("version", lambda: asyncio.to_thread(self._read_version))
        self._now = self.clock.now()
        self._checked = started

    async def _once(self, key: Hashable, start: Callable[[], Awaitable[T]]) -> T:
        """The result of `start()`, started once for all callers waiting on `key` meanwhile."""
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(start())
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._land(key, done))
        # A client that hangs up must not cancel the work the others wait for.
        result: T = await asyncio.shield(flight)
        return result

    def _land(self, key: Hashable, flight: asyncio.Future[Any]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: the waiters raise it; nothing to log twice

    def _read_version(self) -> int:
        with self.db.session() as session:
            return feed_version(session)

    async def _resolve(self, token: str) -> _Grant | None:
        grant = await asyncio.to_thread(self._lookup, token)
        if grant is None:
            self._grants.pop(token, None)
        else:
            self._grants[token] = grant
        return grant

    def _lookup(self, token: str) -> _Grant | None:
        self.lookups += 1
        with self.db.session() as session:
            version = feed_version(session)
            row = token_grant(session, token)
            return None if row is None else _Grant(version, FeedKey.of(row))

    async def _refresh(self, key: FeedKey) -> _Feed:
        entry = await asyncio.to_thread(self._render, key, self._feeds.get(key))
        self._feeds[key] = entry
        return entry

    def _render(self, key: FeedKey, previous: _Feed | None) -> _Feed:
        self.renders += 1
        now = self.clock.now()
        with self.db.session() as session:
            version = feed_version(session)
            calendar = build_feed(session, key, self.settings, now)
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
        tz = self.settings.tz
        midnight = datetime.combine(
            now.astimezone(tz).date() + timedelta(days=1), datetime.min.time()
        )
        common = {
            "Last-Modified": format_datetime(first_seen, usegmt=True),
            # Revalidate every time (a 304 is cheap); no shared cache may keep a secret URL.
            "Cache-Control": "private, no-cache",
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        content = {
            "Content-Type": CONTENT_TYPE,
            "Content-Disposition": 'inline; filename="koopbot.ics"',
        }
        plain, zipped = {"ETag": f'"{etag}"'}, {"ETag": f'"{etag}-gzip"'}
        return _Feed(
            version=version,
            expires=midnight.replace(tzinfo=tz),
            etag=etag,
            last_modified=first_seen,
            body=body,
            gzipped=gzip.compress(body, compresslevel=6, mtime=0),
            headers=_frozen(plain, common, content),
            gzip_headers=_frozen(zipped, common, content, {"Content-Encoding": "gzip"}),
            not_modified=_frozen(plain, common),
            gzip_not_modified=_frozen(zipped, common),
            tags=frozenset({f'"{etag}"', f'"{etag}-gzip"', f'W/"{etag}"', f'W/"{etag}-gzip"'}),
        )

    def _respond(self, request: web.BaseRequest, entry: _Feed) -> web.Response:
        headers = request.headers
        accept = headers.get("Accept-Encoding")
        use_gzip = accept is not None and self._accepts_gzip(accept)
        if _not_modified(headers, entry):
            return web.Response(
                status=304, headers=entry.gzip_not_modified if use_gzip else entry.not_modified
            )
        if use_gzip:
            return web.Response(body=entry.gzipped, headers=entry.gzip_headers)
        return web.Response(body=entry.body, headers=entry.headers)

    def _accepts_gzip(self, header: str) -> bool:
        known = self._gzip_answers.get(header)
        if known is None:
            known = _accepts_gzip(header)
            if len(self._gzip_answers) < 256:  # clients send a handful of spellings
                self._gzip_answers[header] = known
        return known


def _frozen(*parts: dict[str, str]) -> CIMultiDictProxy[str]:
    merged: CIMultiDict[str] = CIMultiDict()
    for part in parts:
        merged.extend(part)
    return CIMultiDictProxy(merged)


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


def _not_modified(headers: CIMultiDictProxy[str], entry: _Feed) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if if_none_match in entry.tags:  # the usual case: the one tag we sent
            return True
        tags = {t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")}
        return "*" in tags or entry.etag in tags or f"{entry.etag}-gzip" in tags
    since = headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return entry.last_modified <= when


async def start(server: FeedServer, host: str, port: int) -> web.BaseRunner:
    """The server listening on host:port; the caller cleans the runner up."""
    runner = server.runner()
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def serve(settings: Settings, db: Database, clock: Clock) -> None:
    """Run the feed server until cancelled (`koopbot run`, service "web")."""
    runner = await start(FeedServer(settings, db, clock), settings.web.host, settings.web.port)
    try:
        log.info("calendar feeds on %s:%s", settings.web.host, settings.web.port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
