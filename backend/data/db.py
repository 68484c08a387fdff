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

Also here, because they are how a unit of work gets and uses its connection:
``Admission``, which hands out the pool's connections in arrival order, and ``prepared``,
the hot statements built and compiled once and run on the driver connection.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any

import asyncpg
from quart import Quart, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from ..domain import actor as actors
from ..domain.actor import Actor
from ..edge import metrics
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

    Why: asyncpg prepares a statement (Parse, no Sync) and then encodes the
    parameters; if encoding fails, the server is left mid-statement with statement_timeout
    armed. The timer later cancels the connection's next BEGIN, asyncpg keeps its marker of
    that failed transaction, and every later transaction on it fails ("SAVEPOINT can only be
    used in transaction blocks"). Any error the driver raised itself, rather than the server
    reporting it, may leave such a state; so may the SQLSTATE classes above.
    """
    if context.is_disconnect:
        return  # SQLAlchemy saw a closed connection: its own handling (the whole pool) stands
    discard, whole_pool = untrusted(context.original_exception)
    if discard:
        context.invalidate_pool_on_disconnect = whole_pool
        context.is_disconnect = True


def untrusted(error: BaseException) -> tuple[bool, bool]:
    """(discard the connection?, and every other one of the pool?) after `error`."""
    driver_error = error.__cause__ or error  # SQLAlchemy's DBAPI adapter wraps asyncpg's
    if _reported_by_server(driver_error):
        sqlstate = driver_error.sqlstate or ""  # type: ignore[attr-defined]
        if sqlstate[:2] not in _UNTRUSTED_CLASSES:
            return False, False
        # A restart takes every connection of the pool with it: replace them all.
        return True, sqlstate.startswith(_SERVER_GONE)
    # Raised by the driver itself (encoding, protocol, a timeout, a broken socket, a
    # cancellation in the middle of a statement).
    return True, isinstance(driver_error, OSError)


def _reported_by_server(error: BaseException) -> bool:
    # asyncpg raises its DataError (a PostgresError, SQLSTATE 22000) itself when it cannot
    # encode a parameter; only an error the server sent carries the server's fields.
    return isinstance(error, asyncpg.PostgresError) and error.severity is not None


class Admission:
    """Fair admission to the pool: at most `slots` units of work (the pool's size) hold a
    connection, and the others wait in arrival order, however many there are (the
    in-flight cap, MAX_IN_FLIGHT, bounds them). A released slot goes straight to the
    longest waiter, so a newcomer never overtakes it.

    Why: the pool's own queue lets a request that arrives just as a connection
    comes back take it, and sends the waiter it was meant for to the back of the queue; at
    128 connections some requests waited seconds behind later ones (p99 10-25x p50), and the
    2 s pool timeout answered 503 to a server that was merely busy. In arrival order, a wait
    is the queue ahead divided by the throughput, so DB_POOL_TIMEOUT is only reached when the
    database cannot keep up (truly overloaded): then the request gets 503 + Retry-After."""

    def __init__(self, slots: int, timeout: float) -> None:
        self.free = slots
        self.timeout = timeout
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        await self._wait()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()

    async def _wait(self) -> None:
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(slot)
        waiting = metrics.get().pool_waiting
        waiting.inc()
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.shield(slot)
        except BaseException as error:
            if slot.done() and not slot.cancelled():
                self.release()  # handed a slot just as the wait ended: pass it on
            else:
                slot.cancel()  # release() skips it
            if isinstance(error, TimeoutError):
                metrics.get().pool_timeouts.inc()
                raise PoolTimeout("no database connection within DB_POOL_TIMEOUT") from None
            raise
        finally:
            waiting.dec()

    def release(self) -> None:
        while self.waiters:
            slot = self.waiters.popleft()
            if not slot.done():
                slot.set_result(None)  # the slot changes hands: `free` stays as it is
                return
        self.free += 1


def init_app(app: Quart, settings: Settings) -> None:
    @app.before_serving
    async def open_engine() -> None:
        engine = create_engine(settings)
        app.extensions["db_engine"] = engine
        app.extensions["db_admission"] = Admission(settings.db_pool_size, settings.db_pool_timeout)
        app.extensions["db_transactions"] = engine
        app.extensions["db_statements"] = engine.execution_options(isolation_level="AUTOCOMMIT")

    @app.after_serving
    async def close_engine() -> None:
        await app.extensions.pop("db_engine").dispose()


def engine() -> AsyncEngine:
    return current_app.extensions["db_engine"]


# The actor a statement built once (see `prepared`) is built for: nobody. Its `actor_id`
# parameter is set from the Work on every execution; left unset it would match no list.
ANY_ACTOR = actors.NOBODY
ACTOR_PARAM = "actor_id"  # the name data/scope.py gives the actor's id in every condition


class Prepared:
    """A statement built once by SQLAlchemy, whose per-request values are named bind
    parameters, and compiled once per process into the SQL text asyncpg runs.

    Why: building a statement (coercions, cache keys) and SQLAlchemy's execution
    layers (execution context, greenlet hops, result objects) cost more CPU than the rest of a
    small request together. SQLAlchemy still builds and compiles every statement (tables,
    types, dialect, parameter order): only the per-request work is skipped."""

    __slots__ = ("_plan", "statement")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._plan: _Plan | None = None

    def plan(self, dialect: Any) -> _Plan:
        if self._plan is None:
            self._plan = _Plan.compile(self.statement, dialect)
        return self._plan


@dataclass(frozen=True, slots=True)
class _Plan:
    """A compiled statement: SQL text, and how to turn named values into its `$n` arguments
    (each parameter's name, default and SQLAlchemy bind processor) and its rows into ours."""

    sql: str
    names: frozenset[str]
    arguments: tuple[tuple[str, Any, Any], ...]  # (name, value when not given, processor)
    results: tuple[tuple[str, Any], ...] | None  # (column, processor) when any converts

    @classmethod
    def compile(cls, statement: Any, dialect: Any) -> _Plan:
        compiled = statement.compile(dialect=dialect)
        required = {b.key: None for b in compiled.binds.values() if b.required}
        # Renders "expanding" parameters of constant lists (IN ('editor', 'viewer')); a list
        # given per request must be one ARRAY parameter (= ANY(:ids)) instead.
        state = compiled.construct_expanded_state(required, escape_names=False)
        assert state.positiontup is not None, "asyncpg's dialect is positional"
        processors = state.processors
        arguments = tuple(
            (name, state.parameters[name], processors.get(name)) for name in state.positiontup
        )
        converters = [
            (name, type_.dialect_impl(dialect).result_processor(dialect, None))
            for name, _, _, type_ in compiled._result_columns
        ]
        results = tuple(converters) if any(p for _, p in converters) else None
        return cls(state.statement, frozenset(state.positiontup), arguments, results)

    def args(self, values: dict[str, Any]) -> list[Any]:
        out = []
        for name, default, process in self.arguments:
            value = values.get(name, default)
            out.append(process(value) if process is not None and value is not None else value)
        return out

    def convert(self, record: Any) -> Row:
        if self.results is None:
            return record  # an asyncpg Record: a read-only mapping by column name
        return {name: p(record[name]) if p else record[name] for name, p in self.results}


def prepared(build: Callable[..., Any]) -> Callable[..., Prepared]:
    """Decorator: `build(*shape)` returns a statement whose per-request values are bind
    parameters (`bindparam("todo_id")`); it runs once per distinct `shape` (hashable
    arguments that change the statement's form, never values), and Work runs the result with
    the values by name. Conditions on the actor are built for ANY_ACTOR: Work sets their
    `actor_id` from its own actor on every execution."""
    built: dict[tuple[Any, ...], Prepared] = {}

    @wraps(build)
    def get(*shape: Any) -> Prepared:
        statement = built.get(shape)
        if statement is None:
            statement = built[shape] = Prepared(build(*shape))
        return statement

    return get


class Work:
    """A unit of work: the connection it runs on and the actor it runs for.

    A Core connection, not an ORM session: the queries are Core statements on tables, and a
    session would only add its unit-of-work bookkeeping to every request. `driver` is the
    asyncpg connection under it for autocommit work (`statement()`): there a `Prepared`
    statement runs on it directly. In a transaction it runs through SQLAlchemy, which owns
    BEGIN and COMMIT."""

    __slots__ = ("_conn", "actor", "driver")

    def __init__(
        self, conn: AsyncConnection | None, actor: Actor, driver: asyncpg.Connection | None = None
    ) -> None:
        self._conn = conn
        self.actor = actor
        self.driver = driver

    @property
    def conn(self) -> AsyncConnection:
        assert self._conn is not None
        return self._conn

    @property
    def dialect(self) -> Any:
        return self.conn.dialect

    async def rows(self, stmt: Any, **values: Any) -> Sequence[Row]:
        if isinstance(stmt, Prepared):
            if self.driver is not None:
                plan = stmt.plan(self.dialect)
                records = await self._driver(self.driver.fetch, plan, values)
                return records if plan.results is None else [plan.convert(r) for r in records]
            stmt, values = self._through_sqlalchemy(stmt, values)
        return (await self.conn.execute(stmt, values or None)).mappings().all()

    async def row(self, stmt: Any, **values: Any) -> Row | None:
        """The first row, or None."""
        if isinstance(stmt, Prepared) and self.driver is not None:
            plan = stmt.plan(self.dialect)
            record = await self._driver(self.driver.fetchrow, plan, values)
            return None if record is None else plan.convert(record)
        if isinstance(stmt, Prepared):
            stmt, values = self._through_sqlalchemy(stmt, values)
        return (await self.conn.execute(stmt, values or None)).mappings().first()

    async def scalar(self, stmt: Any, **values: Any) -> Any:
        if isinstance(stmt, Prepared) and self.driver is not None:
            return await self._driver(self.driver.fetchval, stmt.plan(self.dialect), values)
        if isinstance(stmt, Prepared):
            stmt, values = self._through_sqlalchemy(stmt, values)
        return (await self.conn.execute(stmt, values or None)).scalar()

    async def rowcount(self, stmt: Any, **values: Any) -> int:
        if isinstance(stmt, Prepared) and self.driver is not None:
            status = await self._driver(self.driver.execute, stmt.plan(self.dialect), values)
            return int(status.rsplit(" ", 1)[-1])  # "UPDATE 3"
        if isinstance(stmt, Prepared):
            stmt, values = self._through_sqlalchemy(stmt, values)
        return (await self.conn.execute(stmt, values or None)).rowcount  # type: ignore[attr-defined]

    async def run(self, stmt: Any, params: Any = None) -> Any:
        return await self.conn.execute(stmt, params)

    def _through_sqlalchemy(self, stmt: Prepared, values: dict[str, Any]) -> tuple[Any, Any]:
        names = stmt.plan(self.dialect).names
        given = {k: v for k, v in values.items() if k in names}
        if ACTOR_PARAM in names:
            given[ACTOR_PARAM] = self.actor.user_id
        return stmt.statement, given

    async def _driver(self, method: Any, plan: _Plan, values: dict[str, Any]) -> Any:
        if ACTOR_PARAM in plan.names:
            values[ACTOR_PARAM] = self.actor.user_id
        try:
            return await method(plan.sql, *plan.args(values))
        except BaseException as error:
            discard, whole_pool = untrusted(error)
            if discard:
                await self._discard(error, whole_pool)
            raise

    async def _discard(self, error: BaseException, whole_pool: bool) -> None:
        """What discard_unknown_connections does for SQLAlchemy's executions, for ours: a
        connection whose state is unknown is closed, never handed to the next request."""
        if whole_pool:
            # As SQLAlchemy does on a disconnect: older connections are replaced on checkout.
            self.conn.sync_engine.pool._invalidate(self.conn.sync_connection.connection, error)
        await self.conn.invalidate(error if isinstance(error, Exception) else None)


class _Pooled(Work):
    """An autocommit unit's Work: a connection of the pool, checked out without a
    SQLAlchemy Connection around it (its set-up and tear-down cost more than a whole
    prepared statement). Prepared statements run on the driver; the first statement that
    goes through SQLAlchemy makes the Connection, on the same pooled connection."""

    __slots__ = ("_engine", "_pooled")

    def __init__(self, engine: AsyncEngine, pooled: PoolProxiedConnection, actor: Actor) -> None:
        super().__init__(None, actor, pooled.driver_connection)
        self._engine = engine  # the autocommit engine: a Connection made here is one too
        self._pooled = pooled

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            self._conn = AsyncConnection(
                self._engine, Connection(self._engine.sync_engine, self._pooled)
            )
        return self._conn

    @property
    def dialect(self) -> Any:
        return self._engine.dialect

    async def _discard(self, error: BaseException, whole_pool: bool) -> None:
        if self._conn is not None:
            await super()._discard(error, whole_pool)
            return
        if whole_pool:
            self._engine.sync_engine.pool._invalidate(self._pooled, error, _checkin=False)
        # Closing the driver's connection may wait on it: SQLAlchemy runs that in a greenlet.
        reason = error if isinstance(error, Exception) else None
        await greenlet_spawn(self._pooled.invalidate, reason)

    async def close(self) -> None:
        """Back to the pool (what the pool does at check-in waits on nothing: no
        transaction is open on an autocommit connection)."""
        if self._conn is not None:
            await self._conn.close()
        else:
            self._pooled.close()


class _Unit:
    """statement()'s unit of work, as one context manager: the request's turn at the pool
    (Admission), a pooled connection, and the Work, which a nested unit of the request
    joins. (A plain class: it runs on every request, and each @asynccontextmanager layer
    costs a generator and its steps.)"""

    __slots__ = ("_actor", "_admission", "_app", "_joined", "_request", "_work")

    def __init__(self, app: Quart, actor: Actor | None, *, in_request: bool) -> None:
        self._app = app
        self._actor = actor
        self._request = in_request
        self._joined: Work | None = g.get("db_work") if in_request else None
        assert self._joined is None or actor in (None, self._joined.actor), "one actor per request"
        self._admission: Admission = app.extensions["db_admission"]

    async def __aenter__(self) -> Work:
        if self._joined is not None:
            return self._joined
        await self._admission.__aenter__()
        try:
            engine: AsyncEngine = self._app.extensions["db_statements"]
            pooled = await greenlet_spawn(_check_out, engine.sync_engine)
        except BaseException:
            self._admission.release()
            raise
        self._work = _Pooled(engine, pooled, self._actor or actors.current())
        if self._request:
            g.db_work = self._work
        return self._work

    async def __aexit__(self, *exc_info: object) -> None:
        if self._joined is not None:
            return
        if self._request:
            g.pop("db_work", None)
        try:
            await self._work.close()
        finally:
            self._admission.release()


def _check_out(engine: Engine) -> PoolProxiedConnection:
    """A connection of the pool, a failure to connect reported as engine.connect() does
    (wrapped as SQLAlchemy's error, after its handle_error events)."""
    try:
        return engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as error:
        Connection._handle_dbapi_exception_noconnection(error, engine.dialect, engine)
        raise


@asynccontextmanager
async def transaction(actor: Actor | None = None) -> AsyncIterator[Work]:
    """A unit of work of several statements: committed if the block succeeds, else rolled back.
    It runs for the request's actor; the auth layer, which works before there is one, names
    its own (``actor.NOBODY``)."""
    joined: Work | None = g.get("db_work")
    if joined is not None:
        assert actor is None or actor == joined.actor, "one actor per request"
        yield joined
        return
    engine: AsyncEngine = current_app.extensions["db_transactions"]
    async with current_app.extensions["db_admission"], engine.connect() as conn, conn.begin():
        work = Work(conn, actor or actors.current())
        g.db_work = work  # the request's unit of work, for any nested one to join
        try:
            yield work
        finally:
            g.pop("db_work", None)


def statement(actor: Actor | None = None) -> AbstractAsyncContextManager[Work]:
    """For exactly one SQL statement, which PostgreSQL commits on its own (autocommit)."""
    return _Unit(current_app, actor, in_request=True)


def outside_request(app: Quart, actor: Actor) -> AbstractAsyncContextManager[Work]:
    """A one-statement unit of work (autocommit) for `actor` where no request is going on:
    a live event stream's body runs after its request has ended (backend/live)."""
    return _Unit(app, actor, in_request=False)
