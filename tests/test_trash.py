"""Undo on the server: DELETE moves todos and lists to the trash, restore brings them back
exactly as they were (title, state, order, notes, due date, list), within a window; the
purge empties what is older."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.data import trash
from backend.data.db import Work
from backend.domain.actor import IMPLICIT

from .test_pages_and_search import make

# What an undo must give back as it was.
KEPT = ("id", "list_id", "title", "completed", "order", "due", "notes", "url", "created_at")


def kept(todo: dict) -> dict:
    return {field: todo[field] for field in KEPT}


async def titles(client: httpx.AsyncClient, **params: object) -> list[str]:
    response = await client.get("/api/todos", params=params)
    assert response.status_code == 200, response.text
    return [t["title"] for t in response.json()]


async def age_trash(engine: AsyncEngine, table: str, minutes: int, but: int = 0) -> None:
    """Pretends that what is in `table`'s trash (but the row `but`) was deleted `minutes`
    ago."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"UPDATE {table} SET deleted_at = now() - make_interval(mins => :m) "
                "WHERE deleted_at IS NOT NULL AND id <> :but"
            ),
            {"m": minutes, "but": but},
        )


async def test_a_deleted_todo_comes_back_exactly(client: httpx.AsyncClient) -> None:
    _a, b, _c = await make(client, ["a", "b", "c"])
    b = (
        await client.patch(
            b["url"], json={"completed": True, "due": "2030-04-05", "notes": "see\nnotes"}
        )
    ).json()
    assert (await client.delete(b["url"])).status_code == 204
    assert (await client.get(b["url"])).status_code == 404
    assert await titles(client) == ["a", "c"]
    assert (await client.get("/api/lists/1")).json()["completed_count"] == 0
    assert (await client.patch(b["url"], json={"title": "ghost"})).status_code == 404

    restored = await client.post(f"{b['url']}/restore")
    assert restored.status_code == 200, restored.text
    assert kept(restored.json()) == kept(b)
    assert restored.json()["version"] == b["version"] + 1  # it changed: a new ETag
    assert restored.headers["etag"] == f'"{b["version"] + 1}"'
    assert await titles(client) == ["a", "b", "c"]
    assert (await client.get("/api/lists/1")).json()["completed_count"] == 1
    # A retried undo answers the same, and changes nothing more.
    again = await client.post(f"{b['url']}/restore")
    assert again.status_code == 200 and again.json()["version"] == b["version"] + 1


async def test_a_restored_todo_keeps_its_place_among_moved_neighbours(
    client: httpx.AsyncClient,
) -> None:
    _a, b, _c, d = await make(client, ["a", "b", "c", "d"])
    await client.delete(b["url"])
    # While b is in the trash: a todo arrives at b's place, d moves to the top.
    await client.post("/api/todos", json={"title": "x", "order": b["order"]})
    await client.patch(d["url"], json={"order": 1})
    assert await titles(client) == ["d", "a", "x", "c"]
    await client.post(f"{b['url']}/restore")
    after = (await client.get("/api/todos")).json()
    assert [t["title"] for t in after] == ["d", "a", "x", "b", "c"]
    orders = [t["order"] for t in after]
    assert len(set(orders)) == len(orders)  # still a permutation


async def test_clear_completed_is_undone_with_the_ids(client: httpx.AsyncClient) -> None:
    todos = await make(client, ["a", "b", "c", "d"])
    for todo in todos[1:3]:
        await client.patch(todo["url"], json={"completed": True})
    cleared = await client.delete("/api/todos", params={"list_id": 1, "completed": "true"})
    assert cleared.status_code == 204
    assert await titles(client) == ["a", "d"]
    ids = [todos[1]["id"], todos[2]["id"], 999_999]  # an unknown id is simply not back
    restored = await client.post("/api/todos/restore", json={"ids": ids})
    assert restored.status_code == 200, restored.text
    assert [t["title"] for t in restored.json()] == ["b", "c"]
    assert all(t["completed"] for t in restored.json())
    assert await titles(client) == ["a", "b", "c", "d"]


async def test_restore_takes_ids_only(client: httpx.AsyncClient) -> None:
    for body in [{"ids": []}, {"ids": [0]}, {"ids": ["1"]}, {"ids": [1] * 1001}, {"id": 1}, []]:
        response = await client.post("/api/todos/restore", json=body)
        assert response.status_code == 422, body


