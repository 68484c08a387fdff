"""Prometheus metrics at GET /metrics: requests and latency by route and status, requests in
flight, and the database pool (connections in use, requests waiting for one, timeouts).

With several worker processes, `todoapp serve` points PROMETHEUS_MULTIPROC_DIR at a fresh
folder before the workers start; every worker then writes its samples there and any worker
answers /metrics with the sum over all of them (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import logging
import os
import time
from functools import cache
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess
from prometheus_client import values as prom_values
from quart import Blueprint, Quart, Response
from quart.globals import request_ctx
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.pool.base import ConnectionPoolEntry

from ..api.common import answers
from .asgitypes import ASGIApp, Receive, Scope, Send

# Our requests take ~1-50 ms; the buckets resolve that range and the 503 region above it.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Where the URL rule of the matched route is left in the ASGI scope for the middleware: a
# label that does not explode with ids, unlike the raw path.
ROUTE_KEY = "todoapp.route"


class _Metrics:
    """The process's metric objects, made on first use rather than at import: `todoapp serve`
    imports this package before it sets PROMETHEUS_MULTIPROC_DIR, and a server that forks its
    workers (granian) would otherwise hand them in-memory values the others never see."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        if self.multiprocess:
            # prometheus_client picks its value class at import time: pick again.
            prom_values.ValueClass = prom_values.get_value_class()
        self.requests = Counter(
            "todoapp_http_requests_total",
            "HTTP requests answered, by method, route (URL rule) and status.",
            ["method", "route", "status"],
        )
        self.latency = Histogram(
            "todoapp_http_request_duration_seconds",
            "Time from request start to the end of the response, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
        )
        self.in_flight = _live_gauge(
            "todoapp_http_requests_in_flight", "HTTP requests being processed now."
        )
        self.pool_size = _live_gauge(
            "todoapp_db_pool_size",
            "Configured database connections (pool size + max overflow), over all workers.",
        )
        self.pool_in_use = _live_gauge(
            "todoapp_db_pool_checked_out", "Database connections checked out of the pool now."
        )
        self.pool_waiting = _live_gauge(
            "todoapp_db_pool_waiting", "Requests waiting for a free database connection now."
        )
        self.pool_timeouts = Counter(
            "todoapp_db_pool_timeouts_total",
            "Checkouts that gave up after DB_POOL_TIMEOUT (answered 503).",
        )


def _live_gauge(name: str, documentation: str) -> Gauge:
    # "livesum": with several workers, the sum over the live worker processes.
    return Gauge(name, documentation, multiprocess_mode="livesum")


@cache
def get() -> _Metrics:
    """Once per process (tests create several apps in one process: they share these)."""
    return _Metrics()


class MeteredPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, counting checkouts, waiters and timeouts.

    _do_get only yields to the event loop while it waits for a connection (or opens one),
    so a scrape, which runs on the same loop, sees pool_waiting > 0 only for real waits."""

    def _do_get(self) -> ConnectionPoolEntry:
        m = get()
        m.pool_waiting.inc()
        try:
            entry = super()._do_get()
        except Exception as error:
            from sqlalchemy.exc import TimeoutError as PoolTimeout

            if isinstance(error, PoolTimeout):
                m.pool_timeouts.inc()
            raise
        finally:
            m.pool_waiting.dec()
        m.pool_in_use.set(self.checkedout())
        return entry

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        super()._do_return_conn(record)
        # set(), not dec(): the pool's own count cannot drift on invalidated connections.
        get().pool_in_use.set(self.checkedout())


# The status of a request whose client went away before any response started (nginx's
# convention): nothing was sent, so it is neither a success nor a server error.
CLIENT_GONE = 499
UNMATCHED, REJECTED = "<unmatched>", "<rejected>"


class MetricsMiddleware:
    """ASGI middleware: counts and times every HTTP request, including the refusals of the
    middlewares it wraps (route "<rejected>": the in-flight cap's 503, the body reader's
    408/413/429, ...)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = get()
        # labels() takes a lock and builds a tuple key each time: cache the children.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: int | None = None  # until a response starts

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        m = self.metrics
        start = time.perf_counter()
        m.in_flight.inc()
        try:
            await self.app(scope, receive, send_status)
            # Quart answers every request, errors included, unless the client hung up: it
            # then cancels the handler and returns without a response.
            status = status or CLIENT_GONE
        finally:
            status = status or 500  # the app raised before starting a response
            m.in_flight.dec()
            elapsed = time.perf_counter() - start
            # No URL rule: routing failed, or an edge middleware answered before routing.
            route = scope.get(ROUTE_KEY) or (UNMATCHED if status in (404, 405) else REJECTED)
            method = scope["method"]
            key = (method, route, status)
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = m.requests.labels(method, route, str(status))
            counter.inc()
            hkey = (method, route)
            histogram = self._histograms.get(hkey)
            if histogram is None:
                histogram = self._histograms[hkey] = m.latency.labels(method, route)
            histogram.observe(elapsed)


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@answers(str, media_type=CONTENT_TYPE_LATEST)
async def metrics() -> Response:
    """Prometheus metrics of all worker processes (text exposition format)."""
    if get().multiprocess:
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _label_routes(app: Quart) -> None:
    """Leave the matched URL rule in the scope for MetricsMiddleware.

    Quart calls self.dispatch_request from full_dispatch_request: an instance attribute sees
    every matched request without a before_request hook (and its cost) per request."""
    dispatch = app.dispatch_request

    async def dispatch_request(request_context: Any = None) -> Any:
        request_ = (request_context or request_ctx).request
        if request_.url_rule is not None:
            request_.scope[ROUTE_KEY] = request_.url_rule.rule
        return await dispatch(request_context)

    app.dispatch_request = dispatch_request  # type: ignore[method-assign]


def init_app(app: Quart) -> None:
    """Register /metrics, label requests by route, and wrap the app (call after
    overload.init_app, so the limiter's 503s are counted too)."""
    app.register_blueprint(bp)
    _label_routes(app)
    app.asgi_app = MetricsMiddleware(app.asgi_app)  # type: ignore[method-assign]

    capacity = 0

    @app.before_serving
    async def pool_size() -> None:  # registered after db's hook: the engine exists
        nonlocal capacity
        engine = app.extensions.get("db_engine")
        if engine is not None:
            pool = engine.sync_engine.pool
            capacity = pool.size() + max(pool._max_overflow, 0)
            get().pool_size.inc(capacity)

    @app.after_serving
    async def pool_closed() -> None:
        get().pool_size.dec(capacity)


# SQLAlchemy names a pool's logger after its class: keep ours as quiet as the stock pool's
# under LOG_LEVEL=INFO (no "Pool disposed / recreating" lines).
logging.getLogger(f"{MeteredPool.__module__}.{MeteredPool.__name__}").setLevel(logging.WARNING)
