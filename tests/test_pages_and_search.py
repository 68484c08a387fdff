"""Keyset pages with Link headers, sorting, counting and full-text search."""

from __future__ import annotations

import asyncio
import re

import httpx


async def make(client: httpx.AsyncClient, titles: list[str], **fields: object) -> list[dict]:
    response = await client.post("/api/todos", json=[{"title": t, **fields} for t in titles])
    assert response.status_code == 201, response.text
    return response.json()


def next_link(response: httpx.Response) -> str | None:
    match = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers.get("link", ""))
    return match.group(1) if match else None


async def pages(client: httpx.AsyncClient, url: str) -> list[list[dict]]:
    result = []
    while url:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        result.append(response.json())
        url = next_link(response)
    return result


async def test_link_header_walks_every_page_once(client: httpx.AsyncClient) -> None:
    created = await make(client, [f"t{i}" for i in range(25)])
    walked = await pages(client, "/api/todos?limit=10")
    assert [len(p) for p in walked] == [10, 10, 5]
    assert [t["id"] for p in walked for t in p] == [t["id"] for t in created]
    exact = await pages(client, "/api/todos?limit=5&list_id=1")
    assert [len(p) for p in exact] == [5, 5, 5, 5, 5]  # no empty page at the end


async def test_every_sort_pages_in_order(client: httpx.AsyncClient) -> None:
    created = await make(client, [f"t{i}" for i in range(7)])
    # Touch a few so updated_at differs from created_at order.
    for todo in created[:3]:
        await client.patch(todo["url"], json={"completed": True})
    for sort in ("order", "-order", "created_at", "-created_at", "updated_at", "-updated_at"):
        field = sort.lstrip("-")
        everything = (await client.get("/api/todos", params={"sort": sort})).json()
        key = [(t[field], t["id"]) for t in everything]
        assert key == sorted(key, reverse=sort.startswith("-")), sort
        walked = await pages(client, f"/api/todos?limit=3&sort={sort}")
        assert [t["id"] for p in walked for t in p] == [t["id"] for t in everything], sort


async def test_pages_stay_correct_while_others_insert_and_delete(
    live_client: httpx.AsyncClient,
) -> None:
    """Items that exist throughout appear exactly once while others are created and deleted
    between pages. (Creating at an explicit `order` shifts the todos after it: that is a
    move of those items, and keyset pages follow the new order.)"""
    stable = await make(live_client, [f"stable {i}" for i in range(60)])
    doomed = await make(live_client, [f"doomed {i}" for i in range(30)])
    stop = asyncio.Event()

    async def churn() -> int:
        changes = 0
        for todo in doomed:
            if stop.is_set():
                break
            await live_client.delete(todo["url"])
            await live_client.post("/api/todos", json={"title": f"new {changes}"})
            changes += 2
        return changes

    async def read_pages() -> list[int]:
        seen: list[int] = []
        url: str | None = "/api/todos?limit=7"
        while url:
            response = await live_client.get(url)
            seen += [t["id"] for t in response.json()]
            url = next_link(response)
        stop.set()
        return seen

    seen, changes = await asyncio.gather(read_pages(), churn())
    assert changes > 0
    stable_ids = {t["id"] for t in stable}
    assert sorted(i for i in seen if i in stable_ids) == sorted(stable_ids)
    assert len(seen) == len(set(seen)), "an item was repeated"


async def test_count_on_request(client: httpx.AsyncClient) -> None:
    await make(client, ["a", "b", "c"])
    await make(client, ["d"], completed=True)
    assert "x-total-count" not in (await client.get("/api/todos")).headers
    response = await client.get("/api/todos", params={"count": "true", "limit": 1})
    assert response.headers["x-total-count"] == "4"
    response = await client.get("/api/todos", params={"count": "true", "completed": "false"})
    assert response.headers["x-total-count"] == "3"
    lists = await client.get("/api/lists", params={"count": "true"})
    assert lists.headers["x-total-count"] == "1"


async def test_lists_are_paged_too(client: httpx.AsyncClient) -> None:
    for i in range(4):
        await client.post("/api/lists", json={"name": f"L{i}"})
    walked = await pages(client, "/api/lists?limit=2")
    assert [[lst["name"] for lst in p] for p in walked] == [["Inbox", "L0"], ["L1", "L2"], ["L3"]]


async def test_invalid_parameters_are_422_naming_them(client: httpx.AsyncClient) -> None:
    for params, name in [
        ({"sort": "title"}, "sort"),
        ({"sort": "random()"}, "sort"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": "many"}, "limit"),
        ({"count": "perhaps"}, "count"),
        ({"q": ""}, "q"),
        ({"colour": "red"}, "colour"),
    ]:
        response = await client.get("/api/todos", params=params)
        assert response.status_code == 422, params
        assert name in [e["parameter"] for e in response.json()["errors"]], params


async def test_a_cursor_only_fits_its_sort(client: httpx.AsyncClient) -> None:
    await make(client, ["a", "b", "c"])
    url = next_link(await client.get("/api/todos", params={"limit": 1, "sort": "-created_at"}))
    assert url is not None
    cursor = re.search(r"cursor=([^&]+)", url).group(1)  # type: ignore[union-attr]
    response = await client.get("/api/todos", params={"cursor": cursor, "sort": "order"})
    assert response.status_code == 422


async def test_full_text_search(client: httpx.AsyncClient) -> None:
    await make(
        client,
        [
            "Buy groceries for the week",
            "Call the plumber about the sink",
            "Grocery list: milk, eggs",
            "Write the quarterly report",
            "Report the broken sink to the landlord",
        ],
    )

    async def search(q: str) -> list[str]:
        response = await client.get("/api/todos", params={"q": q})
        assert response.status_code == 200, response.text
        return sorted(t["title"] for t in response.json())

    # Stemming: "groceries" and "grocery" find each other; prefixes find whole words.
    assert await search("groceries") == ["Buy groceries for the week", "Grocery list: milk, eggs"]
    assert await search("gro") == ["Buy groceries for the week", "Grocery list: milk, eggs"]
    assert await search("plumb") == ["Call the plumber about the sink"]
    # websearch syntax: a quoted phrase, "or", and -exclusion.
    assert await search('"quarterly report"') == ["Write the quarterly report"]
    assert await search("plumber or landlord") == [
        "Call the plumber about the sink",
        "Report the broken sink to the landlord",
    ]
    assert await search("sink -plumber") == ["Report the broken sink to the landlord"]
    assert await search("nothing-like-this") == []
    # Filters combine with search.
    assert await search("report") == [
        "Report the broken sink to the landlord",
        "Write the quarterly report",
    ]
