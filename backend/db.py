"""The database engine's lifecycle and the one place where transactions begin and end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from quart import Quart, current_app
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .config import Settings, asyncpg_url
from .metrics import MeteredPool


def create_engine(settings: Settings) -> AsyncEngine:
    assert settings.database_url, "DATABASE_URL is resolved before the app is created"
    return create_async_engine(
        asyncpg_url(settings.database_url),
        # A fixed pool: no overflow connections opened and closed under load, and a short
        # wait for a free connection so overload turns into a quick 503, not a queue.
        pool_size=settings.db_pool_size,
        poolclass=MeteredPool,  # counts connections in use and waiters for /metrics
        max_overflow=0,
        pool_timeout=settings.db_pool_timeout,
        connect_args={
            "timeout": settings.db_connect_timeout,
            "command_timeout": settings.db_statement_timeout_ms / 1000 + 5,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "todoapp",
            },
        },
    )


def init_app(app: Quart, settings: Settings) -> None:
    @app.before_serving
    async def open_engine() -> None:
        engine = create_engine(settings)
        app.extensions["db_engine"] = engine
        # expire_on_commit=False: rows stay readable after commit without another SELECT.
        app.extensions["db_sessions"] = async_sessionmaker(engine, expire_on_commit=False)
        # Same pool, no BEGIN/COMMIT: see single_statement().
        app.extensions["db_autocommit_sessions"] = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @app.after_serving
    async def close_engine() -> None:
        await app.extensions.pop("db_engine").dispose()


def engine() -> AsyncEngine:
    return current_app.extensions["db_engine"]


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """One request's unit of work: committed if the block succeeds, rolled back on any error
    (including a client disconnect that cancels the request)."""
    sessions: async_sessionmaker[AsyncSession] = current_app.extensions["db_sessions"]
    async with sessions() as session, session.begin():
        yield session


@asynccontextmanager
async def single_statement() -> AsyncIterator[AsyncSession]:
    """A session for a route that runs exactly one statement (a read, or one INSERT / UPDATE /
    DELETE ... RETURNING): PostgreSQL makes a lone statement atomic by itself, so the BEGIN
    and COMMIT round trips of transaction() are pure overhead there (2 of its 3). Anything
    that runs two statements that must stand or fall together uses transaction()."""
    sessions: async_sessionmaker[AsyncSession] = current_app.extensions["db_autocommit_sessions"]
    async with sessions() as session:
        yield session
