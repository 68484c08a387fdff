"""Helpers for tests that need an app or a live server with settings of their own
(a tiny pool, a low in-flight cap, a short deadline)."""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from prometheus_client.parser import text_string_to_metric_families
from quart import Quart

from backend import create_app
from backend.config import Settings


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[tuple[Quart, httpx.AsyncClient]]:
    """A fresh app (own engine and pool) with its lifespan run, and an in-process client."""
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield app, c


@asynccontextmanager
async def live_app(settings: Settings) -> AsyncIterator[tuple[Quart, str]]:
    """A fresh app on a real socket (Hypercorn in the test loop); yields it and its URL."""
    app = create_app(settings)
    # Listening before Hypercorn starts: early requests wait in the backlog, no polling.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    config = HypercornConfig()
    config.bind = [f"fd://{sock.fileno()}"]
    config.accesslog = None
    config.graceful_timeout = 5
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        yield app, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        await task
        # Hypercorn wrapped the fd in a socket of its own and closed it: forget it here
        # (closing it again could close an unrelated, newer file with the same number).
        sock.detach()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text format -> {(sample name, sorted labels): value}."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def until(
    predicate: Callable[[], bool | Awaitable[bool]], what: str, attempts: int = 1000
) -> None:
    """Yield to the event loop until predicate() holds: waits for a state the test can see
    (a request parked in the pool), not for a guessed amount of time."""
    for _ in range(attempts):
        result = predicate()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")
