"""The database engine's lifecycle and the one place where transactions begin and end.

Two ways to do a request's work, both here and nowhere else:

- ``transaction()``: BEGIN ... COMMIT, rolled back on any error (including a client
  disconnect that cancels the request). For work of several statements.
- ``statement()``: for work that is a single SQL statement. PostgreSQL runs every statement
  atomically as its own transaction (autocommit), which saves the BEGIN and COMMIT round
  trips and lets row locks go as soon as the statement ends.

Inside an outer ``transaction()`` of the same request (e.g. the idempotency-key wrapper),
both join it, so the request stays one transaction.

Both yield a ``Work``: the session and the actor the work is done for. Every query takes it,
so scoping by who is asking is never a parameter a route could forget.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from quart import Quart, current_app, g
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)

from ..domain import actor as actors
from ..domain.actor import Actor
from ..edge.metrics import MeteredPool
from ..runtime.config import Settings, asyncpg_url
from . import Row


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
        app.extensions["db_transactions"] = engine
        app.extensions["db_statements"] = engine.execution_options(isolation_level="AUTOCOMMIT")

    @app.after_serving
    async def close_engine() -> None:
        await app.extensions.pop("db_engine").dispose()


def engine() -> AsyncEngine:
    return current_app.extensions["db_engine"]


@dataclass(frozen=True, slots=True)
class Work:
    """A unit of work: the connection it runs on and the actor it runs for.

    A Core connection, not an ORM session: the queries are Core statements on tables, and a
    session would only add its unit-of-work bookkeeping to every request."""

    conn: AsyncConnection
    actor: Actor

    async def rows(self, stmt: Any) -> Sequence[Row]:
        return (await self.conn.execute(stmt)).mappings().all()

    async def row(self, stmt: Any) -> Row | None:
        """The first row, or None."""
        return (await self.conn.execute(stmt)).mappings().first()

    async def scalar(self, stmt: Any) -> Any:
        return (await self.conn.execute(stmt)).scalar()

    async def rowcount(self, stmt: Any) -> int:
        return (await self.conn.execute(stmt)).rowcount  # type: ignore[attr-defined]

    async def run(self, stmt: Any, params: Any = None) -> Any:
        return await self.conn.execute(stmt, params)


@asynccontextmanager
async def transaction() -> AsyncIterator[Work]:
    """A unit of work of several statements: committed if the block succeeds, else rolled back."""
    async with _work("db_transactions") as work:
        yield work


@asynccontextmanager
async def statement() -> AsyncIterator[Work]:
    """For exactly one SQL statement, which PostgreSQL commits on its own (autocommit)."""
    async with _work("db_statements") as work:
        yield work


@asynccontextmanager
async def outside_request(app: Quart, actor: Actor) -> AsyncIterator[Work]:
    """A one-statement unit of work (autocommit) for `actor` where no request is going on:
    a live event stream's body runs after its request has ended (backend/live)."""
    engine: AsyncEngine = app.extensions["db_statements"]
    async with engine.connect() as conn, conn.begin():
        yield Work(conn, actor)


@asynccontextmanager
async def _work(kind: str) -> AsyncIterator[Work]:
    joined: Work | None = g.get("db_work")
    if joined is not None:
        yield joined
        return
    engine: AsyncEngine = current_app.extensions[kind]
    async with engine.connect() as conn, conn.begin():
        g.db_work = work = Work(conn, actors.current())
        try:
            yield work
        finally:
            g.pop("db_work", None)