async def test_the_trash_keeps_todos_for_a_while_only(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    (todo,) = await make(client, ["old"])
    await client.delete(todo["url"])
    await age_trash(clean_db, "todos", minutes=11)
    assert (await client.post(f"{todo['url']}/restore")).status_code == 404
    assert (await client.post("/api/todos/restore", json={"ids": [todo["id"]]})).json() == []
    assert await titles(client) == []


async def test_a_deleted_list_comes_back_with_its_todos(client: httpx.AsyncClient) -> None:
    shop = (await client.post("/api/lists", json={"name": "Shop"})).json()
    milk, eggs, tea = await make(client, ["milk", "eggs", "tea"], list_id=shop["id"])
    await client.patch(eggs["url"], json={"completed": True})
    await client.delete(tea["url"])  # deleted before the list: stays deleted
    assert (await client.delete(shop["url"])).status_code == 204

    assert (await client.get(shop["url"])).status_code == 404
    assert [lst["name"] for lst in (await client.get("/api/lists")).json()] == ["Inbox"]
    assert (await client.get(milk["url"])).status_code == 404
    assert await titles(client) == []
    assert (await client.post(f"{milk['url']}/restore")).status_code == 404  # not on its own

    restored = await client.post(f"{shop['url']}/restore")
    assert restored.status_code == 200, restored.text
    assert (restored.json()["name"], restored.json()["active_count"]) == ("Shop", 1)
    assert restored.json()["completed_count"] == 1
    after = (await client.get("/api/todos", params={"list_id": shop["id"]})).json()
    assert [(t["title"], t["completed"], t["order"]) for t in after] == [
        ("milk", False, milk["order"]),
        ("eggs", True, eggs["order"]),
    ]


async def test_a_deleted_lists_name_is_free_and_a_restore_then_conflicts(
    client: httpx.AsyncClient,
) -> None:
    old = (await client.post("/api/lists", json={"name": "Work"})).json()
    await client.delete(old["url"])
    new = await client.post("/api/lists", json={"name": "Work"})
    assert new.status_code == 201
    conflict = await client.post(f"{old['url']}/restore")
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["pointer"] == "/name"
    await client.patch(new.json()["url"], json={"name": "Work (new)"})
    assert (await client.post(f"{old['url']}/restore")).status_code == 200


async def test_a_deleted_list_takes_no_todos(client: httpx.AsyncClient) -> None:
    gone = (await client.post("/api/lists", json={"name": "Gone"})).json()
    (mover,) = await make(client, ["mover"])
    await client.delete(gone["url"])
    for body in [
        {"title": "x", "list_id": gone["id"]},
        {"title": "x", "list_id": gone["id"], "order": 1},
        [{"title": "x"}, {"title": "y", "list_id": gone["id"]}],
    ]:
        response = await client.post("/api/todos", json=body)
        assert response.status_code == 422, body
    moved = await client.patch(mover["url"], json={"list_id": gone["id"]})
    assert moved.status_code == 422
    await client.post(f"{gone['url']}/restore")
    assert await titles(client, list_id=gone["id"]) == []
    assert await titles(client) == ["mover"]


async def test_a_list_can_be_restored_for_a_while_only(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    gone = (await client.post("/api/lists", json={"name": "Gone"})).json()
    await client.delete(gone["url"])
    await age_trash(clean_db, "todo_lists", minutes=11)
    assert (await client.post(f"{gone['url']}/restore")).status_code == 404
    assert (await client.post("/api/lists/424242/restore")).status_code == 404


async def test_the_purge_deletes_old_trash_for_good(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    gone = (await client.post("/api/lists", json={"name": "Gone"})).json()
    await make(client, ["in gone"], list_id=gone["id"])
    old, recent, _alive = await make(client, ["old", "recent", "alive"])
    await client.delete(old["url"])
    await client.delete(gone["url"])
    # Every DELETE before the ageing: about one in 100 also purges (api/trash.py), which
    # after it would leave this test's purge nothing to do (CI met it once).
    await client.delete(recent["url"])
    await age_trash(clean_db, "todos", minutes=11, but=recent["id"])
    await age_trash(clean_db, "todo_lists", minutes=11)

    async with clean_db.begin() as conn:
        purged = await trash.purge(Work(conn, IMPLICIT))
    assert purged == 2  # the old todo and the old list (its todo went with it)
    async with clean_db.connect() as conn:
        rows = await conn.execute(text("SELECT title FROM todos ORDER BY id"))
        assert [r.title for r in rows] == ["recent", "alive"]
        names = await conn.execute(text("SELECT name FROM todo_lists ORDER BY id"))
        assert [r.name for r in names] == ["Inbox"]
    assert (await client.post(f"{recent['url']}/restore")).status_code == 200
