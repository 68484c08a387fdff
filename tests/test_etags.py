"""Optimistic concurrency: versions, strong ETags, If-None-Match → 304, If-Match → 412."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx


async def test_versions_and_etags_follow_every_change(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/todos", json={"title": "v"})
    todo = created.json()
    assert todo["version"] == 1
    assert created.headers["etag"] == '"1"'
    got = await client.get(todo["url"])
    assert got.headers["etag"] == '"1"'
    patched = await client.patch(todo["url"], json={"completed": True})
    assert patched.json()["version"] == 2
    assert patched.headers["etag"] == '"2"'


async def test_if_none_match_gives_304(client: httpx.AsyncClient) -> None:
    todo = (await client.post("/api/todos", json={"title": "cached"})).json()
    response = await client.get(todo["url"], headers={"If-None-Match": '"1"'})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"1"'
    await client.patch(todo["url"], json={"title": "changed"})
    response = await client.get(todo["url"], headers={"If-None-Match": '"1"'})
    assert response.status_code == 200
    assert response.json()["title"] == "changed"


async def test_if_match_guards_patch_and_delete(client: httpx.AsyncClient) -> None:
    todo = (await client.post("/api/todos", json={"title": "guarded"})).json()
    ok = await client.patch(todo["url"], json={"title": "mine"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200

    stale = await client.patch(todo["url"], json={"title": "stale"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.headers["etag"] == '"2"'
    assert stale.json()["current"]["title"] == "mine"
    assert stale.json()["current"]["version"] == 2

    # A move (order) and an empty PATCH are conditional too.
    assert (
        await client.patch(todo["url"], json={"order": 3}, headers={"If-Match": '"1"'})
    ).status_code == 412
    assert (
        await client.patch(todo["url"], json={}, headers={"If-Match": '"1"'})
    ).status_code == 412
    # Weak tags never match a strong comparison.
    assert (
        await client.patch(todo["url"], json={"title": "w"}, headers={"If-Match": 'W/"2"'})
    ).status_code == 412

    assert (await client.delete(todo["url"], headers={"If-Match": '"1"'})).status_code == 412
    assert (await client.get(todo["url"])).json()["title"] == "mine"
    assert (await client.delete(todo["url"], headers={"If-Match": '"7", "2"'})).status_code == 204
    assert (await client.delete(todo["url"], headers={"If-Match": '"2"'})).status_code == 404


async def test_without_if_match_the_last_writer_wins(client: httpx.AsyncClient) -> None:
    todo = (await client.post("/api/todos", json={"title": "a"})).json()
    await client.patch(todo["url"], json={"title": "b"})
    assert (await client.patch(todo["url"], json={"title": "c"})).json()["title"] == "c"


async def test_list_etags_and_if_match(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/lists", json={"name": "Home"})
    lst = created.json()
    tag = created.headers["etag"]
    assert (await client.get(lst["url"], headers={"If-None-Match": tag})).status_code == 304
    # A new todo changes the counts, hence the representation and its ETag...
    await client.post("/api/todos", json={"title": "x", "list_id": lst["id"]})
    fresh = await client.get(lst["url"], headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != tag
    # ...but not the list's own version: renaming with the older tag still works.
    renamed = await client.patch(lst["url"], json={"name": "House"}, headers={"If-Match": tag})
    assert renamed.status_code == 200
    assert renamed.json()["version"] == 2
    stale = await client.patch(lst["url"], json={"name": "Flat"}, headers={"If-Match": tag})
    assert stale.status_code == 412
    assert stale.json()["current"]["name"] == "House"
    assert (await client.delete(lst["url"], headers={"If-Match": tag})).status_code == 412
    good = renamed.headers["etag"]
    assert (await client.delete(lst["url"], headers={"If-Match": good})).status_code == 204


async def test_50_clients_racing_with_one_etag_exactly_one_wins(
    live_client: httpx.AsyncClient,
) -> None:
    todo = (await live_client.post("/api/todos", json={"title": "contested"})).json()
    tag = (await live_client.get(todo["url"])).headers["etag"]

    async def attempt(n: int) -> tuple[int, str]:
        response = await live_client.patch(
            todo["url"], json={"title": f"client {n}"}, headers={"If-Match": tag}
        )
        return response.status_code, response.json()["title"] if response.status_code == 200 else ""

    results = await asyncio.gather(*(attempt(n) for n in range(50)))
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 412: 49}
    winner = next(title for status, title in results if status == 200)
    final = (await live_client.get(todo["url"])).json()
    assert final["title"] == winner
    assert final["version"] == 2
    print(f"\nETag race: 50 clients, 1 winner, {statuses[412]} conflicts (412), final v2")
