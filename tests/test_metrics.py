"""GET /metrics: Prometheus text with request counts and latency by route, in-flight
requests and the database pool."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
from sqlalchemy import text

from backend.runtime.config import Settings

from .servers import app_client, samples, until

TODO_ROUTE = "/api/todos/<id:todo_id>"


async def scrape(client: httpx.AsyncClient) -> dict:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def count(metrics: dict, method: str, route: str, status: str) -> float:
    key = (
        "todoapp_http_requests_total",
        (("method", method), ("route", route), ("status", status)),
    )
    return metrics.get(key, 0.0)


def latency_count(metrics: dict, method: str, route: str) -> float:
    key = ("todoapp_http_request_duration_seconds_count", (("method", method), ("route", route)))
    return metrics.get(key, 0.0)


async def test_requests_are_counted_by_url_rule_and_status(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    created = (await client.post("/api/todos", json={"title": "counted"})).json()
    assert (await client.get(f"/api/todos/{created['id']}")).status_code == 200
    assert (await client.get("/api/todos/999999")).status_code == 404
    assert (await client.get("/no/such/path")).status_code == 404
    after = await scrape(client)

    # The rule, not the raw path: one series for every id.
    for method, route, status in [
        ("POST", "/api/todos", "201"),
        ("GET", TODO_ROUTE, "200"),
        ("GET", TODO_ROUTE, "404"),
        ("GET", "<unmatched>", "404"),
    ]:
        assert count(after, method, route, status) == count(before, method, route, status) + 1
    assert not any("999999" in str(labels) for _, labels in after)
    assert latency_count(after, "GET", TODO_ROUTE) == latency_count(before, "GET", TODO_ROUTE) + 2
    # The scrape itself is in flight while it renders.
    assert after[("todoapp_http_requests_in_flight", ())] >= 1
    assert after[("todoapp_db_pool_size", ())] >= 10


async def test_pool_metrics_show_checkouts_waiters_and_timeouts(
    settings: Settings, clean_db: object
) -> None:
    tiny = replace(settings, db_pool_size=1, db_pool_timeout=30.0)
    async with app_client(tiny) as (app, client):
        engine = app.extensions["db_engine"]
        async with engine.connect() as held:  # the pool's only connection
            await held.execute(text("SELECT 1"))
            metrics = await scrape(client)
            assert metrics[("todoapp_db_pool_checked_out", ())] == 1
            assert metrics[("todoapp_db_pool_waiting", ())] == 0

            waiting = asyncio.create_task(client.get("/api/todos?limit=1"))

            async def parked() -> bool:
                return (await scrape(client))[("todoapp_db_pool_waiting", ())] == 1

            await until(parked, "a request waiting for the pool")
        # Released: the parked request gets the connection and completes.
        assert (await waiting).status_code == 200
        metrics = await scrape(client)
        assert metrics[("todoapp_db_pool_waiting", ())] == 0
        assert metrics[("todoapp_db_pool_checked_out", ())] == 0


async def test_pool_timeout_is_a_503_with_retry_after_and_counted(
    settings: Settings, clean_db: object
) -> None:
    tiny = replace(settings, db_pool_size=1, db_pool_timeout=0.2)
    async with app_client(tiny) as (app, client):
        before = (await scrape(client)).get(("todoapp_db_pool_timeouts_total", ()), 0.0)
        async with app.extensions["db_engine"].connect() as held:
            await held.execute(text("SELECT 1"))
            response = await client.get("/api/todos?limit=1")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 503
        after = await scrape(client)
        assert after[("todoapp_db_pool_timeouts_total", ())] == before + 1
        assert count(after, "GET", "/api/todos", "503") >= 1
        # and the pool works again
        assert (await client.get("/api/todos?limit=1")).status_code == 200
