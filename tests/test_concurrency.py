"""Many clients at once against a live server: nothing lost, nothing leaked, no 500s."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
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


async def inbox_titles(db: AsyncEngine, list_id: int = 1) -> list[str]:
    """The list's titles by position, and a check that no two todos share one."""
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT title, position FROM todos WHERE list_id = :l ORDER BY position"),
                {"l": list_id},
            )
        ).all()
    assert len({r.position for r in rows}) == len(rows), "two todos share a position"
    return [r.title for r in rows]


@pytest.mark.parametrize("before", [5, 19], ids=["in the middle", "before the last todo"])
async def test_concurrent_inserts_at_one_place_all_land_there(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine, before: int
) -> None:
    """30 single inserts and 10 bulks of 5 before the same todo, with 20 appends, all at
    once: every one lands, before that todo and after the one ahead of it; bulks stay
    together in their own order; appends go to the end. (Before the last todo, the first
    insert moves it into the space of appends.)"""
    todos = (
        await live_client.post("/api/todos", json=[{"title": f"t{i}"} for i in range(20)])
    ).json()
    place = todos[before]["order"]

    async def post(body: object) -> int:
        return (await live_client.post("/api/todos", json=body)).status_code

    singles = [post({"title": f"s{i}", "order": place}) for i in range(30)]
    bulks = [post([{"title": f"b{i}.{k}", "order": place} for k in range(5)]) for i in range(10)]
    appends = [post({"title": f"a{i}"}) for i in range(20)]
    assert set(await asyncio.gather(*singles, *bulks, *appends)) == {201}

    titles = await inbox_titles(clean_db)
    assert len(titles) == 20 + 30 + 50 + 20
    assert titles[:before] == [f"t{i}" for i in range(before)]
    arrived = titles[before : before + 80]
    assert sorted(arrived) == sorted(
        [f"s{i}" for i in range(30)] + [f"b{i}.{k}" for i in range(10) for k in range(5)]
    )
    for i in range(10):
        start = arrived.index(f"b{i}.0")
        assert arrived[start : start + 5] == [f"b{i}.{k}" for k in range(5)]
    assert titles[before + 80 : 100] == [f"t{i}" for i in range(before, 20)]
    assert sorted(titles[100:]) == sorted(f"a{i}" for i in range(20))


async def test_concurrent_inserts_at_different_places_each_land_before_their_todo(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    todos = (
        await live_client.post("/api/todos", json=[{"title": f"t{i}"} for i in range(30)])
    ).json()
    answers = await asyncio.gather(
        *(
            live_client.post("/api/todos", json={"title": f"before t{i} #{n}", "order": t["order"]})
            for n in range(2)
            for i, t in enumerate(todos)
        )
    )
    assert {r.status_code for r in answers} == {201}
    titles = await inbox_titles(clean_db)
    assert len(titles) == 90
    for i in range(30):
        assert titles[3 * i + 2] == f"t{i}"
        assert sorted(titles[3 * i : 3 * i + 2]) == [f"before t{i} #0", f"before t{i} #1"]


async def test_concurrent_moves_across_two_lists_neither_deadlock_nor_collide(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    """Moves from A to B and from B to A at once, each to a taken order there: the lists are
    locked in id order, so none deadlocks; afterwards each list's orders are unique and
    every todo is in exactly one list."""
    other = (await live_client.post("/api/lists", json={"name": "Other"})).json()
    a = (await live_client.post("/api/todos", json=[{"title": f"a{i}"} for i in range(20)])).json()
    b = (
        await live_client.post(
            "/api/todos", json=[{"title": f"b{i}", "list_id": other["id"]} for i in range(20)]
        )
    ).json()
    moves = [
        live_client.patch(todo["url"], json={"list_id": there["list_id"], "order": there["order"]})
        for todo, there in [*zip(a[:15], b[5:], strict=True), *zip(b[:15], a[5:], strict=True)]
    ]
    assert {r.status_code for r in await asyncio.gather(*moves)} == {200}
    in_a, in_b = await inbox_titles(clean_db, 1), await inbox_titles(clean_db, other["id"])
    assert sorted(in_a + in_b) == sorted(
        [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(20)]
    )
    assert len(in_a) == len(in_b) == 20
    # Todos that stayed keep their relative order.
    assert [t for t in in_a if t.startswith("a")] == [f"a{i}" for i in range(15, 20)]
    assert [t for t in in_b if t.startswith("b")] == [f"b{i}" for i in range(15, 20)]


async def waiting_on_locks(db: AsyncEngine) -> int:
    """How many of the app's database sessions wait for a lock."""
    async with db.connect() as conn:
        sql = (
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'todoapp' "
            "AND datname = current_database() AND wait_event_type = 'Lock'"
        )
        return (await conn.execute(text(sql))).scalar_one()


async def append_while_an_insert_is_stuck(
    client: httpx.AsyncClient, db: AsyncEngine, stuck_on: dict
) -> tuple[bool, httpx.Response, httpx.Response]:
    """POST a todo at `stuck_on`'s order while that todo's row is locked here (so the insert
    stops as it moves it), then an append. Whether the append finished before the lock was
    let go (else it waited), and both answers."""
    async with db.connect() as locker:
        await locker.execute(
            text("SELECT id FROM todos WHERE id = :id FOR UPDATE"), {"id": stuck_on["id"]}
        )
        body = {"title": "stuck", "order": stuck_on["order"]}
        insert = asyncio.create_task(client.post("/api/todos", json=body))

        async def insert_waits() -> bool:
            return await waiting_on_locks(db) == 1

        await until(insert_waits, "the insert waits for the todo in its way")
        append = asyncio.create_task(client.post("/api/todos", json={"title": "appended"}))

        async def append_done_or_waits() -> bool:
            return append.done() or await waiting_on_locks(db) > 1

        await until(append_done_or_waits, "the append finishes or waits")
        finished_first = append.done()
        assert not insert.done()
        await locker.rollback()
    return finished_first, await insert, await append


async def test_appends_do_not_wait_for_an_insert_in_the_middle_of_their_list(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    """An insert in the middle holds its list's order lock, not its end: while one is stuck
    (the todo in its way is locked here), an append to the same list goes through."""
    todos = (await live_client.post("/api/todos", json=[{"title": t} for t in "abc"])).json()
    finished_first, insert, append = await append_while_an_insert_is_stuck(
        live_client, clean_db, todos[1]
    )
    assert finished_first, "the append waited for the insert in the middle"
    assert (insert.status_code, append.status_code) == (201, 201)
    titles = [t["title"] for t in (await live_client.get("/api/todos")).json()]
    assert titles == ["a", "stuck", "b", "c", "appended"]


async def test_an_insert_that_moves_the_last_todo_keeps_appends_out_of_its_way(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    """Before the last todo, an insert moves it past the last position appends handed out:
    it takes the end lock, so an append waits for it instead of landing on the same place."""
    todos = (await live_client.post("/api/todos", json=[{"title": t} for t in "ab"])).json()
    finished_first, insert, append = await append_while_an_insert_is_stuck(
        live_client, clean_db, todos[1]
    )
    assert not finished_first, "the append did not wait for the insert at the end"
    assert (insert.status_code, append.status_code) == (201, 201)
    titles = [t["title"] for t in (await live_client.get("/api/todos")).json()]
    assert titles == ["a", "stuck", "b", "appended"]
