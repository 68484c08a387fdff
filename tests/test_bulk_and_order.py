"""Bulk create and toggle (all or nothing), and moves that keep a list's order a permutation."""

from __future__ import annotations

import asyncio
import random

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def test_bulk_create_returns_all_in_order(client: httpx.AsyncClient) -> None:
    other = (await client.post("/api/lists", json={"name": "Other"})).json()
    items = [
        {"title": "one"},
        {"title": "two", "completed": True},
        {"title": "elsewhere", "list_id": other["id"]},
        {"title": "first", "order": 1},
    ]
    response = await client.post("/api/todos", json=items)
    assert response.status_code == 201
    created = response.json()
    assert [t["title"] for t in created] == ["one", "two", "elsewhere", "first"]
    inbox = (await client.get("/api/todos", params={"list_id": 1})).json()
    # The placed item first, then the appended ones behind it, a gap of 1000 apart.
    assert [(t["title"], t["order"]) for t in inbox] == [
        ("first", 1),
        ("one", 1001),
        ("two", 2001),
    ]


async def test_bulk_items_at_one_place_keep_the_requests_order(
    client: httpx.AsyncClient,
) -> None:
    """A bulk goes in before the todos that held each item's order; items naming the same
    order stay in the request's order there (not reversed, as one POST each would do)."""
    x, y = (await client.post("/api/todos", json=[{"title": "x"}, {"title": "y"}])).json()
    items = [
        {"title": "b1", "order": y["order"]},
        {"title": "a1", "order": x["order"]},
        {"title": "b2", "order": y["order"]},
        {"title": "a2", "order": x["order"]},
        {"title": "end"},
    ]
    created = (await client.post("/api/todos", json=items)).json()
    assert [t["title"] for t in created] == ["b1", "a1", "b2", "a2", "end"]
    inbox = (await client.get("/api/todos")).json()
    assert [t["title"] for t in inbox] == ["a1", "a2", "x", "b1", "b2", "y", "end"]
    assert {t["id"]: t["order"] for t in created} == {
        t["id"]: t["order"] for t in inbox if t["title"] != "x" and t["title"] != "y"
    }


async def test_bulk_create_is_all_or_nothing_and_names_bad_items(
    client: httpx.AsyncClient,
) -> None:
    items = [{"title": "fine"}, {"title": ""}, {"title": "ok"}, {"title": "x", "colour": 1}]
    response = await client.post("/api/todos", json=items)
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert pointers == {"/1/title", "/3/colour"}

    response = await client.post(
        "/api/todos", json=[{"title": "a"}, {"title": "b", "list_id": 404}]
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/1/list_id"]
    assert (await client.get("/api/todos")).json() == []


async def test_bulk_limits(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/todos", json=[])).status_code == 422
    too_many = [{"title": f"t{i}"} for i in range(1001)]
    assert (await client.post("/api/todos", json=too_many)).status_code == 422
    response = await client.post("/api/todos", json=too_many[:1000])
    assert response.status_code == 201
    assert len(response.json()) == 1000


async def test_toggle_all_by_list(client: httpx.AsyncClient) -> None:
    other = (await client.post("/api/lists", json={"name": "Other"})).json()
    await client.post("/api/todos", json=[{"title": "a"}, {"title": "b", "completed": True}])
    await client.post("/api/todos", json={"title": "c", "list_id": other["id"]})

    response = await client.patch("/api/todos?list_id=1", json={"completed": True})
    assert response.status_code == 200
    assert response.json() == {"updated": 1}  # b was already completed
    states = {t["title"]: t["completed"] for t in (await client.get("/api/todos")).json()}
    assert states == {"a": True, "b": True, "c": False}

    response = await client.patch("/api/todos?list_id=1", json={"completed": False})
    assert response.json() == {"updated": 2}
    assert (await client.patch("/api/todos", json={"title": "x"})).status_code == 422


async def test_moves_within_a_list(client: httpx.AsyncClient) -> None:
    """A moved todo takes the order it is sent to; the todo there moves up, to the far end
    of the hole behind it, and nobody else moves."""
    todos = (await client.post("/api/todos", json=[{"title": c} for c in "abcde"])).json()
    assert [t["order"] for t in todos] == [1000, 2000, 3000, 4000, 5000]

    async def order() -> list[tuple[str, int]]:
        return [(t["title"], t["order"]) for t in (await client.get("/api/todos")).json()]

    moved = await client.patch(todos[4]["url"], json={"order": 2000})  # e before b
    assert moved.json()["order"] == 2000
    assert await order() == [("a", 1000), ("e", 2000), ("b", 2999), ("c", 3000), ("d", 4000)]
    await client.patch(todos[0]["url"], json={"order": 5000})  # a to the end (a free order)
    assert await order() == [("e", 2000), ("b", 2999), ("c", 3000), ("d", 4000), ("a", 5000)]
    await client.patch(todos[4]["url"], json={"order": 4000})  # e down, before d
    assert await order() == [("b", 2999), ("c", 3000), ("e", 4000), ("d", 4999), ("a", 5000)]
    # b and c are neighbours: sent before b, a pushes both up to the end of the next hole.
    await client.patch(todos[0]["url"], json={"order": 2999})
    assert await order() == [("a", 2999), ("b", 3998), ("c", 3999), ("e", 4000), ("d", 4999)]


async def test_move_to_another_list(client: httpx.AsyncClient) -> None:
    other = (await client.post("/api/lists", json={"name": "Other"})).json()
    await client.post("/api/todos", json=[{"title": "x", "list_id": other["id"]}] * 1)
    todo = (await client.post("/api/todos", json={"title": "mover"})).json()
    moved = await client.patch(todo["url"], json={"list_id": other["id"], "order": 1})
    assert (moved.json()["list_id"], moved.json()["order"]) == (other["id"], 1)
    there = (await client.get("/api/todos", params={"list_id": other["id"]})).json()
    assert [(t["title"], t["order"]) for t in there] == [("mover", 1), ("x", 1000)]
    unknown = await client.patch(todo["url"], json={"list_id": 999})
    assert unknown.status_code == 422


async def test_concurrent_moves_keep_a_permutation(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    """30 todos, 60 clients moving random todos to taken orders (and the holes next to
    them) at once, with appends and creates at a taken order mixed in: afterwards no two
    todos share a position, none is lost, and the todos nobody moved keep their order."""
    todos = (
        await live_client.post("/api/todos", json=[{"title": f"t{i}"} for i in range(30)])
    ).json()
    rng = random.Random(7)
    movers = rng.sample(todos, 20)

    async def move() -> int:
        todo, there = rng.choice(movers), rng.choice(todos)
        order = there["order"] + rng.choice([-1, 0, 0, 1])
        return (await live_client.patch(todo["url"], json={"order": order})).status_code

    async def add(n: int) -> int:
        body = {"title": f"new {n}"} if n % 2 else {"title": f"new {n}", "order": 5000}
        return (await live_client.post("/api/todos", json=body)).status_code

    statuses = await asyncio.gather(*(move() for _ in range(60)), *(add(n) for n in range(10)))
    assert set(statuses) <= {200, 201}, statuses
    async with clean_db.connect() as conn:
        rows = (
            await conn.execute(text("SELECT title, position FROM todos ORDER BY position"))
        ).all()
    assert len(rows) == 40
    assert len({r.position for r in rows}) == 40, "two todos share a position"
    stayed = [t["title"] for t in todos if t not in movers]
    assert [r.title for r in rows if r.title in stayed] == stayed
    print(f"\nMoves: 60 concurrent moves + 10 creates, {len(rows)} rows, 0 duplicate positions")
