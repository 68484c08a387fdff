"""Idempotency-Key on POST: a retry replays the first answer and creates nothing."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def count_todos(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM todos"))).scalar_one()


async def test_retry_replays_the_original_response(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await client.post("/api/todos", json={"title": "once"}, headers=headers)
    assert first.status_code == 201
    again = await client.post("/api/todos", json={"title": "once"}, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await count_todos(clean_db) == 1
    # Key order and spacing do not make a body different.
    same = await client.post(
        "/api/todos",
        content=b'{ "title" :"once" }',
        headers={**headers, "content-type": "application/json"},
    )
    assert same.json() == first.json()


async def test_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    headers = {"Idempotency-Key": "k1"}
    assert (
        await client.post("/api/todos", json={"title": "a"}, headers=headers)
    ).status_code == 201
    other = await client.post("/api/todos", json={"title": "b"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == "urn:todoapp:problem:idempotency-key-reused"
    assert await count_todos(clean_db) == 1


async def test_keys_are_scoped_to_the_route(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "shared"}
    todo = await client.post("/api/todos", json={"title": "a"}, headers=headers)
    lst = await client.post("/api/lists", json={"name": "a"}, headers=headers)
    assert (todo.status_code, lst.status_code) == (201, 201)
    assert "list_id" in todo.json() and "active_count" in lst.json()


async def test_failed_requests_do_not_burn_the_key(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    headers = {"Idempotency-Key": "retry-after-fix"}
    bad = await client.post("/api/todos", json={"title": "x", "list_id": 999}, headers=headers)
    assert bad.status_code == 422
    again = await client.post("/api/todos", json={"title": "x", "list_id": 999}, headers=headers)
    assert again.status_code == 422  # refused again, not replayed: nothing was stored
    assert await count_todos(clean_db) == 0
    async with clean_db.connect() as conn:
        keys = (await conn.execute(text("SELECT count(*) FROM idempotency_keys"))).scalar_one()
    assert keys == 0


async def test_the_key_is_stored_with_the_todo(
    client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    await client.post("/api/todos", json={"title": "x"}, headers={"Idempotency-Key": "stored"})
    async with clean_db.connect() as conn:
        row = (
            await conn.execute(text("SELECT scope, status, location FROM idempotency_keys"))
        ).one()
    assert row.scope == "user:1 POST /api/todos"  # per actor, then per route
    assert row.status == 201
    assert row.location.endswith("/api/todos/1")


async def test_invalid_key_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/todos", json={"title": "x"}, headers={"Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 422


async def test_20_concurrent_retries_create_exactly_one_todo(
    live_client: httpx.AsyncClient, clean_db: AsyncEngine
) -> None:
    async def attempt() -> httpx.Response:
        return await live_client.post(
            "/api/todos", json={"title": "exactly once"}, headers={"Idempotency-Key": "burst"}
        )

    responses = await asyncio.gather(*(attempt() for _ in range(20)))
    assert Counter(r.status_code for r in responses) == {201: 20}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count_todos(clean_db) == 1
    replayed = sum(r.headers.get("idempotent-replayed") == "true" for r in responses)
    assert replayed == 19
    print(f"\nIdempotency: 20 concurrent retries, {replayed} replays, 1 row in todos")
