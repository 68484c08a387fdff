"""Many clients at once against a live server: nothing lost, nothing leaked, no 500s."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from quart import Quart
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .servers import until

CLIENTS = 50
TODOS_PER_CLIENT = 4


async def test_50_clients_create_and_update_and_end_with_exactly_the_acknowledged_rows(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    statuses: Counter[int] = Counter()
    acknowledged: dict[int, dict] = {}

    async def client(n: int) -> None:
        for i in range(TODOS_PER_CLIENT):
            created = await live_client.post("/api/todos", json={"title": f"c{n} t{i}"})
            statuses[created.status_code] += 1
            if created.status_code != 201:
                continue
            todo = created.json()
            updated = await live_client.patch(
                todo["url"], json={"completed": i % 2 == 0, "title": f"c{n} t{i} done"}
            )
            statuses[updated.status_code] += 1
            acknowledged[todo["id"]] = updated.json() if updated.status_code == 200 else todo

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))

    assert statuses == {201: CLIENTS * TODOS_PER_CLIENT, 200: CLIENTS * TODOS_PER_CLIENT}
    async with clean_db.connect() as conn:
        rows = (await conn.execute(text("SELECT id, title, completed FROM todos"))).all()
    assert {r.id: (r.title, r.completed) for r in rows} == {
        i: (t["title"], t["completed"]) for i, t in acknowledged.items()
    }


async def test_concurrent_patches_of_different_fields_are_both_kept(
    live_client: httpx.AsyncClient,
) -> None:
    """PATCH merges in one UPDATE: a title change and a toggle racing never undo each other."""
    todos = [
        (await live_client.post("/api/todos", json={"title": f"todo {i}"})).json()
        for i in range(25)
    ]
    await asyncio.gather(
        *(live_client.patch(t["url"], json={"title": t["title"] + " renamed"}) for t in todos),
        *(live_client.patch(t["url"], json={"completed": True}) for t in todos),
    )
    final = (await live_client.get("/api/todos")).json()
    assert all(t["completed"] and t["title"].endswith(" renamed") for t in final)
    assert len(final) == 25


async def test_cancelled_requests_do_not_leak_connections(
    live_app: Quart, live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    """Requests stuck in the database are cancelled by their clients' disconnects; the pool
    gets every connection back and PostgreSQL holds no transaction open for them."""
    todo = (await live_client.post("/api/todos", json={"title": "locked"})).json()
    pool = live_app.extensions["db_engine"].pool
    async with clean_db.connect() as locker:
        # Hold the row lock so every PATCH below waits inside the database.
        await locker.execute(
            text("SELECT id FROM todos WHERE id = :id FOR UPDATE"), {"id": todo["id"]}
        )
        tasks = [
            asyncio.create_task(live_client.patch(todo["url"], json={"completed": True}))
            for _ in range(8)
        ]
        await until(lambda: pool.checkedout() == 8, "8 requests waiting in the database")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await until(lambda: pool.checkedout() == 0, "connections back in the pool")
        await locker.rollback()

    async with clean_db.connect() as conn:
        busy = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'todoapp' "
                    "AND datname = current_database() AND state <> 'idle'"
                )
            )
        ).scalar()
    assert busy == 0
    # And the server goes on: more requests than the pool has connections all succeed.
    results = await asyncio.gather(*(live_client.get(todo["url"]) for _ in range(30)))
    assert {r.status_code for r in results} == {200}
