"""Shared fixtures: a real PostgreSQL, the migrated schema, the app, an HTTP client.

The app runs with accounts on (AUTH=on); `client` and `live_client` are signed in as
"alice" with her access token, and her Inbox is list 1. `client_off` is the AUTH=off app
(one implicit user); tests of that mode override `inbox_owner` so that list 1 is its Inbox.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend import create_app
from backend.data.credentials import digest
from backend.domain import passwords
from backend.runtime import migrate
from backend.runtime.config import Settings, asyncpg_url

from . import pg
from .users import ALICE, ALICE_ID, ALICE_PASSWORD, ALICE_TOKEN, AUTH_HEADERS


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
    return Settings(database_url=database_url, db_pool_size=10, db_pool_timeout=5.0, auth="on")


@pytest.fixture(scope="session")
def settings_off(settings: Settings) -> Settings:
    return replace(settings, auth="off")


@pytest.fixture(scope="session")
def alice_hash() -> str:
    return passwords._hasher.hash(ALICE_PASSWORD)  # once: Argon2 takes a while


@pytest.fixture
def inbox_owner() -> int:
    """Who owns list 1, the Inbox: alice (AUTH=on tests) or the implicit user (AUTH=off)."""
    return ALICE_ID


@pytest.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A separate engine for tests to look at the database directly."""
    engine = create_async_engine(asyncpg_url(database_url), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_db(db_engine: AsyncEngine, alice_hash: str, inbox_owner: int) -> AsyncEngine:
    """Each test starts from a fresh migration's state plus one account, alice (id 1, with
    an access token), and one empty Inbox (id 1) owned by `inbox_owner`."""
    async with db_engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE todos, todo_lists, idempotency_keys, users, sessions, access_tokens, "
                "list_members, auth_failures RESTART IDENTITY CASCADE"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO users (id, username, password_hash) "
                "VALUES (0, NULL, NULL), (:id, :name, :hash)"
            ),
            {"id": ALICE_ID, "name": ALICE, "hash": alice_hash},
        )
        await conn.execute(
            text("SELECT setval(pg_get_serial_sequence('users', 'id'), :id)"), {"id": ALICE_ID}
        )
        await conn.execute(
            text("INSERT INTO todo_lists (name, owner_id) VALUES ('Inbox', :owner)"),
            {"owner": inbox_owner},
        )
        await conn.execute(
            text(
                "INSERT INTO access_tokens (user_id, name, secret_hash) "
                "VALUES (:id, 'tests', :hash)"
            ),
            {"id": ALICE_ID, "hash": digest(ALICE_TOKEN)},
        )
    return db_engine


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Quart]:
    app = create_app(settings)
    async with LifespanManager(app):  # runs before_serving / after_serving
        yield app


@pytest.fixture(scope="session")
async def app_off(settings_off: Settings) -> AsyncIterator[Quart]:
    app = create_app(settings_off)
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def client(app: Quart, clean_db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in as alice (her access token)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://localhost", headers=AUTH_HEADERS
    ) as c:
        yield c


@pytest.fixture
async def anonymous(app: Quart, clean_db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The AUTH=on app without credentials (a browser before sign-in)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        yield c


@pytest.fixture
async def client_off(app_off: Quart, clean_db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The AUTH=off app: every request is the implicit user's."""
    transport = httpx.ASGITransport(app=app_off)
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
    """Signed in as alice (her access token), on the live server."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(
        base_url=live_server, limits=limits, timeout=30, headers=AUTH_HEADERS
    ) as c:
        yield c
