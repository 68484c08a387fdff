"""Sharing a list: owner, editors, viewers. Viewers read; editors change todos and the name;
only the owner deletes the list or manages its members; a member may leave."""

from __future__ import annotations

import httpx
import pytest

from .users import ALICE, bearer, signup


@pytest.fixture
async def bob(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    """bob, signed in with his own token, on the same app."""
    token = await signup(anonymous, "bob")
    anonymous.cookies.clear()
    anonymous.headers.update(bearer(token))
    return anonymous


async def share(alice: httpx.AsyncClient, username: str, role: str, list_id: int = 1) -> None:
    response = await alice.put(f"/api/lists/{list_id}/members/{username}", json={"role": role})
    assert response.status_code == 200, response.text
    assert response.json() == {"username": username, "role": role}


async def test_a_viewer_reads_but_cannot_change(
    client: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    todo = (await client.post("/api/todos", json={"title": "alice's", "list_id": 1})).json()
    assert (await bob.get("/api/lists/1")).status_code == 404  # not shared yet
    await share(client, "bob", "viewer")

    listed = {lst["id"]: lst for lst in (await bob.get("/api/lists")).json()}
    assert (listed[1]["owner"], listed[1]["role"]) == (ALICE, "viewer")
    assert (await bob.get(f"/api/todos/{todo['id']}")).json()["title"] == "alice's"
    assert [t["id"] for t in (await bob.get("/api/todos", params={"list_id": 1})).json()] == [
        todo["id"]
    ]
    refused = [
        await bob.post("/api/todos", json={"title": "x", "list_id": 1}),
        await bob.post("/api/todos", json=[{"title": "x", "list_id": 1}]),
        await bob.patch(f"/api/todos/{todo['id']}", json={"completed": True}),
        await bob.patch(f"/api/todos/{todo['id']}", json={"order": 5}),
        await bob.delete(f"/api/todos/{todo['id']}"),
        await bob.patch("/api/todos", params={"list_id": 1}, json={"completed": True}),
        await bob.delete("/api/todos", params={"list_id": 1}),
        await bob.patch("/api/lists/1", json={"name": "mine now"}),
        await bob.delete("/api/lists/1"),
        await bob.put("/api/lists/1/members/carol", json={"role": "editor"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused), [r.text for r in refused]
    assert all(r.json()["type"] == "urn:todoapp:problem:forbidden" for r in refused)
    # A bulk write without a filter passes over the viewer's lists.
    assert (await bob.patch("/api/todos", json={"completed": True})).json() == {"updated": 0}
    await bob.delete("/api/todos")
    assert (await client.get(f"/api/todos/{todo['id']}")).json() == todo  # unchanged


async def test_an_editor_changes_todos_and_the_name_but_not_the_sharing(
    client: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    await share(client, "bob", "viewer")
    etag_as_viewer = (await bob.get("/api/lists/1")).headers["etag"]
    await share(client, "bob", "editor")
    as_editor = await bob.get("/api/lists/1", headers={"If-None-Match": etag_as_viewer})
    assert as_editor.status_code == 200  # the role is part of what it shows
    assert as_editor.json()["role"] == "editor"

    todo = await bob.post("/api/todos", json={"title": "bob's", "list_id": 1})
    assert todo.status_code == 201
    assert (await bob.patch(todo.json()["url"], json={"completed": True})).status_code == 200
    assert (await bob.patch("/api/lists/1", json={"name": "Shared"})).status_code == 200
    assert (await client.get("/api/lists/1")).json()["name"] == "Shared"
    # A todo moves between lists bob may change.
    own = (await bob.post("/api/lists", json={"name": "Bob's"})).json()
    moved = await bob.patch(todo.json()["url"], json={"list_id": own["id"]})
    assert moved.status_code == 200
    assert (await bob.delete("/api/lists/1")).status_code == 403
    assert (await bob.put("/api/lists/1/members/alice", json={"role": "viewer"})).status_code == 403
    assert (await bob.delete("/api/lists/1/members/alice")).status_code == 403


async def test_members_listed_changed_and_leaving(
    client: httpx.AsyncClient, bob: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await share(client, "bob", "editor")
    members = (await bob.get("/api/lists/1/members")).json()
    assert members == [{"username": ALICE, "role": "owner"}, {"username": "bob", "role": "editor"}]
    unknown = await client.put("/api/lists/1/members/nobody", json={"role": "viewer"})
    assert unknown.status_code == 404
    to_self = await client.put("/api/lists/1/members/alice", json={"role": "viewer"})
    assert to_self.status_code == 422
    bad_role = await client.put("/api/lists/1/members/bob", json={"role": "owner"})
    assert bad_role.status_code == 422

    assert (await bob.delete("/api/lists/1/members/bob")).status_code == 204  # bob leaves
    assert (await bob.get("/api/lists/1")).status_code == 404
    assert (await client.delete("/api/lists/1/members/bob")).status_code == 404  # gone already
    await share(client, "bob", "viewer")
    assert (await client.delete("/api/lists/1/members/bob")).status_code == 204  # removed
    assert (await bob.get("/api/todos", params={"list_id": 1})).json() == []


async def test_owners_may_reuse_each_others_list_names(
    client: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    assert (await client.post("/api/lists", json={"name": "Groceries"})).status_code == 201
    assert (await bob.post("/api/lists", json={"name": "Groceries"})).status_code == 201
    again = await bob.post("/api/lists", json={"name": "Groceries"})
    assert again.status_code == 409
    assert again.json()["errors"][0]["pointer"] == "/name"
