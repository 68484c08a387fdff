"""Shared fixtures: a real PostgreSQL, the migrated schema, the app, an HTTP client."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend import create_app
from backend.runtime import migrate
from backend.runtime.config import Settings, asyncpg_url

from . import pg


@pytest.fixture(scope="session")
def pg_server() -> str:
    return pg.server_url()


@pytest.fixture(scope="session")
def database_url(pg_server: str) -> Iterator[str]:
    """The main test database, migrated to head once for the whole run."""
    with pg.scratch_database(pg_server, "main") as url:
        pg.in_thread(migrate.upgrade)(url)
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, db_pool_size=10, db_pool_timeout=5.0)


@pytest.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A separate engine for tests to look at the database directly."""
    engine = create_async_engine(asyncpg_url(database_url), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_db(db_engine: AsyncEngine) -> AsyncEngine:
    """Each test starts from the state a fresh migration leaves: one empty Inbox."""
    async with db_engine.begin() as conn:
        await conn.execute(
            text("TRUNCATE todos, todo_lists, idempotency_keys RESTART IDENTITY CASCADE")
        )
        await conn.execute(text("INSERT INTO todo_lists (name) VALUES ('Inbox')"))
    return db_engine


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Quart]:
    app = create_app(settings)
    async with LifespanManager(app):  # runs before_serving / after_serving
        yield app


@pytest.fixture
async def client(app: Quart, clean_db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        yield c


@pytest.fixture(scope="session")
def live_app(settings: Settings) -> Quart:
    return create_app(settings)


@pytest.fixture(scope="session")
async def live_server(live_app: Quart) -> AsyncIterator[str]:
    """The app on a real socket (Hypercorn, in the test loop): for real concurrency and
    disconnects. Yields its base URL."""
    # The socket listens before Hypercorn starts: early requests wait in the backlog,
    # so no readiness polling is needed.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = HypercornConfig()
    config.bind = [f"fd://{sock.detach()}"]  # Hypercorn owns (and closes) the fd now
    config.accesslog = None
    config.graceful_timeout = 5
    stop = asyncio.Event()
    task = asyncio.create_task(serve(live_app, config, shutdown_trigger=stop.wait))
    yield base
    stop.set()
    await task


@pytest.fixture
async def live_client(live_server: str, clean_db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=live_server, limits=limits, timeout=30) as c:
        yield c
