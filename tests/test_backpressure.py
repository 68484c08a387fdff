"""Backpressure, one guard at a time: the in-flight cap and the request deadline answer
503 + Retry-After (the pool timeout is in test_metrics.py), and probes stay exempt."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy import text

from backend.runtime.config import Settings

from .servers import app_client, until


async def test_requests_beyond_the_in_flight_cap_get_503(
    settings: Settings, clean_db: object
) -> None:
    capped = replace(settings, db_pool_size=1, db_pool_timeout=30.0, max_in_flight=1)
    async with app_client(capped) as (app, client):
        limiter = app.extensions["in_flight_limiter"]
        async with app.extensions["db_engine"].connect() as held:
            await held.execute(text("SELECT 1"))
            # The first request takes the only slot and parks in the pool.
            first = asyncio.create_task(client.get("/api/todos?limit=1"))
            await until(lambda: limiter.in_flight == 1, "the first request in flight")

            refused = await client.post("/api/todos", json={"title": "refused"})
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["detail"].startswith("The server is at its limit")
            # Probes and scrapes are exempt: they must answer during overload.
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/metrics")).status_code == 200
        assert (await first).status_code == 200
        assert limiter.in_flight == 0
        assert (await client.post("/api/todos", json={"title": "accepted"})).status_code == 201
    async with clean_db.connect() as conn:  # type: ignore[attr-defined]
        titles = (await conn.execute(text("SELECT title FROM todos"))).scalars().all()
    assert titles == ["accepted"]  # the refused one never reached the database


async def test_a_request_past_its_deadline_gets_503(settings: Settings, clean_db: object) -> None:
    slow = replace(settings, db_pool_size=1, db_pool_timeout=30.0, request_timeout=0.3)
    async with app_client(slow) as (app, client):
        async with app.extensions["db_engine"].connect() as held:
            await held.execute(text("SELECT 1"))
            # Stuck behind the held connection for longer than the deadline.
            response = await client.get("/api/todos?limit=1")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["detail"] == "The request took too long; retry shortly."
        # The cancelled request left no connection behind.
        assert app.extensions["db_engine"].sync_engine.pool.checkedout() == 0
        assert (await client.get("/api/todos?limit=1")).status_code == 200
