"""Backpressure: a cap on requests in flight and a deadline per request, both answered with
503 + Retry-After instead of a growing queue.

The third guard, a short wait for a pooled database connection (DB_POOL_TIMEOUT), lives in
data/db.py; problems.py turns its TimeoutError into the same 503.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

from quart import Quart, Request
from quart.asgi import ASGIHTTPConnection, _handle_exception

from ..runtime.config import Settings
from .asgitypes import ASGIApp, Receive, Scope, Send
from .problems import send_problem, unavailable

# Probes and scrapes must answer while the API sheds load: that is when they matter most.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

OVERLOADED = unavailable("The server is at its limit of requests in flight; retry shortly.")


class InFlightLimiter:
    """ASGI middleware: at most `limit` HTTP requests inside the app at once (per process);
    the rest get an immediate 503 without touching the app or the database.

    A counter, not a semaphore: waiting here would only move the queue, and a queue is what
    makes latency unbounded under overload."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await send_problem(send, OVERLOADED)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class TimedConnection(ASGIHTTPConnection):
    """Quart's HTTP connection, its cut-off for sending the response (RESPONSE_TIMEOUT) an
    asyncio.timeout around the send: Quart's asyncio.wait_for runs the send in a task of its
    own on Python 3.11, one more task per request (3.12's wait_for does as this does)."""

    async def handle_request(self, request: Request, send: Send) -> None:
        try:
            response = await self.app.handle_request(request)
        except Exception as error:
            response = await _handle_exception(self.app, error)
        timeout = getattr(response, "timeout", Ellipsis)
        if timeout is Ellipsis:
            timeout = self.app.config["RESPONSE_TIMEOUT"]
        with suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._send_response(send, response)


def init_app(app: Quart, settings: Settings) -> None:
    """Install the request deadline and the in-flight cap (MAX_IN_FLIGHT=0 turns it off)."""
    dispatch = app.dispatch_request
    timeout = settings.request_timeout

    async def dispatch_request(request_context: Any = None) -> Any:
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                return await dispatch(request_context)
        except TimeoutError as error:
            if not deadline.expired():
                raise  # another timeout (e.g. asyncpg's): problems.py answers it
            # The view was cancelled (its transaction rolled back): answer, don't hang.
            raise unavailable("The request took too long; retry shortly.") from error

    # Quart calls self.dispatch_request from full_dispatch_request: an instance attribute
    # wraps every view without a before_request hook per request.
    if timeout > 0:
        app.dispatch_request = dispatch_request  # type: ignore[method-assign]
    # Quart's own cut-off for clients that read the response slowly (bodies.py bounds the
    # other direction).
    app.config["RESPONSE_TIMEOUT"] = settings.request_timeout or None
    app.asgi_http_class = TimedConnection  # type: ignore[assignment]

    if settings.max_in_flight > 0:
        limiter = InFlightLimiter(app.asgi_app, settings.max_in_flight)
        app.extensions["in_flight_limiter"] = limiter
        app.asgi_app = limiter  # type: ignore[method-assign]
