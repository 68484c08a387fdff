"""The list resource: CRUD, counts, cascade, unique names."""

from __future__ import annotations

import httpx


async def test_inbox_exists_after_migration(client: httpx.AsyncClient) -> None:
    lists = (await client.get("/api/lists")).json()
    assert [(lst["id"], lst["name"]) for lst in lists] == [(1, "Inbox")]
    assert lists[0]["active_count"] == 0
    assert lists[0]["completed_count"] == 0


async def test_create_get_rename_delete(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/lists", json={"name": "  Groceries "})
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "Groceries"
    assert response.headers["location"] == created["url"]
    assert created["url"] == f"http://localhost/api/lists/{created['id']}"
    url = f"/api/lists/{created['id']}"
    assert (await client.get(url)).json() == created

    renamed = await client.patch(url, json={"name": "Shopping"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Shopping"
    assert renamed.json()["updated_at"] > created["updated_at"]

    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.patch(url, json={"name": "x"})).status_code == 404
    assert (await client.delete(url)).status_code == 404


async def test_counts_of_active_and_completed(client: httpx.AsyncClient) -> None:
    other = (await client.post("/api/lists", json={"name": "Other"})).json()
    for title, done in [("a", False), ("b", False), ("c", True)]:
        await client.post("/api/todos", json={"title": title, "completed": done})
    await client.post("/api/todos", json={"title": "d", "list_id": other["id"], "completed": True})
    counts = {
        lst["name"]: (lst["active_count"], lst["completed_count"])
        for lst in (await client.get("/api/lists")).json()
    }
    assert counts == {"Inbox": (2, 1), "Other": (0, 1)}
    one = (await client.get(f"/api/lists/{other['id']}")).json()
    assert (one["active_count"], one["completed_count"]) == (0, 1)


async def test_deleting_a_list_deletes_its_todos(client: httpx.AsyncClient) -> None:
    doomed = (await client.post("/api/lists", json={"name": "Doomed"})).json()
    todo = (await client.post("/api/todos", json={"title": "x", "list_id": doomed["id"]})).json()
    kept = (await client.post("/api/todos", json={"title": "kept"})).json()
    assert (await client.delete(doomed["url"])).status_code == 204
    assert (await client.get(todo["url"])).status_code == 404
    assert (await client.get(kept["url"])).status_code == 200


async def test_duplicate_name_is_a_conflict_and_changes_nothing(client: httpx.AsyncClient) -> None:
    await client.post("/api/lists", json={"name": "Work"})
    home = (await client.post("/api/lists", json={"name": "Home"})).json()

    response = await client.post("/api/lists", json={"name": " Work "})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"

    response = await client.patch(home["url"], json={"name": "Work"})
    assert response.status_code == 409
    assert (await client.get(home["url"])).json()["name"] == "Home"
    names = [lst["name"] for lst in (await client.get("/api/lists")).json()]
    assert names == ["Inbox", "Work", "Home"]


async def test_list_name_validation(client: httpx.AsyncClient) -> None:
    for body in ({"name": ""}, {"name": "   "}, {"name": "x" * 201}, {"name": 5}, {}):
        response = await client.post("/api/lists", json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["pointer"] == "/name"
    assert (await client.post("/api/lists", json={"name": "x" * 200})).status_code == 201
