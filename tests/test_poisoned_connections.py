"""A few bad requests must not break pooled connections for good (issue 9, item 1).

The sequence the issue found: asyncpg prepares a statement (Parse, without Sync), then fails
to encode a parameter (an If-Match or cursor value past the column's range). The server is
left mid-statement with statement_timeout armed; when it fires, the connection's next BEGIN is
cancelled, asyncpg keeps its marker of that failed transaction, and every later transaction
on the connection answers 500 ("SAVEPOINT can only be used in transaction blocks"), /readyz
included, until the process restarts.

A short statement_timeout keeps the test quick; the mechanism is the same, as long as the
connection then stays idle past the timeout before its next transaction. So the test waits
for that state, seen in pg_stat_activity: no app connection has a statement open for less
than the timeout (the poisoned one shows its abandoned statement as 'active' from then on).
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Awaitable, Callable

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.data import db
from backend.domain.actor import IMPLICIT
from backend.runtime.config import Settings

from . import pg
from .servers import app_client, until

TIMEOUT_MS = 300
# The timer is armed just after query_start is recorded: a margin for the scheduler.
MARGIN_MS = 300


async def timers_run_out(database_url: str) -> bool:
    """True once no connection of the app has a statement younger than the timeout open."""
    seconds = (TIMEOUT_MS + MARGIN_MS) / 1000
    return await pg.app_statements_younger_than(database_url, seconds) == 0


def cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).rstrip(b"=").decode()


Poison = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def huge_if_match(client: httpx.AsyncClient) -> httpx.Response:
    headers = {"If-Match": '"99999999999999999999"'}
    return await client.patch("/api/todos/1", json={"title": "y"}, headers=headers)


async def huge_list_cursor(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/api/lists", params={"cursor": cursor("id", 2**63, 2**63)})


@pytest.mark.parametrize(("poison", "answer"), [(huge_if_match, 412), (huge_list_cursor, 422)])
async def test_bad_requests_leave_the_pool_healthy(
    settings: Settings, clean_db: AsyncEngine, database_url: str, poison: Poison, answer: int
) -> None:
    short = dataclasses.replace(settings, db_statement_timeout_ms=TIMEOUT_MS)
    async with app_client(short) as (_app, client):
        assert (await client.post("/api/todos", json={"title": "x"})).status_code == 201
        poisoned = [(await poison(client)).status_code for _ in range(20)]
        await until(lambda: timers_run_out(database_url), "statement timers ran out", limit_s=10)
        created = [
            (await client.post("/api/lists", json={"name": f"list {i}"})).status_code
            for i in range(20)
        ]
        ready = (await client.get("/readyz")).status_code
    assert (created, ready) == ([201] * 20, 200)
    assert poisoned == [answer] * 20


async def test_a_driver_error_discards_the_connection(
    settings: Settings, clean_db: AsyncEngine, database_url: str
) -> None:
    """The pool's own defence, whatever the edge lets through: after the driver fails on a
    parameter, the connection is thrown away, not handed to the next transaction."""
    one = dataclasses.replace(settings, db_statement_timeout_ms=TIMEOUT_MS, db_pool_size=1)
    async with app_client(one) as (app, _client), app.app_context():
        with pytest.raises(Exception, match="out of int32 range"):
            async with db.statement(IMPLICIT) as work:  # no request: name who it runs for
                await work.run(text("SELECT CAST(:v AS integer)"), {"v": 2**40})
        await until(lambda: timers_run_out(database_url), "statement timers ran out", limit_s=10)
        for _ in range(3):
            async with db.transaction(IMPLICIT) as work:
                assert await work.scalar(text("SELECT 1")) == 1
