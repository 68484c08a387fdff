"""The PostgreSQL server the tests use: DATABASE_URL's server, or an embedded one.

Every test run works in databases of its own (todoapp_test_<pid>_*), created here and
dropped at the end, so a server given by DATABASE_URL keeps its own data untouched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from backend.runtime import embedded


def server_url() -> str:
    """A URL on the server (its maintenance database), started embedded if needed."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return with_database(url, "postgres")
    data_dir = Path(tempfile.mkdtemp(prefix="todoapp-test-pg-"))
    return embedded.start(data_dir, "postgres", delete_on_exit=True)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def plain(url: str) -> str:
    """asyncpg wants postgresql:// without a +driver suffix."""
    _scheme, _, rest = url.partition("://")
    return "postgresql://" + rest


_counter = iter(range(1_000_000))


@contextmanager
def scratch_database(server: str, label: str) -> Iterator[str]:
    """A new, empty database for the duration of the block; yields its URL."""
    import asyncio

    name = f"todoapp_test_{os.getpid()}_{label}_{next(_counter)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(plain(server))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run = _in_thread(asyncio.run)
    run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(server, name)
    finally:
        run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _in_thread(fn):  # type: ignore[no-untyped-def]
    """Run fn in a fresh thread: asyncio.run and Alembic's env.py need a thread with no loop."""
    from concurrent.futures import ThreadPoolExecutor

    def call(*args, **kwargs):  # type: ignore[no-untyped-def]
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(fn, *args, **kwargs).result()

    return call


in_thread = _in_thread


async def app_statements_younger_than(url: str, seconds: float) -> int:
    """How many of the app's sessions have a statement open for less than `seconds`. A
    statement the driver abandoned half-way shows as 'active' from the moment it was parsed,
    its statement_timeout running (see test_poisoned_connections.py)."""
    conn = await asyncpg.connect(plain(url))
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'todoapp' AND datname = current_database()"
            " AND state <> 'idle'"
            " AND clock_timestamp() - query_start < make_interval(secs => $1)",
            seconds,
        )
    finally:
        await conn.close()
