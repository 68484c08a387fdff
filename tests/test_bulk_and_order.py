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
    assert [(t["title"], t["order"]) for t in inbox] == [("first", 1), ("one", 2), ("two", 3)]


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
    todos = (await client.post("/api/todos", json=[{"title": c} for c in "abcde"])).json()

    async def order() -> list[tuple[str, int]]:
        return [(t["title"], t["order"]) for t in (await client.get("/api/todos")).json()]

    moved = await client.patch(todos[4]["url"], json={"order": 2})  # e to 2nd place
    assert moved.json()["order"] == 2
    assert await order() == [("a", 1), ("e", 2), ("b", 3), ("c", 4), ("d", 5)]
    await client.patch(todos[0]["url"], json={"order": 5})  # a to the end
    assert await order() == [("e", 1), ("b", 2), ("c", 3), ("d", 4), ("a", 5)]


async def test_move_to_another_list(client: httpx.AsyncClient) -> None:
    other = (await client.post("/api/lists", json={"name": "Other"})).json()
    await client.post("/api/todos", json=[{"title": "x", "list_id": other["id"]}] * 1)
    todo = (await client.post("/api/todos", json={"title": "mover"})).json()
    moved = await client.patch(todo["url"], json={"list_id": other["id"], "order": 1})
    assert (moved.json()["list_id"], moved.json()["order"]) == (other["id"], 1)
    there = (await client.get("/api/todos", params={"list_id": other["id"]})).json()
    assert [(t["title"], t["order"]) for t in there] == [("mover", 1), ("x", 2)]
    unknown = await client.patch(todo["url"], json={"list_id": 999})
    assert unknown.status_code == 422


async def test_concurrent_moves_keep_a_permutation(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    """30 todos, 60 clients moving random todos to random places at once, with appends and
    creates at explicit places mixed in: afterwards no two todos share a position."""
    todos = (
        await live_client.post("/api/todos", json=[{"title": f"t{i}"} for i in range(30)])
    ).json()
    rng = random.Random(7)

    async def move() -> int:
        todo = rng.choice(todos)
        response = await live_client.patch(todo["url"], json={"order": rng.randint(1, 30)})
        return response.status_code

    async def add(n: int) -> int:
        body = {"title": f"new {n}"} if n % 2 else {"title": f"new {n}", "order": 5}
        return (await live_client.post("/api/todos", json=body)).status_code

    statuses = await asyncio.gather(*(move() for _ in range(60)), *(add(n) for n in range(10)))
    assert set(statuses) <= {200, 201}, statuses
    async with clean_db.connect() as conn:
        rows = (
            (await conn.execute(text("SELECT position FROM todos WHERE list_id = 1")))
            .scalars()
            .all()
        )
    assert len(rows) == 40
    assert len(set(rows)) == 40, "two todos share a position"
    print(f"\nMoves: 60 concurrent moves + 10 creates, {len(rows)} rows, 0 duplicate positions")
