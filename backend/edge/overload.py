"""Backpressure: a cap on requests in flight and a deadline per request, both answered with
503 + Retry-After instead of a growing queue.

The third guard, a short wait for a pooled database connection (DB_POOL_TIMEOUT), lives in
db.py; problems.py turns its TimeoutError into the same 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from quart import Quart
from quart.globals import request_ctx

from ..runtime.config import Settings
from .problems import RETRY_AFTER_SECONDS, unavailable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Probes and scrapes must answer while the API sheds load: that is when they matter most.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Where the URL rule of the matched route is left for the metrics middleware (a label that
# does not explode with ids, unlike the raw path).
ROUTE_KEY = "todoapp.route"

_OVERLOADED_BODY = orjson.dumps(
    {
        "type": "urn:todoapp:problem:unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The server is at its limit of requests in flight; retry shortly.",
    }
)
_OVERLOADED_START = {
    "type": "http.response.start",
    "status": 503,
    "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(_OVERLOADED_BODY)).encode()),
        (b"retry-after", RETRY_AFTER_SECONDS.encode()),
        (b"x-content-type-options", b"nosniff"),
    ],
}


class InFlightLimiter:
    """ASGI middleware: at most `limit` HTTP requests inside the app at once (per process);
    the rest get an immediate 503 without touching the app or the database.

    A counter, not a semaphore: waiting here would only move the queue, and a queue is what
    makes latency unbounded under overload."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self.rejected = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.rejected += 1
            await send(_OVERLOADED_START)
            await send({"type": "http.response.body", "body": _OVERLOADED_BODY})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


def init_app(app: Quart, settings: Settings) -> None:
    """Install the request deadline and the in-flight cap (MAX_IN_FLIGHT=0 turns it off)."""
    dispatch = app.dispatch_request
    timeout = settings.request_timeout

    async def dispatch_request(request_context: Any = None) -> Any:
        request_ = (request_context or request_ctx).request
        if request_.url_rule is not None:
            request_.scope[ROUTE_KEY] = request_.url_rule.rule
        if timeout <= 0:
            return await dispatch(request_context)
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
    # wraps every view (timeout + route label) without a before_request hook per request.
    app.dispatch_request = dispatch_request  # type: ignore[method-assign]
    # Quart's own cut-offs for slow clients (reading the body, sending the response).
    app.config["BODY_TIMEOUT"] = settings.request_timeout or None
    app.config["RESPONSE_TIMEOUT"] = settings.request_timeout or None

    if settings.max_in_flight > 0:
        limiter = InFlightLimiter(app.asgi_app, settings.max_in_flight)
        app.extensions["in_flight_limiter"] = limiter
        app.asgi_app = limiter  # type: ignore[method-assign]
