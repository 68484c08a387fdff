"""Alembic: the chain goes up and down, matches the models, keeps data, and is race-free."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.data.models import Base
from backend.runtime import migrate

from . import pg


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(pg.plain(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


async def test_upgrade_downgrade_base_upgrade(pg_server: str) -> None:
    with pg.scratch_database(pg_server, "updown") as url:
        config = migrate.alembic_config(url)
        pg.in_thread(command.upgrade)(config, "head")
        assert {"todos", "todo_lists", "alembic_version"} <= await tables(url)
        pg.in_thread(command.downgrade)(config, "base")
        assert await tables(url) == {"alembic_version"}
        pg.in_thread(command.upgrade)(config, "head")
        assert {"todos", "todo_lists"} <= await tables(url)


async def test_models_and_migrations_agree(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync_conn: compare_metadata(
                MigrationContext.configure(sync_conn, opts={"compare_type": True}),
                Base.metadata,
            )
        )
    assert diff == []


@asynccontextmanager
async def database_at(
    pg_server: str, label: str, revision: str
) -> AsyncIterator[tuple[Config, asyncpg.Connection]]:
    """A new database migrated to `revision`: its Alembic config and a connection to it."""
    with pg.scratch_database(pg_server, label) as url:
        config = migrate.alembic_config(url)
        pg.in_thread(command.upgrade)(config, revision)
        conn = await asyncpg.connect(pg.plain(url))
        try:
            yield config, conn
        finally:
            await conn.close()


async def test_data_survives_down_and_up_of_each_later_revision(pg_server: str) -> None:
    """Rows written at head survive a downgrade/upgrade of every revision after the first
    (none of them drops the tables that hold the rows)."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(script.walk_revisions())  # head first
    async with database_at(pg_server, "survive", "head") as (config, conn):
        await conn.execute("INSERT INTO todo_lists (name, owner_id) VALUES ('Kept', 0)")
        await conn.execute(
            "INSERT INTO todos (list_id, title, completed, position) "
            "SELECT id, 'survivor', true, 7 FROM todo_lists WHERE name = 'Kept'"
        )
        for revision in revisions[:-1]:
            pg.in_thread(command.downgrade)(config, revision.down_revision)
            pg.in_thread(command.upgrade)(config, "head")
            row = await conn.fetchrow(
                "SELECT t.title, t.completed, t.position, l.name FROM todos t "
                "JOIN todo_lists l ON l.id = t.list_id"
            )
            assert tuple(row) == ("survivor", True, 7, "Kept"), revision.revision
    assert revisions[-1].down_revision is None


async def test_concurrent_migrators_upgrade_once_without_error(pg_server: str) -> None:
    """Four `todoapp db upgrade head` at once on an empty database: all succeed and the
    chain runs once. The test holds the migration lock until all four wait for it."""
    with pg.scratch_database(pg_server, "race") as url:
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "INFO"}
        holder = await asyncpg.connect(pg.plain(url))
        try:
            await holder.execute("SELECT pg_advisory_lock($1)", migrate.MIGRATION_LOCK_KEY)
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "backend.runtime.cli", "db", "upgrade", "head"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for _ in range(4)
            ]
            await wait_for_lock_waiters(holder, 4)
            await holder.execute("SELECT pg_advisory_unlock($1)", migrate.MIGRATION_LOCK_KEY)
        finally:
            await holder.close()
        outputs = [await asyncio.to_thread(p.communicate, timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
        log = "".join(out for out, _ in outputs)
        first = list(ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions())[-1]
        assert log.count(f"Running upgrade  -> {first.revision}") == 1
        assert "Error" not in log and "Traceback" not in log


async def wait_for_lock_waiters(conn: asyncpg.Connection, count: int) -> None:
    """Until `count` sessions wait on an advisory lock (each check is a round trip)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        if waiting == count:
            return
    raise AssertionError(f"{count} migrators never queued on the lock")


async def test_crowded_lists_get_holes_and_short_ones_keep_their_positions(
    pg_server: str,
) -> None:
    """0004: a list with more than 32 todos at consecutive positions is spaced out 1000
    apart in the same order (a first insert there would otherwise move them all); lists
    without such a stretch keep their positions. Down and up again changes nothing more."""
    async with database_at(pg_server, "holes", "0002") as (config, conn):
        await conn.execute("INSERT INTO todo_lists (name) VALUES ('Crowded'), ('Spread')")
        # Inbox: 3 todos; Crowded: 40 in a row, last first by id; Spread: 40, every other.
        await conn.execute(
            "INSERT INTO todos (list_id, title, position) "
            "SELECT 1, 'inbox ' || i, i FROM generate_series(1, 3) i UNION ALL "
            "SELECT 2, 'crowded ' || i, 41 - i FROM generate_series(1, 40) i UNION ALL "
            "SELECT 3, 'spread ' || i, 2 * i FROM generate_series(1, 40) i"
        )
        everything = "SELECT id, list_id, position, version FROM todos"
        before = {tuple(r) for r in await conn.fetch(everything)}
        pg.in_thread(command.upgrade)(config, "head")
        after = {tuple(r) for r in await conn.fetch(everything)}
        crowded = await conn.fetch(
            "SELECT title, position, version FROM todos WHERE list_id = 2 ORDER BY position"
        )
        assert [tuple(r) for r in crowded] == [
            (f"crowded {41 - n}", 1000 * n, 2) for n in range(1, 41)
        ]
        assert {r for r in before if r[1] != 2} == {r for r in after if r[1] != 2}
        assert await conn.fetchval("SELECT last_position FROM todo_lists WHERE id = 2") == 40_000

        pg.in_thread(command.downgrade)(config, "0002")
        pg.in_thread(command.upgrade)(config, "head")
        assert {tuple(r) for r in await conn.fetch(everything)} == after
