"""GET /metrics: Prometheus text with request counts and latency by route, in-flight
requests and the database pool."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import httpx
from sqlalchemy import text

from backend.runtime.config import Settings

from . import pg
from .servers import app_client, samples, todoapp, until

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


async def test_a_client_that_went_away_is_counted_as_499_not_500(
    database_url: str, clean_db: object
) -> None:
    """On the production server: a PATCH waits on a row lock, its client hangs up, granian
    cancels the request. No response was sent, so it is neither a 500 nor a success."""
    with todoapp(database_url) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            todo = (await http.post("/api/todos", json={"title": "locked"})).json()
            before = await scrape(http)
            db = await asyncpg.connect(pg.plain(database_url))
            try:
                async with db.transaction():
                    await db.execute("SELECT 1 FROM todos WHERE id = $1 FOR UPDATE", todo["id"])
                    port = int(url.rsplit(":", 1)[1])
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    body = b'{"completed": true}'
                    writer.write(
                        b"PATCH /api/todos/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                        % (todo["id"], len(body), body)
                    )
                    await writer.drain()
                    await until(lambda: lock_waiters(db), "the PATCH waits on the row lock")
                    writer.close()  # the client goes away

                    async def counted() -> bool:
                        return count(await scrape(http), "PATCH", TODO_ROUTE, "499") > 0

                    await until(counted, "the abandoned PATCH is counted")
            finally:
                await db.close()
            after = await scrape(http)
    assert count(after, "PATCH", TODO_ROUTE, "499") == count(before, "PATCH", TODO_ROUTE, "499") + 1
    assert count(after, "PATCH", TODO_ROUTE, "500") == count(before, "PATCH", TODO_ROUTE, "500")


async def lock_waiters(db: asyncpg.Connection) -> bool:
    waiting = await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'todoapp' "
        "AND wait_event_type = 'Lock'"
    )
    return bool(waiting)
