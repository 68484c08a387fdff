"""The todo resource: CRUD, filters, ordering, and the Todo-Backend contract."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def create(client: httpx.AsyncClient, **fields: object) -> dict:
    response = await client.post("/api/todos", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_returns_object_location_and_defaults(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/todos", json={"title": "  buy milk  "})
    assert response.status_code == 201
    todo = response.json()
    assert todo["title"] == "buy milk"  # trimmed
    assert todo["completed"] is False
    assert todo["due"] is None and todo["notes"] is None
    assert todo["list_id"] == 1  # the default list, Inbox
    assert todo["url"] == f"http://localhost/api/todos/{todo['id']}"
    assert response.headers["location"] == todo["url"]
    assert set(todo) == {
        "id",
        "list_id",
        "title",
        "completed",
        "order",
        "due",
        "notes",
        "version",
        "url",
        "created_at",
        "updated_at",
    }


async def test_new_todos_go_to_the_end_of_their_list(client: httpx.AsyncClient) -> None:
    """Appends leave a gap of 1000 behind the last todo (room to insert without moving)."""
    first = await create(client, title="first")
    placed = await create(client, title="placed", order=5000)
    last = await create(client, title="last")
    assert first["order"] == 1000
    assert placed["order"] == 5000
    assert last["order"] == 6000
    titles = [t["title"] for t in (await client.get("/api/todos")).json()]
    assert titles == ["first", "placed", "last"]


async def test_creating_at_a_taken_order_moves_the_todo_there_up(
    client: httpx.AsyncClient,
) -> None:
    a = await create(client, title="a", order=5)
    b = await create(client, title="b", order=5)
    z = await create(client, title="z", order=1)
    todos = (await client.get("/api/todos")).json()
    # a moved up to the far end of the hole after it (the list's end: a gap of 1000).
    assert [(t["title"], t["order"]) for t in todos] == [("z", 1), ("b", 5), ("a", 1005)]
    assert [t["id"] for t in todos] == [z["id"], b["id"], a["id"]]
    assert todos[2]["version"] == a["version"] + 1  # a moved, so it changed


async def test_get_patch_delete_one(client: httpx.AsyncClient) -> None:
    todo = await create(client, title="walk the dog")
    url = f"/api/todos/{todo['id']}"
    assert (await client.get(url)).json() == todo

    patched = (await client.patch(url, json={"completed": True})).json()
    assert patched["completed"] is True
    assert patched["title"] == "walk the dog"  # untouched fields stay
    assert patched["updated_at"] > todo["updated_at"]

    patched = (await client.patch(url, json={"title": " walk the cat ", "order": 7})).json()
    assert (patched["title"], patched["order"], patched["completed"]) == ("walk the cat", 7, True)
    assert (await client.get(url)).json() == patched

    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url)).status_code == 404


async def test_empty_patch_changes_nothing(client: httpx.AsyncClient) -> None:
    todo = await create(client, title="same")
    response = await client.patch(f"/api/todos/{todo['id']}", json={})
    assert response.status_code == 200
    assert response.json() == todo


async def test_filters_and_limit(client: httpx.AsyncClient) -> None:
    other = (await client.post("/api/lists", json={"name": "Other"})).json()
    await create(client, title="a")
    await create(client, title="b", completed=True)
    await create(client, title="c", list_id=other["id"])

    def titles(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return [t["title"] for t in response.json()]

    # Ordered by position, then id: each list numbers its own positions.
    assert titles(await client.get("/api/todos")) == ["a", "c", "b"]
    assert titles(await client.get("/api/todos", params={"completed": "true"})) == ["b"]
    assert titles(await client.get("/api/todos", params={"completed": "false"})) == ["a", "c"]
    assert titles(await client.get("/api/todos", params={"list_id": other["id"]})) == ["c"]
    assert titles(await client.get("/api/todos", params={"list_id": 1, "completed": "false"})) == [
        "a"
    ]
    assert titles(await client.get("/api/todos", params={"limit": 2})) == ["a", "c"]


async def test_limit_defaults_to_100_and_caps_at_1000(client: httpx.AsyncClient) -> None:
    for _ in range(120):
        assert (await client.post("/api/todos", json={"title": "x"})).status_code == 201
    assert len((await client.get("/api/todos")).json()) == 100
    assert len((await client.get("/api/todos", params={"limit": 1000})).json()) == 120
    assert (await client.get("/api/todos", params={"limit": 1001})).status_code == 422
    assert (await client.get("/api/todos", params={"limit": 0})).status_code == 422


async def test_moving_to_another_list_appends_there(client: httpx.AsyncClient) -> None:
    other = (await client.post("/api/lists", json={"name": "Other"})).json()
    await create(client, title="there", list_id=other["id"], order=9)
    todo = await create(client, title="mover")
    moved = (await client.patch(todo["url"], json={"list_id": other["id"]})).json()
    assert moved["list_id"] == other["id"]
    assert moved["order"] == 1009


async def test_delete_collection_with_filters_is_clear_completed(
    client: httpx.AsyncClient,
) -> None:
    other = (await client.post("/api/lists", json={"name": "Other"})).json()
    await create(client, title="keep")
    await create(client, title="done", completed=True)
    await create(client, title="done elsewhere", completed=True, list_id=other["id"])

    response = await client.delete("/api/todos", params={"completed": "true", "list_id": 1})
    assert response.status_code == 204
    titles = sorted(t["title"] for t in (await client.get("/api/todos")).json())
    assert titles == ["done elsewhere", "keep"]

    assert (await client.delete("/api/todos")).status_code == 204
    assert (await client.get("/api/todos")).json() == []


async def test_the_last_list_cannot_be_deleted(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/lists/1")
    assert response.status_code == 409
    assert response.json()["type"] == "urn:todoapp:problem:last-list"
    other = (await client.post("/api/lists", json={"name": "Other"})).json()
    assert (await client.delete("/api/lists/1")).status_code == 204
    assert (await client.delete(f"/api/lists/{other['id']}")).status_code == 409


async def test_concurrent_deletes_leave_one_list(live_client: httpx.AsyncClient) -> None:
    ids = [1] + [
        (await live_client.post("/api/lists", json={"name": f"L{i}"})).json()["id"]
        for i in range(5)
    ]
    answers = await asyncio.gather(*(live_client.delete(f"/api/lists/{i}") for i in ids))
    assert sorted(r.status_code for r in answers) == [204] * 5 + [409]
    assert len((await live_client.get("/api/lists")).json()) == 1


async def test_a_todo_without_list_recreates_inbox_when_every_list_is_gone(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    async with clean_db.begin() as conn:  # behind the app's back: the API refuses this
        await conn.execute(text("DELETE FROM todo_lists"))
    todo = await create(client, title="homeless")
    lists = (await client.get("/api/lists")).json()
    assert [lst["name"] for lst in lists] == ["Inbox"]
    assert todo["list_id"] == lists[0]["id"]
