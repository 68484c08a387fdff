"""The TypeAdapter cache behind quart-schema: one adapter per model, same validation."""

from __future__ import annotations

import httpx
import quart_schema.conversion as conversion

from backend.schemas import TodoCreate


async def test_adapters_are_cached_and_validation_unchanged(client: httpx.AsyncClient) -> None:
    assert conversion.TypeAdapter(TodoCreate) is conversion.TypeAdapter(TodoCreate)
    bad = await client.post("/api/todos", json={"title": "x", "completed": "yes"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/completed"
    assert (await client.post("/api/todos", json={"title": "ok"})).status_code == 201
