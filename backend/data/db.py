"""The database engine's lifecycle and the one place where transactions begin and end.

Two ways to do a request's work, both here and nowhere else:

- ``transaction()``: BEGIN ... COMMIT, rolled back on any error (including a client
  disconnect that cancels the request). For work of several statements.
- ``statement()``: for work that is a single SQL statement. PostgreSQL runs every statement
  atomically as its own transaction (autocommit), which saves the BEGIN and COMMIT round
  trips and lets row locks go as soon as the statement ends.

Inside an outer ``transaction()`` of the same request (e.g. the idempotency-key wrapper),
both join it, so the request stays one transaction.

Both yield a ``Work``: the connection and the actor the work is done for. Every query takes
it, so scoping by who is asking is never a parameter a route could forget.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from quart import Quart, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
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
    engine = create_async_engine(
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
            # A session setting, not SET LOCAL per transaction (a round trip each): it also
            # bounds the autocommit statements. Its one hazard, a timer armed by a statement
            # the driver abandoned, is why connections with an unknown state are discarded.
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": "todoapp",
            },
        },
    )
    event.listen(engine.sync_engine, "handle_error", discard_unknown_connections)
    return engine


# SQLSTATE classes after which a connection is not trusted again: connection exceptions (08),
# invalid transaction state (25), operator intervention (57: cancelled, shut down, restarting),
# system and internal errors (58, XX). Other server errors (a constraint, a bad value, a
# deadlock) end in a clean, rolled-back state, and the connection stays.
_UNTRUSTED_CLASSES = {"08", "25", "57", "58", "XX"}
# Of these, the ones that mean the server's other sessions are gone too (a restart).
_SERVER_GONE = ("08", "57P")


def discard_unknown_connections(context: ExceptionContext) -> None:
    """After an error that may leave the connection in an unknown state, throw it away
    (SQLAlchemy invalidates it: closed, and replaced on the next checkout).

    Why (issue 9): asyncpg prepares a statement (Parse, no Sync) and then encodes the
    parameters; if encoding fails, the server is left mid-statement with statement_timeout
    armed. The timer later cancels the connection's next BEGIN, asyncpg keeps its marker of
    that failed transaction, and every later transaction on it fails ("SAVEPOINT can only be
    used in transaction blocks"). Any error the driver raised itself, rather than the server
    reporting it, may leave such a state; so may the SQLSTATE classes above.
    """
    if context.is_disconnect:
        return  # SQLAlchemy saw a closed connection: its own handling (the whole pool) stands
    error = context.original_exception
    driver_error = error.__cause__ or error  # SQLAlchemy's DBAPI adapter wraps asyncpg's
    if _reported_by_server(driver_error):
        sqlstate = driver_error.sqlstate or ""
        if sqlstate[:2] not in _UNTRUSTED_CLASSES:
            return
        # A restart takes every connection of the pool with it: replace them all.
        context.invalidate_pool_on_disconnect = sqlstate.startswith(_SERVER_GONE)
    else:
        # Raised by the driver itself (encoding, protocol, a timeout, a broken socket).
        context.invalidate_pool_on_disconnect = isinstance(driver_error, OSError)
    context.is_disconnect = True


def _reported_by_server(error: BaseException) -> bool:
    # asyncpg raises its DataError (a PostgresError, SQLSTATE 22000) itself when it cannot
    # encode a parameter; only an error the server sent carries the server's fields.
    return isinstance(error, asyncpg.PostgresError) and error.severity is not None


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
async def transaction(actor: Actor | None = None) -> AsyncIterator[Work]:
    """A unit of work of several statements: committed if the block succeeds, else rolled back.
    It runs for the request's actor; the auth layer, which works before there is one, names
    its own (``actor.NOBODY``)."""
    async with _work("db_transactions", actor) as work:
        yield work


@asynccontextmanager
async def statement(actor: Actor | None = None) -> AsyncIterator[Work]:
    """For exactly one SQL statement, which PostgreSQL commits on its own (autocommit)."""
    async with _work("db_statements", actor) as work:
        yield work


@asynccontextmanager
async def outside_request(app: Quart, actor: Actor) -> AsyncIterator[Work]:
    """A one-statement unit of work (autocommit) for `actor` where no request is going on:
    a live event stream's body runs after its request has ended (backend/live)."""
    engine: AsyncEngine = app.extensions["db_statements"]
    async with engine.connect() as conn, conn.begin():
        yield Work(conn, actor)


@asynccontextmanager
async def _work(kind: str, actor: Actor | None) -> AsyncIterator[Work]:
    joined: Work | None = g.get("db_work")
    if joined is not None:
        assert actor is None or actor == joined.actor, "one actor per request"
        yield joined
        return
    engine: AsyncEngine = current_app.extensions[kind]
    async with engine.connect() as conn, conn.begin():
        g.db_work = work = Work(conn, actor or actors.current())
        try:
            yield work
        finally:
            g.pop("db_work", None)
