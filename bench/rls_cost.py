"""What PostgreSQL row-level security would cost as a second wall behind data/scope.py.

    DATABASE_URL=postgresql://.../scratch .venv/bin/python bench/rls_cost.py [--requests 2000]

On a scratch database (it is migrated, filled with 200 users x 5 lists x 100 todos, and given
RLS policies and a role they apply to), one connection runs the hot statements of a request
for one user, each way:

- app: what todoapp does: the statement carries scope.py's conditions (one round trip);
- rls: the statement without them, as a role the policies apply to, after
  `set_config('app.user_id', ...)` for the request (two round trips: RLS needs the user in
  the session before the statement, and our one-statement requests run in autocommit);
- rls+app: both walls (two round trips);
- rls-tx: BEGIN, SET LOCAL, the statement, COMMIT (the usual RLS recipe: four round trips).

It prints, per statement and way, the client's CPU per request (asyncpg alone: the app's
SQLAlchemy stack costs more per round trip), PostgreSQL's CPU per request (its backend
process, from /proc) and the wall time per request. DB on this machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

import asyncpg

USERS, LISTS, TODOS = 200, 5, 100
ME = 77  # the user the requests are for

SETUP = f"""
TRUNCATE todos, todo_lists, users, sessions, access_tokens, list_members, idempotency_keys
    RESTART IDENTITY CASCADE;
INSERT INTO users (id, username) VALUES (0, NULL);
INSERT INTO users (id, username) SELECT g, 'user' || g FROM generate_series(1, {USERS}) g;
INSERT INTO todo_lists (owner_id, name, last_position)
    SELECT u, 'list ' || l, {TODOS}
    FROM generate_series(1, {USERS}) u, generate_series(1, {LISTS}) l;
INSERT INTO todos (list_id, title, position)
    SELECT l, 'todo ' || p, p
    FROM generate_series(1, {USERS * LISTS}) l, generate_series(1, {TODOS}) p;
INSERT INTO list_members (list_id, user_id, role)
    SELECT id, owner_id % {USERS} + 1, 'viewer' FROM todo_lists WHERE id % 7 = 0;
ANALYZE;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'todoapp_rls') THEN
        CREATE ROLE todoapp_rls LOGIN;
    END IF;
END $$;
GRANT SELECT, UPDATE ON todos, todo_lists, list_members TO todoapp_rls;
ALTER TABLE todo_lists ENABLE ROW LEVEL SECURITY;
ALTER TABLE todos ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS visible ON todo_lists;
DROP POLICY IF EXISTS visible ON todos;
CREATE POLICY visible ON todo_lists USING (
    owner_id = current_setting('app.user_id')::bigint
    OR id IN (SELECT list_id FROM list_members
              WHERE user_id = current_setting('app.user_id')::bigint));
CREATE POLICY visible ON todos USING (
    list_id = ANY (ARRAY(
        SELECT id FROM todo_lists WHERE owner_id = current_setting('app.user_id')::bigint
        UNION ALL
        SELECT list_id FROM list_members
        WHERE user_id = current_setting('app.user_id')::bigint)));
"""

# scope.py's condition on todos, as the app's statements carry it.
APP_SCOPE = (
    "list_id = ANY (array((SELECT id FROM todo_lists WHERE owner_id = $9 UNION ALL "
    "SELECT list_id FROM list_members WHERE user_id = $9 AND role IN ('editor', 'viewer'))))"
)
STATEMENTS = {
    "get": "SELECT * FROM todos WHERE id = $1 AND {scope}",
    "page": "SELECT * FROM todos WHERE {scope} ORDER BY position, id LIMIT 51",
    "toggle": "UPDATE todos SET completed = NOT completed, version = version + 1 "
    "WHERE id = $1 AND {scope} RETURNING *",
}


def sql(name: str, scoped: bool) -> str:
    text = STATEMENTS[name].format(scope=APP_SCOPE if scoped else "true")
    return text.replace("$9", "$2") if "$1" in text else text.replace("$9", "$1")


def args_for(name: str, scoped: bool, todo_id: int) -> list[Any]:
    params: list[Any] = [todo_id] if "$1" in STATEMENTS[name] else []
    return [*params, ME] if scoped else params


def backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_way(
    conn: asyncpg.Connection, way: str, name: str, n: int
) -> tuple[float, float, float]:
    scoped = way in ("app", "rls+app")
    statement = sql(name, scoped)
    first_todo = (ME - 1) * LISTS * TODOS + 1
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    walls = []
    cpu0, db0 = time.process_time(), backend_cpu(pid)
    for i in range(n):
        todo_id = first_todo + i % (LISTS * TODOS)
        t0 = time.perf_counter()
        if way == "rls-tx":
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.user_id', $1, true)", str(ME))
                await conn.fetch(statement, *args_for(name, scoped, todo_id))
        else:
            if way != "app":
                await conn.execute("SELECT set_config('app.user_id', $1, false)", str(ME))
            await conn.fetch(statement, *args_for(name, scoped, todo_id))
        walls.append(time.perf_counter() - t0)
    cpu, db = time.process_time() - cpu0, backend_cpu(pid) - db0
    return 1e6 * cpu / n, 1e6 * db / n, 1e6 * statistics.median(walls)


async def main(args: argparse.Namespace) -> None:
    from backend.runtime import migrate

    url = os.environ["DATABASE_URL"]
    await asyncio.to_thread(migrate.upgrade, url)
    owner = await asyncpg.connect(url)
    await owner.execute(SETUP)
    rls = await asyncpg.connect(url, user="todoapp_rls")
    print(f"{'statement':<8} {'way':<8} {'client CPU us':>14} {'PostgreSQL CPU us':>18} wall us")
    for name in STATEMENTS:
        results: dict[str, list[tuple[float, float, float]]] = {}
        for _ in range(args.rounds):  # interleaved: drift on a shared machine hits all ways
            for way in ("app", "rls", "rls+app", "rls-tx"):
                conn = owner if way == "app" else rls
                await run_way(conn, way, name, 100)  # warm-up (plans, caches)
                results.setdefault(way, []).append(await run_way(conn, way, name, args.requests))
        for way, runs in results.items():
            cpu, db, wall = (statistics.median(r[i] for r in runs) for i in range(3))
            print(f"{name:<8} {way:<8} {cpu:>14.0f} {db:>18.0f} {wall:>8.0f}")
    await rls.close()
    await owner.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
